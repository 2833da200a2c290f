"""``python -m pytest_llmbench.servers.llama_cpp.serve ARG ...``: llama-cpp-python's server
(``python -m llama_cpp.server ARG ...``), kept off llama.cpp's AMX path on CPUs that have AMX.

On a CPU with AMX (Intel Sapphire Rapids and later) a llama.cpp built for the machine (pip
compiles it with ``-march=native``) repacks the weights into AMX buffers, and here the first
completion then kills the server with SIGSEGV (measured on this project's CI machines, Gemma 3
270M Q4_K_M; a fault llama.cpp's tracker knows on such CPUs, in its AMX matmul). llama.cpp's
``use_extra_bufts`` model parameter turns those buffers off (and the CPU repacking with them:
decoding takes the plain AVX path); llama-cpp-python does not expose it, so this module sets it
in the default model parameters before the server loads the model.
``LLMBENCH_LLAMA_EXTRA_BUFFERS=on`` keeps them (a build whose AMX path works), ``off`` turns
them off on any CPU.
"""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from typing import Any

__all__ = ["EXTRA_BUFFERS_ENV", "cpu_has_amx", "keep_extra_buffers"]

EXTRA_BUFFERS_ENV = "LLMBENCH_LLAMA_EXTRA_BUFFERS"


def cpu_has_amx(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU advertises AMX (``amx_tile`` in its flags; Linux only, else ``False``)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any("amx_tile" in line.split() for line in text.splitlines() if line.startswith("flags"))


def keep_extra_buffers(setting: str | None, has_amx: bool) -> bool:
    """Whether llama.cpp may use its extra buffer types: ``on`` / ``off``, else not with AMX."""
    if setting in ("on", "off"):
        return setting == "on"
    return not has_amx


def _without_extra_buffers() -> None:
    import importlib

    # the low-level bindings, whose default model parameters Llama() asks for
    bindings: Any = importlib.import_module("llama_cpp.llama_cpp")
    default = bindings.llama_model_default_params

    def params() -> Any:
        found = default()
        found.use_extra_bufts = False
        return found

    bindings.llama_model_default_params = params


if __name__ == "__main__":
    if not keep_extra_buffers(os.environ.get(EXTRA_BUFFERS_ENV), cpu_has_amx()):
        _without_extra_buffers()
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
