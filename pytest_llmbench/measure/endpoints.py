"""Where a target's requests go: its ``api_base``, or a server the plugin runs for it.

A ``managed: simulator`` provider gets one built-in server per provider, a ``managed: llama_cpp``
model one llama.cpp server per model; each starts on first need, on a free loopback port, and
stops with the session.
"""

from __future__ import annotations

import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..matrix import Target, safe_id

if TYPE_CHECKING:
    from ..servers.llama_cpp import LlamaCppServer
    from ..servers.sim.server import SimServer

__all__ = ["Endpoints", "ServerUnavailable"]


class ServerUnavailable(Exception):
    """A managed server could not be started; every test of its target fails with this."""


@dataclass
class Endpoints:
    """The servers this session started, by provider (simulator) or target (llama.cpp)."""

    #: Where server logs go (``None``: a temporary folder), and the stamp that names them.
    log_dir: Path | None
    log_stamp: str
    config_dir: Path
    _sims: dict[str, SimServer] = field(default_factory=dict)
    _llamas: dict[str, LlamaCppServer | ServerUnavailable] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sim_for(self, target: Target) -> SimServer | None:
        """The built-in server behind a simulated target, started on first need."""
        if not target.simulated:
            return None
        with self._lock:
            sim = self._sims.get(target.provider.name)
            if sim is None:
                from ..servers.sim.server import SimServer

                profiles = {m.id: dict(m.sim or {}) for m in target.provider.models}
                sim = SimServer.start(profiles=profiles)
                self._sims[target.provider.name] = sim
            return sim

    def llama_for(self, target: Target) -> LlamaCppServer | None:
        """The llama.cpp server behind a ``managed: llama_cpp`` target, started on first need.

        Raises :class:`ServerUnavailable` (remembered, so later tests fail at once) when it cannot
        start: its message names the log and quotes its end.
        """
        if target.provider.managed != "llama_cpp":
            return None
        with self._lock:
            server = self._llamas.get(target.key)
            if server is None:
                server = self._start_llama(target)
                self._llamas[target.key] = server
        if isinstance(server, ServerUnavailable):
            raise server
        return server

    def _start_llama(self, target: Target) -> LlamaCppServer | ServerUnavailable:
        from ..servers.llama_cpp import LlamaCppServer, LlamaCppSpec, ManagedServerError

        spec = LlamaCppSpec.from_mapping(target.model.llama_cpp or {})
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        name = "-".join(filter(None, (self.log_stamp, safe_id(target.key), worker)))
        log_dir = self.log_dir or Path(tempfile.mkdtemp(prefix="llmbench-server-"))
        try:
            return LlamaCppServer.start(
                spec, target.model.id, self.config_dir, log_dir / f"{name}.server.log"
            )
        except (ManagedServerError, OSError, ImportError) as exc:
            return ServerUnavailable(f"{target.key}: the managed llama.cpp server failed: {exc}")

    def api_base(self, target: Target) -> str | None:
        """The base URL the target's client talks to."""
        llama = self.llama_for(target)
        if llama is not None:
            return llama.base_url + "/v1"
        sim = self.sim_for(target)
        if sim is None:
            return target.provider.api_base
        # LiteLLM appends /v1/messages (Anthropic) and /models/... (Gemini) to the base itself.
        native = target.provider.client == "litellm" and target.provider.model_prefix.rstrip(
            "/"
        ) in {"anthropic", "gemini"}
        return sim.base_url if native else sim.base_url + "/v1"

    def close(self) -> None:
        """Stop every server this session started."""
        for server in [*self._sims.values(), *self._llamas.values()]:
            if not isinstance(server, Exception):
                server.stop()
        self._sims.clear()
        self._llamas.clear()
