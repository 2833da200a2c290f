"""SIGTERM, what CI runners and container stops send, ends a session like Ctrl-C: pytest's
interrupted path runs, the results (.json, .html) are written with every finished test, and the
exit status is non-zero. A session that does not use the plugin dies of it as before."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..procs import processes_with
from ..sessions import sim_config

#: About a second per request: the session is mid-test when the signal comes.
SLOW = {"ttft_ms": 5, "itl_ms": 40, "output_tokens": 25}
#: Single process: the session ends at once. Under pytest-xdist the controller waits for its
#: workers to stop (execnet interrupts a busy worker after 5 s).
EXIT_WITHIN_S = {"single": 10.0, "xdist": 25.0}


def _start(path: Path, *args: str) -> subprocess.Popen[bytes]:
    """pytest in ``path``, in a process group of its own (its workers and servers join it)."""
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly"]
    return subprocess.Popen(
        [*command, *args],
        cwd=path,
        stdout=(path / "session.txt").open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,
    )


def _wait_for(condition, what: str, process: subprocess.Popen[bytes], path: Path) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} never happened:\n{(path / 'session.txt').read_text()[-4000:]}")
        time.sleep(0.05)


def _terminate(
    process: subprocess.Popen[bytes], path: Path, within_s: float, group: bool = False
) -> float:
    """Send SIGTERM to pytest (or to its whole process group, as systemd or ``kill -- -PGID``
    do); returns how long pytest took to end (fails the test after ``within_s``)."""
    sent = time.monotonic()
    if group:
        os.killpg(process.pid, signal.SIGTERM)
    else:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(within_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
        pytest.fail(f"no exit {within_s} s after SIGTERM:\n{(path / 'session.txt').read_text()}")
    return time.monotonic() - sent


def _kill_group(process: subprocess.Popen[bytes], path: Path) -> None:
    """Clean up whatever is left: the pytest we started, its workers and its servers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    for pid in processes_with("servers.launch", str(path)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    process.wait(10)


def _left_behind(process: subprocess.Popen[bytes], path: Path) -> list[str]:
    """What still runs of the session a few seconds after pytest ended: workers (its process
    group) and the servers it started (their own sessions, found by their log's path)."""
    deadline = time.monotonic() + 10
    while True:
        left = [f"server {pid}" for pid in processes_with("servers.launch", str(path))]
        try:
            os.killpg(process.pid, 0)
            left.append(f"process group {process.pid}")
        except ProcessLookupError:
            pass
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)


def _finished_lines(results: Path) -> int:
    return sum(len(p.read_text().splitlines()) for p in results.glob("*.jsonl"))


ON_LINUX = pytest.mark.skipif(sys.platform != "linux", reason="xdist checked on Linux")


@pytest.mark.parametrize(
    ("workers", "group"),
    [
        pytest.param((), False, id="single"),
        # the controller alone (docker stop, kill PID): it stops its workers itself
        pytest.param(("-n", "2"), False, id="xdist", marks=ON_LINUX),
        # the whole group: the workers die of it, the controller still writes what it has
        pytest.param(("-n", "2"), True, id="xdist-group", marks=ON_LINUX),
    ],
)
def test_sigterm_ends_the_session_with_its_results(bench, workers, group):
    if workers:
        pytest.importorskip("xdist")
    bench.setup(sim_config({"sim-slow": SLOW}, max_tokens=32))
    path: Path = bench.pytester.path
    process = _start(path, "--llm-runs", "8", *workers)
    try:
        _wait_for(lambda: _finished_lines(bench.results_dir) >= 1, "a finished test", process, path)
        within = EXIT_WITHIN_S["xdist" if workers else "single"]
        took = _terminate(process, path, within, group)
        left = _left_behind(process, path)
    finally:
        _kill_group(process, path)
    assert not left, left
    output = (path / "session.txt").read_text()
    assert process.returncode == pytest.ExitCode.INTERRUPTED, output
    assert "KeyboardInterrupt" in output, output
    finished = bench.jsonl()
    assert 1 <= len(finished) < 8, f"took {took:.1f} s"
    document = bench.results()
    assert document["records"] == finished  # every finished test, none lost
    assert all(r["status"] == "passed" and r["ttft_ms"] for r in document["records"])
    (page,) = bench.results_dir.glob("*.html")
    assert 'data-model="sim-slow"' in page.read_text()


LATE_SIGTERM = """
import os, signal
import pytest

@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    os.kill(os.getpid(), signal.SIGTERM)  # while the session ends, after the plugin's own finish
"""


def test_a_sigterm_while_the_session_ends_lets_it_end_and_exit_interrupted(bench):
    bench.setup(sim_config({"sim-a": {"ttft_ms": 5, "itl_ms": 1, "output_tokens": 8}}))
    bench.pytester.makeconftest(LATE_SIGTERM)
    result = bench.run("--llm-runs", "2")
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()
    result.stdout.fnmatch_lines(["results: *.json", "results: *.html", "*2 passed*"])
    assert len(bench.results()["records"]) == 2


WAITS = """
import pathlib, time

def test_waits():
    pathlib.Path("started").write_text("yes")
    time.sleep(60)
"""


def test_a_session_without_benchmarks_dies_of_sigterm_as_before(pytester):
    pytester.makepyfile(test_waits=WAITS)
    process = _start(pytester.path)
    try:
        started = pytester.path / "started"
        _wait_for(started.exists, "the test's start", process, pytester.path)
        _terminate(process, pytester.path, 10.0)
    finally:
        _kill_group(process, pytester.path)
    assert process.returncode == -signal.SIGTERM


INSTALLED = """
import signal

def test_handler_is_installed(pytestconfig):
    handler = signal.getsignal(signal.SIGTERM)
    assert callable(handler) and "llmbench" in type(handler).__module__
"""


def test_the_previous_handler_is_back_after_the_session(pytester):
    def previous(signum: int, frame: object) -> None:
        raise AssertionError("not called")

    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_installed=INSTALLED)
    before = signal.signal(signal.SIGTERM, previous)
    try:
        result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
        assert signal.getsignal(signal.SIGTERM) is previous
    finally:
        signal.signal(signal.SIGTERM, before)
    result.assert_outcomes(passed=1)
