"""The ``.env`` beside a project's config: the API keys the config names, read and written.

The plugin reads a provider's key from the environment, else from this file
(:func:`~..matrix.build_targets`). The dashboard lists the variables the config names and
whether each is set, and sets, replaces or deletes a value in the file:

- a value never leaves this module whole: :func:`hint` gives at most its last four characters,
  and only of a value long enough (:data:`HINT_MIN_CHARS`) that four say little;
- a write keeps every other line as it was (comments, other variables, their order) and
  replaces the file atomically (a temporary file beside it, mode 0600, flushed to disk, then
  renamed over it): a crash leaves the old file or the new one, never half of one, and the
  file is readable by its owner only;
- a value an HTTP header cannot carry is refused with the plugin's own words
  (:func:`~..validation.key_problem`), and only a variable the config names can be written.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path

from ..validation import key_problem

__all__ = ["HINT_MIN_CHARS", "EnvFile", "EnvFileError", "hint"]

#: Values shorter than this show no characters at all.
HINT_MIN_CHARS = 12
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class EnvFileError(ValueError):
    """A write the dashboard refuses: the message names the variable, never the value."""


def hint(value: str | None) -> str | None:
    """What may be shown of a value: ``…WXYZ`` (its last four characters) or nothing."""
    if not value or len(value) < HINT_MIN_CHARS:
        return None
    return "…" + value[-4:]


def _defines(line: str, name: str) -> bool:
    """Whether ``line`` sets ``name`` (``NAME=…`` or ``export NAME=…``)."""
    return re.match(rf"^\s*(?:export\s+)?{re.escape(name)}\s*=", line) is not None


def _quoted(value: str) -> str:
    """The value as python-dotenv reads it back unchanged: single quotes are literal; a value
    holding one goes in double quotes with ``\\`` and ``"`` escaped."""
    if "'" not in value:
        return f"'{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


class EnvFile:
    """The ``.env`` at ``path`` (it need not exist yet)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def values(self) -> dict[str, str]:
        """Every variable the file sets (the file read as the plugin reads it)."""
        if not self.path.is_file():
            return {}
        from dotenv import dotenv_values

        return {k: v for k, v in dotenv_values(self.path).items() if v is not None}

    def set(self, name: str, value: str, allowed: Iterable[str]) -> None:
        """Set (or replace) ``name`` to ``value``; :class:`EnvFileError` for a name the config
        does not name or a value no HTTP header can carry."""
        self._check_name(name, allowed)
        if not value:
            raise EnvFileError(f"{name}: an empty value (delete the variable instead)")
        problem = key_problem(value)
        if problem is not None:
            raise EnvFileError(
                f"{name}: the value {problem}; an API key is one line of printable text "
                "(the value is not shown)"
            )
        lines = [line for line in self._lines() if not _defines(line, name)]
        lines.append(f"{name}={_quoted(value)}\n")
        self._write(lines)

    def delete(self, name: str, allowed: Iterable[str]) -> bool:
        """Remove ``name`` from the file; whether it was there."""
        self._check_name(name, allowed)
        lines = self._lines()
        kept = [line for line in lines if not _defines(line, name)]
        if len(kept) == len(lines):
            return False
        self._write(kept)
        return True

    def _check_name(self, name: str, allowed: Iterable[str]) -> None:
        if not _NAME.match(name):
            raise EnvFileError(f"{name!r} is not a variable name")
        if name not in set(allowed):
            raise EnvFileError(f"{name}: the config names no such key variable (api_key_env)")

    def _lines(self) -> list[str]:
        if not self.path.is_file():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        return lines

    def _write(self, lines: list[str]) -> None:
        """Replace the file atomically, readable by its owner only."""
        folder = self.path.parent
        fd, temporary = tempfile.mkstemp(prefix=".env.", suffix=".tmp", dir=folder)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.writelines(lines)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
