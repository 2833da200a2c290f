"""``managed: llama_cpp``: llama-cpp-python servers the plugin runs itself, started on a free
loopback port when a test needs one, stopped at the end of the session, never left behind (see
:mod:`pytest_llmbench.servers.process`)."""

from __future__ import annotations

from ..process import ManagedProcess, ManagedServerError, free_port, read_log
from .server import INSTALL_HINT, LlamaCppServer, LlamaCppSpec, missing_reason
from .timings import RequestTimings, timings_between

__all__ = [
    "INSTALL_HINT",
    "LlamaCppServer",
    "LlamaCppSpec",
    "ManagedProcess",
    "ManagedServerError",
    "RequestTimings",
    "free_port",
    "missing_reason",
    "read_log",
    "timings_between",
]
