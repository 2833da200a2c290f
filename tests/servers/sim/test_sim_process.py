"""SimServer and the command line: start, ready line, log file, failures, and clean stops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from pytest_llmbench.servers.sim.command import main
from pytest_llmbench.servers.sim.server import SimServer

pytestmark = pytest.mark.integration


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0) until reaped; it is not running.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[1].startswith("Z"))


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return not _alive(pid)


def _chat(base_url: str, model: str) -> dict[str, Any]:
    body = json.dumps(
        {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": False}
    ).encode()
    request = urllib.request.Request(
        base_url + "/v1/chat/completions", body, {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def test_start_log_file_and_stop_leave_no_process(tmp_path):
    log = tmp_path / "truth" / "sim.jsonl"
    server = SimServer.start(
        profiles={"m": {"ttft_ms": 1, "itl_ms": 0.5, "output_tokens": 3}}, log_path=log
    )
    pid = server.pid
    assert server.base_url.startswith("http://127.0.0.1:")
    assert not server.base_url.endswith("/v1")
    first = _chat(server.base_url, "m")
    second = _chat(server.base_url, "other")
    deadline = time.monotonic() + 5
    while True:  # the server logs a request just after its last byte: the client may be first
        lines = [json.loads(line) for line in log.read_text().splitlines()]
        if len(lines) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert [r["id"] for r in lines] == [first["id"], second["id"]]
    assert lines == server.requests()
    assert server.request(first["id"])["output_tokens"] == 3
    server.stop()
    assert not _alive(pid)
    assert server.process.returncode == 0  # SIGTERM is a clean stop
    server.stop()  # idempotent


def test_context_manager_stops_the_server():
    with SimServer.start() as server:
        pid = server.pid
        assert _alive(pid)
    assert not _alive(pid)


def test_bad_profile_fails_start_with_the_servers_message():
    with pytest.raises(RuntimeError, match=r"exited with status 2") as info:
        SimServer.start(default={"itl_ms": "fast"})
    assert "sim.itl_ms: must be a number >= 0, got 'fast'" in str(info.value)


def test_server_exits_when_its_parent_dies(tmp_path):
    script = (
        "import sys\n"
        "from pytest_llmbench.servers.sim.server import SimServer\n"
        "s = SimServer.start()\n"
        "print(s.pid, flush=True)\n"
        "import os; os._exit(0)\n"  # no atexit, no stop(): as if killed
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True
    )
    pid = int(out.stdout.split()[0])
    assert _wait_gone(pid, 5.0), f"simulator {pid} outlived its parent"


def test_sigint_stops_the_cli_cleanly():
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_llmbench.servers.sim", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("LLMBENCH_SIM_READY http://127.0.0.1:")
        base = line.split()[1]
        with urllib.request.urlopen(base + "/llmbench/health", timeout=5) as response:
            assert json.loads(response.read()) == {"ok": True}
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_cli_rejects_bad_profiles(tmp_path, capsys):
    assert main(["--profile", "m={not json"]) == 2
    assert "--profile m: invalid JSON" in capsys.readouterr().err
    assert main(["--profile", "nothing"]) == 2
    spec = tmp_path / "profiles.json"
    spec.write_text(json.dumps({"models": {"m": {"fault": "explode"}}}))
    assert main(["--profiles-json", str(spec)]) == 2
    assert "sim.models.m.fault: must be one of" in capsys.readouterr().err
