"""The ``llmbench`` console script."""

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

LLMBENCH = shutil.which("llmbench", path=str(Path(sys.executable).parent))


@pytest.mark.skipif(LLMBENCH is None, reason="the llmbench console script is not installed")
def test_serve_sim_serves_openai_models_until_terminated():
    assert LLMBENCH is not None  # the skipif above
    profile = json.dumps({"ttft_ms": 1, "itl_ms": 1, "output_tokens": 3})
    proc = subprocess.Popen(
        [LLMBENCH, "serve-sim", "--port", "0", "--profile", f"demo={profile}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None  # stdout=PIPE
    try:
        line = proc.stdout.readline()
        assert line.startswith("LLMBENCH_SIM_READY http://127.0.0.1:")
        base = line.split()[1]
        with urllib.request.urlopen(base + "/v1/models", timeout=5) as response:
            models = json.load(response)
        assert [m["id"] for m in models["data"]] == ["demo"]
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


@pytest.mark.skipif(LLMBENCH is None, reason="the llmbench console script is not installed")
def test_unknown_command_is_an_error():
    assert LLMBENCH is not None  # the skipif above
    result = subprocess.run([LLMBENCH, "bogus"], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr
