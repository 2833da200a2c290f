"""Typed, key-naming access to the mappings of a YAML config (used by :mod:`.config`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["ConfigError", "Reader"]

T = TypeVar("T")


class ConfigError(Exception):
    """A problem in the config file: ``file: key: problem``."""

    def __init__(self, path: Path, key: str, problem: str) -> None:
        self.path, self.key, self.problem = path, key, problem
        where = f"{path}: {key}: " if key else f"{path}: "
        super().__init__(where + problem)


class Reader:
    """Typed access to one mapping of the YAML document, naming keys in errors."""

    def __init__(self, path: Path, data: object, key: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(path, key, f"must be a mapping, got {type(data).__name__}")
        self.path, self.data, self.key = path, data, key

    def sub(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def check_keys(self, allowed: set[str]) -> None:
        for name in self.data:
            if name not in allowed:
                expected = ", ".join(sorted(allowed))
                raise ConfigError(
                    self.path, self.sub(str(name)), f"unknown key (expected: {expected})"
                )

    def get(
        self,
        name: str,
        kind: type[T] | tuple[type, ...],
        default: T | None = None,
        required: bool = False,
    ) -> Any:
        if name not in self.data or self.data[name] is None:
            if required:
                raise ConfigError(self.path, self.sub(name), "missing required key")
            return default
        value = self.data[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds:
            value = object()  # YAML's yes/no must not pass for a number or a string
        if not isinstance(value, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise ConfigError(
                self.path, self.sub(name), f"must be {names}, got {self.data[name]!r}"
            )
        return value

    def number(
        self,
        name: str,
        default: float | None,
        minimum: float,
        integer: bool = False,
        strict: bool = False,
    ) -> Any:
        value = self.get(name, int if integer else (int, float), default)
        if value is not None and (value <= minimum if strict else value < minimum):
            relation = ">" if strict else ">="
            raise ConfigError(
                self.path, self.sub(name), f"must be {relation} {minimum}, got {value}"
            )
        return value

    def text(self, name: str, default: str | None = None, required: bool = False) -> Any:
        value = self.get(name, str, default, required)
        if required and not str(value).strip():
            raise ConfigError(self.path, self.sub(name), "must not be empty")
        return value
