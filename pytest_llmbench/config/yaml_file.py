"""``config.yaml`` as plain data, with what a careless (or hostile) file brings refused up front.

* The path: a directory, a missing file, something that is no regular file, an unreadable or an
  absurdly large file is named as such.
* The encoding: UTF-8, with or without a byte order mark. UTF-16 and UTF-32 are recognised and
  named; any other byte that is not UTF-8 is located by line and column.
* Keys: PyYAML's safe loader keeps the last of two equal keys in a mapping, which hides a typo or
  a pasted block; here a key given twice is refused with both lines. A merge key (``<<: *base``)
  overridden by an explicit key is no duplicate.
* Aliases: allowed, since an anchor is the YAML way to share a ``params:`` or ``sim:`` block
  between models, but bounded. The document as its aliases expand it may hold at most
  :data:`MAX_NODES` values, and an alias may not refer to a value that contains it. A few lines
  of anchors can expand to billions of values (an alias bomb): PyYAML shares them, but quoting
  one in an error message, or sending it as request parameters, would not. The bound is checked
  on the composed nodes before anything is built, in time proportional to the file.
* Depth: nesting too deep for the parser's recursion is refused, not a traceback.

Every problem is a :class:`~.reader.ConfigError` naming the file.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..validation import short_repr
from .reader import ConfigError

if TYPE_CHECKING:
    import yaml

__all__ = ["MAX_CONFIG_BYTES", "MAX_NODES", "read_yaml"]

#: The most values a config may hold with every alias expanded (a large real config has a few
#: thousand: 50 providers of 20 models of 10 keys is 10,000).
MAX_NODES = 100_000
#: The largest config file read (a real one is a few KB).
MAX_CONFIG_BYTES = 10 * 1024 * 1024

_BYTE_ORDER_MARKS = (
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xfe\xff", "UTF-16"),
    (b"\xff\xfe", "UTF-16"),
)


def _read_bytes(path: Path) -> bytes:
    if path.is_dir():
        raise ConfigError(path, "", "is a directory, not a config file (pass --llm-config FILE)")
    if not path.exists():
        raise ConfigError(path, "", "file not found (pass --llm-config PATH or create config.yaml)")
    if not path.is_file():
        raise ConfigError(path, "", "is not a regular file (pass --llm-config FILE)")
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(path, "", f"is larger than {MAX_CONFIG_BYTES // 2**20} MB")
        return path.read_bytes()
    except OSError as error:
        raise ConfigError(path, "", f"cannot read: {error.strerror or error}") from None


def _decode(path: Path, data: bytes) -> str:
    for mark, name in _BYTE_ORDER_MARKS:
        if data.startswith(mark):
            raise ConfigError(
                path, "", f"the file is {name} (a {name} byte order mark); save it as UTF-8"
            )
    if b"\x00" in data:
        raise ConfigError(
            path, "", "the file holds NUL bytes (UTF-16 or UTF-32?); save it as UTF-8"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - data.rfind(b"\n", 0, error.start)
        raise ConfigError(
            path,
            "",
            f"not UTF-8 text: line {line}, column {column}: byte 0x{data[error.start]:02x}; "
            "save it as UTF-8",
        ) from None


def _problem(node: yaml.Node, problem: str) -> yaml.constructor.ConstructorError:
    import yaml

    return yaml.constructor.ConstructorError(None, None, problem, node.start_mark)


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a document whose aliases expand it beyond :data:`MAX_NODES` values, or refer to a
    value that contains them. Aliases are the same node object, so each node is counted once."""
    import yaml

    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in open_nodes:
            raise _problem(node, "an alias refers to the value that contains it")
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            return 1
        open_nodes.add(id(node))
        total = 1
        for child in children:
            total += size(child)
            if total > MAX_NODES:
                raise _problem(
                    node,
                    f"the document holds more than {MAX_NODES:,} values with its aliases "
                    "expanded (an alias bomb?); share fewer values",
                )
        open_nodes.discard(id(node))
        sizes[id(node)] = total
        return total

    size(root)


def _check_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> None:
    import yaml

    first: dict[Any, yaml.Mark] = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node)
        try:
            mark = first.setdefault(key, key_node.start_mark)
        except TypeError:  # unhashable: PyYAML refuses it itself
            continue
        if mark is not key_node.start_mark:
            raise _problem(
                key_node, f"duplicate key {short_repr(key)} (first at line {mark.line + 1})"
            )


@functools.lru_cache(maxsize=1)
def _loader() -> type[yaml.SafeLoader]:
    import yaml

    class StrictLoader(yaml.SafeLoader):
        """The safe loader, refusing duplicate keys and aliases that expand beyond the bound."""

        def construct_document(self, node: yaml.Node) -> Any:
            _check_expansion(node)
            return super().construct_document(node)

        def construct_mapping(
            self, node: yaml.MappingNode, deep: bool = False
        ) -> dict[Hashable, Any]:
            _check_duplicates(self, node)
            return super().construct_mapping(node, deep)

    return StrictLoader


def read_yaml(path: Path) -> Any:
    """The YAML document in ``path`` as plain data; raises :class:`ConfigError`."""
    import yaml

    text = _decode(path, _read_bytes(path))
    try:
        return yaml.load(text, Loader=_loader())  # a SafeLoader: plain data only
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(path, "", f"invalid YAML: {where}{problem}") from None
    except RecursionError:
        raise ConfigError(path, "", "invalid YAML: nested too deeply") from None
    except ValueError as error:  # a number with more digits than Python reads
        reason = str(error).split(";")[0]
        raise ConfigError(path, "", f"invalid YAML: a value cannot be read ({reason})") from None
