"""Providers and models of a project's config, added, edited and removed from the dashboard.

The file is read and written with ruamel.yaml's round trip, so its comments, key order and
layout survive an edit. Every change is checked by the plugin's own loader before it lands: the
changed document is written to a temporary file beside the config and read with
:func:`~..config.load_config`; a problem is a :class:`ConfigEditError` with the loader's message
(naming the config's own path, the key and the problem, exactly as the command line says it) and
the config is left untouched; a valid one replaces the config atomically (``os.replace``).
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config import ConfigError, load_config

__all__ = ["ConfigEditError", "ConfigEditor"]


class ConfigEditError(ValueError):
    """A change the dashboard refused (the plugin's message, or why the change makes no sense)."""


def _yaml() -> Any:
    from ruamel.yaml import YAML

    yaml = YAML()  # round trip: comments, order and quoting kept
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


class ConfigEditor:
    """Edits the config at ``path`` (see the module)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> Any:
        document = _yaml().load(self.path.read_text(encoding="utf-8"))
        if document is None or not isinstance(document.get("providers"), dict):
            raise ConfigEditError(f"{self.path}: providers: the config lists no providers")
        return document

    def _providers(self, document: Any) -> Any:
        return document["providers"]

    def _models(self, document: Any, provider: str) -> Any:
        providers = self._providers(document)
        if provider not in providers:
            raise ConfigEditError(f"{self.path}: providers.{provider}: no such provider")
        models = providers[provider].get("models")
        if not isinstance(models, list):
            raise ConfigEditError(f"{self.path}: providers.{provider}.models: not a list")
        return models

    def add_provider(self, name: str, fields: Mapping[str, Any]) -> None:
        document = self._load()
        providers = self._providers(document)
        if not name or name in providers:
            raise ConfigEditError(f"{self.path}: providers.{name}: already in the config")
        providers[name] = {**fields, "models": list(fields.get("models") or [])}
        self._save(document)

    def edit_provider(self, name: str, fields: Mapping[str, Any]) -> None:
        """Set (a value) or remove (``None``) each of ``fields`` of provider ``name``."""
        document = self._load()
        self._models(document, name)  # it exists
        entry = self._providers(document)[name]
        for key, value in fields.items():
            if key == "models":
                raise ConfigEditError("models: edit them one by one")
            if value is None:
                entry.pop(key, None)
            else:
                entry[key] = value
        self._save(document)

    def remove_provider(self, name: str) -> None:
        document = self._load()
        self._models(document, name)
        del self._providers(document)[name]
        self._save(document)

    def add_model(self, provider: str, fields: Mapping[str, Any]) -> None:
        document = self._load()
        models = self._models(document, provider)
        ident = fields.get("id")
        if any(isinstance(m, dict) and m.get("id") == ident for m in models):
            raise ConfigEditError(f"{self.path}: providers.{provider}.models: {ident} is there")
        models.append(dict(fields))
        self._save(document)

    def edit_model(self, provider: str, ident: str, fields: Mapping[str, Any]) -> None:
        document = self._load()
        model = self._model(document, provider, ident)
        for key, value in fields.items():
            if value is None:
                model.pop(key, None)
            else:
                model[key] = value
        self._save(document)

    def remove_model(self, provider: str, ident: str) -> None:
        document = self._load()
        models = self._models(document, provider)
        models.remove(self._model(document, provider, ident))
        self._save(document)

    def _model(self, document: Any, provider: str, ident: str) -> Any:
        for model in self._models(document, provider):
            if isinstance(model, dict) and str(model.get("id")) == ident:
                return model
        raise ConfigEditError(f"{self.path}: providers.{provider}.models: no model {ident}")

    def _save(self, document: Any) -> None:
        """Check the changed document with the plugin's loader, then replace the config."""
        buffer = io.StringIO()
        _yaml().dump(document, buffer)
        fd, temporary = tempfile.mkstemp(prefix=".config.", suffix=".yaml", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(buffer.getvalue())
                out.flush()
                os.fsync(out.fileno())
            try:
                load_config(Path(temporary))
            except ConfigError as exc:
                message = str(exc).replace(temporary, str(self.path))
                raise ConfigEditError(message) from None
            with contextlib.suppress(OSError):
                os.chmod(temporary, self.path.stat().st_mode & 0o777)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
