"""The conversation's prompts: load and check a prompts file.

The built-in conversation (231 prompts in six tiers) ships inside the package,
``pytest_llmbench/data/lalm_conversation.json``; it is the default wherever the config lies. The
shape is ``{"schema_version": 1, "title", "tiers": [{"name", "first", "last"}], "prompts":
[{"number", "tier", "text"}]}`` (``pytest_llmbench/data/lalm_conversation.schema.json``). A
malformed file is a :class:`~.config.ConfigError` naming the file, the key and the problem.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
from dataclasses import dataclass
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

from ..validation import short_repr
from .reader import ConfigError
from .spec import BenchConfig

__all__ = [
    "BUILTIN_PROMPTS",
    "Prompt",
    "PromptSet",
    "builtin_prompts",
    "load_prompts",
    "resolve_prompts",
]

#: The built-in conversation's file name in the package's ``data/`` folder.
BUILTIN_PROMPTS = "lalm_conversation.json"


@dataclass(frozen=True)
class Prompt:
    number: int
    tier: str
    text: str


@dataclass(frozen=True)
class PromptSet:
    path: Path
    title: str
    prompts: tuple[Prompt, ...]

    def first(self, turns: int | None) -> tuple[Prompt, ...]:
        """The first ``turns`` prompts (all when ``None`` or 0)."""
        return self.prompts[:turns] if turns else self.prompts


def _tiers(path: Path, data: Any) -> list[tuple[str, int, int]]:
    if not isinstance(data, list) or not data:
        raise ConfigError(path, "tiers", "must be a non-empty list of {name, first, last}")
    tiers = []
    for index, tier in enumerate(data):
        key = f"tiers[{index}]"
        if not isinstance(tier, dict) or set(tier) != {"name", "first", "last"}:
            raise ConfigError(path, key, "must have exactly the keys name, first, last")
        name, first, last = tier["name"], tier["first"], tier["last"]
        if not isinstance(name, str) or not name:
            raise ConfigError(path, f"{key}.name", "must be a non-empty string")
        if not (isinstance(first, int) and isinstance(last, int)) or not 1 <= first <= last:
            raise ConfigError(
                path,
                key,
                f"first and last must be whole numbers, 1 <= first <= last, got "
                f"{short_repr(first)}..{short_repr(last)}",
            )
        tiers.append((name, first, last))
    return tiers


def load_prompts(path: Path) -> PromptSet:
    """Read and check a prompts file; numbers run 1..N in order, each within its tier's range."""
    if path.is_dir():
        raise ConfigError(path, "", "is a directory, not a prompts file (pass --llm-prompts FILE)")
    if not path.is_file():
        raise ConfigError(path, "", "prompts file not found (pass --llm-prompts PATH)")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read: {exc.strerror or exc}") from None
    except RecursionError:
        raise ConfigError(path, "", "invalid JSON: nested too deeply") from None
    except ValueError as exc:
        raise ConfigError(path, "", f"invalid JSON: {str(exc).split(';')[0]}") from None
    if not isinstance(document, dict):
        raise ConfigError(path, "", "must be a JSON object with 'tiers' and 'prompts'")
    tiers = _tiers(path, document.get("tiers"))
    tier_of = {name: (first, last) for name, first, last in tiers}
    raw = document.get("prompts")
    if not isinstance(raw, list) or not raw:
        raise ConfigError(path, "prompts", "must be a non-empty list of {number, tier, text}")
    prompts = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        key = f"prompts[{index}]"
        if not isinstance(item, dict) or set(item) != {"number", "tier", "text"}:
            raise ConfigError(path, key, "must have exactly the keys number, tier, text")
        number, tier, text = item["number"], item["tier"], item["text"]
        if number != index + 1:
            raise ConfigError(
                path,
                f"{key}.number",
                f"must be {index + 1} (numbers run 1..N in order), got {short_repr(number)}",
            )
        if not isinstance(tier, str) or tier not in tier_of:
            raise ConfigError(
                path,
                f"{key}.tier",
                f"unknown tier {short_repr(tier)} (have: {', '.join(tier_of)})",
            )
        first, last = tier_of[tier]
        if not first <= number <= last:
            raise ConfigError(
                path, f"{key}.tier", f"prompt {number} is outside {tier} ({first}-{last})"
            )
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(path, f"{key}.text", "must be a non-empty string")
        if text in seen:
            raise ConfigError(path, f"{key}.text", "repeats an earlier prompt")
        seen.add(text)
        prompts.append(Prompt(number, tier, text))
    title = document.get("title")
    return PromptSet(path, title if isinstance(title, str) else path.stem, tuple(prompts))


@functools.lru_cache(maxsize=1)
def builtin_prompts() -> Path:
    """The built-in conversation's file, found through :mod:`importlib.resources`."""
    resource = files("pytest_llmbench") / "data" / BUILTIN_PROMPTS
    if isinstance(resource, Path):
        return resource
    # Not on the file system (a zipped install): a temporary copy, kept for the process.
    stack = contextlib.ExitStack()
    atexit.register(stack.close)
    return stack.enter_context(as_file(resource))


def resolve_prompts(config: BenchConfig) -> Path:
    """The prompts file the config names (``conversation.prompts``, relative to the config's
    folder), else the built-in conversation."""
    if config.conversation.prompts is None:
        return builtin_prompts()
    path = (config.path.parent / config.conversation.prompts).resolve()
    if not path.is_file():
        raise ConfigError(
            config.path,
            "conversation.prompts",
            f"prompts file not found: {path} (leave the key out to run the built-in 231-prompt "
            "conversation)",
        )
    return path
