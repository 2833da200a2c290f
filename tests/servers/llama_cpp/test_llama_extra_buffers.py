"""The managed llama.cpp server keeps off llama.cpp's AMX path on CPUs with AMX (where, built for
the machine, its first completion dies with SIGSEGV: servers/llama_cpp/serve.py), unless told."""

from __future__ import annotations

import pytest

from pytest_llmbench.servers.llama_cpp.serve import cpu_has_amx, keep_extra_buffers

SAPPHIRE = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f amx_bf16 amx_tile amx_int8\n"
ZEN = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f\n"


@pytest.mark.parametrize(("text", "found"), [(SAPPHIRE, True), (ZEN, False), ("", False)])
def test_amx_is_read_from_the_cpu_flags(tmp_path, text, found):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(text)
    assert cpu_has_amx(cpuinfo) is found


def test_no_cpuinfo_means_no_amx(tmp_path):
    assert cpu_has_amx(tmp_path / "missing") is False


@pytest.mark.parametrize(
    ("setting", "has_amx", "kept"),
    [(None, True, False), (None, False, True), ("on", True, True), ("off", False, False),
     ("auto", True, False)],
)  # fmt: skip
def test_extra_buffers_are_off_with_amx_unless_told(setting, has_amx, kept):
    assert keep_extra_buffers(setting, has_amx) is kept
