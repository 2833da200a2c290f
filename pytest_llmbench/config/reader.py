"""The config stage's error and reader: :mod:`pytest_llmbench.validation`, naming the file too."""

from __future__ import annotations

from pathlib import Path

from ..validation import Reader, ValidationError

__all__ = ["ConfigError", "ConfigReader"]


class ConfigError(ValidationError):
    """A problem in the config file: ``file: key: problem``."""

    def __init__(self, path: Path, key: str, problem: str) -> None:
        super().__init__(key, problem)
        self.path = path
        self.args = (path, key, problem)

    def __str__(self) -> str:
        return f"{self.path}: {super().__str__()}"

    @classmethod
    def from_error(cls, path: Path, error: ValidationError) -> ConfigError:
        """The config error of a block's :class:`ValidationError` (its key is the full path)."""
        return cls(path, error.key, error.problem)


class ConfigReader(Reader):
    """Typed access to one mapping of the YAML document ``path``, naming keys in errors."""

    def __init__(self, path: Path, data: object, key: str) -> None:
        self.path = path
        super().__init__(data, key)

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.path, key, problem)
