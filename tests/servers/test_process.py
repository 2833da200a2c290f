"""servers/process.py and launch.py: ManagedProcess with a stand-in server module (ready, stamped
log, clear failures, no orphans) and the parent watcher."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from pytest_llmbench.servers.process import (
    ManagedProcess,
    ManagedServerError,
    read_log,
    watch_parent,
)

from ..procs import alive, processes_with

FAKE_SERVER = textwrap.dedent(
    """
    import http.server, os, sys, time
    mode = sys.argv[1]
    port = int(sys.argv[2])
    print("fake server starting on", port, flush=True)
    os.write(2, b"a line from C-level stderr\\n")
    if mode == "exit":
        print("boom: cannot load the model", file=sys.stderr)
        sys.exit(3)
    if mode == "hang":
        time.sleep(600)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            print("request", self.path, flush=True)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
    """
)


@pytest.fixture
def fake_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "fake_llm_server.py").write_text(FAKE_SERVER)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), *sys.path]))
    return "fake_llm_server"


def _wait_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_starts_answers_logs_with_stamps_and_stops(fake_module: str, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "fake.server.log"
    before = time.monotonic_ns()
    server = ManagedProcess.start("fake", fake_module, ["ok", "{port}"], log, "/ready", 20)
    try:
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        deadline = time.monotonic() + 5
        while True:  # the server prints "request" after it answered; the relay follows at once
            lines, _ = read_log(log)
            texts = [text for _, text in lines]
            if "request /ready" in texts or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert f"fake server starting on {server.port}" in texts
        assert "a line from C-level stderr" in texts  # fd 2 itself, not only sys.stderr
        assert "request /ready" in texts
        stamps = [stamp for stamp, _ in lines]
        assert stamps == sorted(stamps)
        assert before <= stamps[0] <= time.monotonic_ns()  # the same clock as ours
    finally:
        server.stop()
    assert _wait_gone(server.pid, 1)
    server.stop()  # a second stop is harmless


def test_an_exiting_server_fails_with_status_and_log_tail(fake_module: str, tmp_path: Path) -> None:
    log = tmp_path / "fake.server.log"
    with pytest.raises(ManagedServerError) as info:
        ManagedProcess.start("fake", fake_module, ["exit", "{port}"], log, "/ready", 20)
    message = str(info.value)
    assert "exited with status 3" in message
    assert "boom: cannot load the model" in message
    assert str(log) in message


def test_a_server_that_never_answers_times_out_and_is_killed(
    fake_module: str, tmp_path: Path
) -> None:
    log = tmp_path / "fake.server.log"
    started = time.monotonic()
    with pytest.raises(ManagedServerError) as info:
        ManagedProcess.start("fake", fake_module, ["hang", "{port}"], log, "/ready", 1.5)
    assert time.monotonic() - started < 15
    assert "did not answer" in str(info.value) and "within 1.5 s" in str(info.value)
    assert "fake server starting" in str(info.value)
    assert not processes_with(str(log))


def test_the_server_dies_with_a_killed_parent(fake_module: str, tmp_path: Path) -> None:
    """pytest killed outright (SIGKILL, OOM) runs no cleanup: the server must end by itself."""
    log = tmp_path / "orphan.server.log"
    parent = textwrap.dedent(
        f"""
        import os, sys
        from pathlib import Path
        from pytest_llmbench.servers.llama_cpp import ManagedProcess
        server = ManagedProcess.start("fake", {fake_module!r}, ["ok", "{{port}}"],
                                      Path({str(log)!r}), "/ready", 20)
        print(server.pid, flush=True)
        os._exit(0)  # no stop(), no atexit
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", parent], capture_output=True, text=True, timeout=60, check=True
    )
    pid = int(out.stdout.strip())
    assert _wait_gone(pid, 10), "the server outlived its parent"
    assert not processes_with(str(log))


def test_the_parent_watcher_calls_back_once_the_parent_is_gone() -> None:
    gone = threading.Event()
    watch_parent(os.getpid(), gone.set, poll_s=0.01)  # we are not our own parent
    assert gone.wait(5)
    kept = threading.Event()
    done = watch_parent(os.getppid(), kept.set, poll_s=0.01)
    time.sleep(0.05)
    done.set()
    time.sleep(0.05)
    assert not kept.is_set()
