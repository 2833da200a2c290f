"""pytest-xdist workers over execnet's socket server on loopback (``--tx socket=HOST:PORT``): a
pytester session's tests run in the servers' processes, from the pytester project."""

from __future__ import annotations

import json
import os

import pytest

pytest.importorskip("xdist")

from ..procs import alive, processes_with, socket_workers

#: Where each process of the inner session says who it is: the project's directory, absolute (a
#: worker's cwd and rootdir are xdist's choice).
RECORD = """
import json
import os
from pathlib import Path

OUT = Path({out!r})


def record(name, **about):
    about.update(pid=os.getpid(), worker=os.environ.get("PYTEST_XDIST_WORKER"), cwd=os.getcwd())
    (OUT / f"{{name}}.json").write_text(json.dumps(about))
"""

CONFTEST = """
from record import record


def pytest_configure(config):
    worker = getattr(config, "workerinput", {}).get("workerid", "controller")
    record(f"configure-{worker}", rootdir=str(config.rootpath))
"""

TESTS = """
from record import record


def test_one():
    record("test_one")


def test_two():
    record("test_two")
"""


def test_two_socket_workers_run_a_pytester_session(pytester, monkeypatch):
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)  # an outer -n run's: the inner one is no worker
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(record=RECORD.format(out=str(pytester.path)), test_pids=TESTS)
    pytester.makeconftest(CONFTEST)
    # the workers import record.py and conftest.py from their cwd, the project (xdist puts it on
    # sys.path); the controller from its rootdir
    with socket_workers(2, chdir=pytester.path) as specs:
        servers = set(processes_with("execnet.script.socketserver", "127.0.0.1:0"))
        tx = [arg for spec in specs for arg in ("--tx", spec)]
        result = pytester.runpytest_subprocess(
            "-p", "xdist", *tx, "--dist", "load", "-p", "no:randomly", "-p", "no:cacheprovider"
        )
    result.assert_outcomes(passed=2)

    def about(name: str) -> dict[str, object]:
        loaded: dict[str, object] = json.loads((pytester.path / f"{name}.json").read_text())
        return loaded

    tests = [about("test_one"), about("test_two")]
    controller = about("configure-controller")["pid"]
    pids = {t["pid"] for t in tests}
    assert len(pids) == 2 and not pids & {os.getpid(), controller}, (pids, controller)
    assert {t["worker"] for t in tests} == {"gw0", "gw1"}
    # each worker is its socket server's process, started in the project, with its conftest
    assert pids <= servers, (pids, servers)
    for worker in ("gw0", "gw1"):
        configured = about(f"configure-{worker}")
        assert configured["pid"] in pids
        assert configured["cwd"] == configured["rootdir"] == str(pytester.path)
    assert not [pid for pid in pids if isinstance(pid, int) and alive(pid)]
