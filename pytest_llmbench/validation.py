"""Checking a settings block: typed access to a mapping, naming the full key of every problem.

One mechanism for every block the package reads (``config.yaml``'s sections, a model's ``sim:`` and
``llama_cpp:`` blocks, the simulator's profiles): a :class:`Reader` over the mapping at key path
``key`` raises :class:`ValidationError` ``(key, problem)``, e.g. ``sim.ttft_ms: must be >= 0, got
-1``. A null value counts as an absent one (the default applies). A message quotes a value through
:func:`short_repr`: at most :data:`MAX_VALUE_CHARS` characters, however large the value.

A base module: it imports nothing of the package, so every stage and ``servers/`` may use it. The
config stage's :class:`~pytest_llmbench.config.reader.ConfigError` adds the file.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NoReturn, TypeVar

__all__ = [
    "MAX_VALUE_CHARS", "Reader", "ValidationError", "join_key", "key_problem", "short_repr",
]  # fmt: skip

#: The most characters of a value an error message quotes (long strings keep both ends).
MAX_VALUE_CHARS = 200

T = TypeVar("T")

_KIND_NAMES: dict[type, str] = {
    bool: "true or false",
    int: "a whole number",
    float: "a number",
    str: "a string",
    list: "a list",
    dict: "a mapping",
    Mapping: "a mapping",
}


def short_repr(value: object, limit: int = MAX_VALUE_CHARS) -> str:
    """``repr(value)`` in at most ``limit`` characters.

    Built by :mod:`reprlib`, which looks at a few items per level and a few levels, so a value
    that would print as gigabytes (a YAML alias bomb shares its lists, it does not copy them)
    costs no more than a short one.
    """
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 1000:
        return f"a whole number of {int(math.log10(abs(value))) + 1} digits"
    shortener = reprlib.Repr()
    shortener.maxlevel = 4
    shortener.maxstring = shortener.maxother = shortener.maxlong = limit - 10
    shortener.maxlist = shortener.maxtuple = shortener.maxdict = shortener.maxset = 12
    text = shortener.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def key_problem(key: str) -> str | None:
    """Why an API ``key`` cannot go into an HTTP header (a pasted line break, most often)."""
    if "\n" in key or "\r" in key:
        return "holds a line break"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        return "holds a control character"
    if not key.isascii():
        return "holds a character that is not ASCII"
    return None


def join_key(prefix: str, name: str) -> str:
    """``prefix.name`` (``name`` alone without a prefix; ``prefix[0]`` for an index)."""
    if not prefix:
        return name
    return f"{prefix}{name}" if name.startswith("[") else f"{prefix}.{name}"


class ValidationError(ValueError):
    """A bad value: ``key: problem`` (``key`` is the full key path, empty for the whole block)."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(key, problem)
        self.key, self.problem = key, problem

    def __str__(self) -> str:
        return f"{self.key}: {self.problem}" if self.key else self.problem


def _kinds_text(kinds: tuple[type, ...]) -> str:
    names = [_KIND_NAMES.get(kind, kind.__name__) for kind in kinds]
    if {int, float} <= set(kinds):
        names = [n for n in names if n != _KIND_NAMES[int]]  # a number covers a whole number
    return " or ".join(dict.fromkeys(names))


def _fits_float(value: float) -> bool:
    """Whether ``float(value)`` works (an int may be too large for it)."""
    try:
        float(value)
    except OverflowError:
        return False
    return True


class Reader:
    """Typed access to the mapping ``data`` found at key path ``key``, naming keys in errors.

    Subclasses choose the exception (:meth:`error`); every other method raises through it.
    """

    def __init__(self, data: object, key: str = "") -> None:
        self.key = key
        if not isinstance(data, Mapping):
            raise self.error(key, f"must be a mapping, got {type(data).__name__}")
        self.data: Mapping[Any, Any] = data

    def error(self, key: str, problem: str) -> ValidationError:
        """The exception for ``problem`` at the full key path ``key``."""
        return ValidationError(key, problem)

    def sub(self, name: str) -> str:
        """The full key path of ``name`` in this mapping."""
        return join_key(self.key, name)

    def fail(self, name: str, problem: str) -> NoReturn:
        """Raise :meth:`error` for key ``name`` of this mapping (``""``: the mapping itself)."""
        raise self.error(self.sub(name) if name else self.key, problem)

    def check_keys(self, allowed: Iterable[str]) -> None:
        """Fail on the first key not in ``allowed``."""
        known = set(allowed)
        for name in self.data:
            if name not in known:
                shown = name if isinstance(name, str) else repr(name)
                if len(shown) > MAX_VALUE_CHARS:
                    shown = short_repr(name)
                self.fail(shown, f"unknown key (expected: {', '.join(sorted(known))})")

    def get(
        self,
        name: str,
        kind: type[T] | tuple[type, ...],
        default: T | None = None,
        required: bool = False,
    ) -> Any:
        """The value of ``name`` if it is of type ``kind``; ``default`` when absent or null."""
        if name not in self.data or self.data[name] is None:
            if required:
                self.fail(name, "missing required key")
            return default
        value = self.data[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            value = object()  # YAML's yes/no must not pass for a number or a string
        if not isinstance(value, kinds):
            self.fail(name, f"must be {_kinds_text(kinds)}, got {short_repr(self.data[name])}")
        return value

    def number(
        self,
        name: str,
        default: float | None,
        minimum: float | None = None,
        integer: bool = False,
        strict: bool = False,
    ) -> Any:
        """A finite number (a whole one if ``integer``) at least ``minimum`` (above it if
        ``strict``); ``default`` when absent or null."""
        relation = ">" if strict else ">="
        bound = "" if minimum is None else f" {relation} {minimum:g}"
        kind = "a whole number" if integer else "a number"
        value = self.data.get(name)
        if value is None:
            return default
        if (
            isinstance(value, bool)
            or not isinstance(value, int if integer else (int, float))
            or (isinstance(value, float) and not math.isfinite(value))
        ):
            self.fail(name, f"must be {kind}{bound}, got {short_repr(value)}")
        if not integer and not _fits_float(value):
            self.fail(name, f"must be {kind}{bound} and at most 1e308, got {short_repr(value)}")
        if minimum is not None and (value <= minimum if strict else value < minimum):
            self.fail(name, f"must be{bound}, got {short_repr(value)}")
        return value

    def text(self, name: str, default: str | None = None, required: bool = False) -> Any:
        """A string; with ``required``, a non-blank one."""
        value = self.get(name, str, default, required)
        if required and not str(value).strip():
            self.fail(name, "must not be empty")
        return value

    def choice(self, name: str, default: str | None, allowed: Sequence[str]) -> Any:
        """One of the strings ``allowed``; ``default`` when absent or null."""
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, str) or value not in allowed:
            names = [repr(a) for a in allowed]
            options = " or ".join(names) if len(names) == 2 else "one of " + ", ".join(names)
            self.fail(name, f"must be {options}, got {short_repr(value)}")
        return value
