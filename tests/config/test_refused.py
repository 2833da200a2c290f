"""Careless input is refused before any request: broken configs, baseline files and option values.

Each case runs a whole pytest session in a subprocess on a project whose provider points at a
loopback port where a plain socket server counts connections. A refused case must exit 4 with
one ``ERROR:`` line on stderr naming the file (or option), the key and the problem, show no
traceback, and leave the server untouched. The last case is the control: the same project with
nothing wrong does reach the server, so a zero count means something.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.sessions import THROUGHPUT

KEY_VAR = "LLMBENCH_REFUSED_TEST_KEY"

GOOD = """\
defaults: {max_tokens: 8, context_tiers: [0], timeout_s: 3}
providers:
  loop:
    api_base: http://127.0.0.1:PORT/v1
    models: [{id: m1}]
"""


def _with(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new)


# An alias bomb inside a value, small enough not to hurt a machine even where nothing stops it (6
# levels of 9: half a million strings), big enough that quoting the value whole makes a line of
# megabytes.
def _bomb() -> str:
    levels, item = [], '"lol"'
    for name in "abcdef":
        levels.append(f"&{name} [{', '.join([item] * 9)}]")
        item = f"*{name}"
    return "[" + ", ".join(levels) + "]"


BOMB = GOOD.replace("max_tokens: 8", f"max_tokens: {_bomb()}")


class Listener:
    """A loopback socket server in a thread: accepts, counts, closes."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port: int = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()

    def close(self) -> int:
        """Stop, count what is still queued, and return the number of connections."""
        if self._stop.is_set():
            return self.connections
        self._stop.set()
        self._thread.join()
        self.sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            while True:
                self.sock.accept()[0].close()
                self.connections += 1
        self.sock.close()
        return self.connections


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.close()


@dataclass(frozen=True)
class Case:
    name: str
    #: name → text, bytes, or None for an empty folder; "config.yaml" defaults to GOOD
    files: dict[str, str | bytes | None] = field(default_factory=dict)
    args: tuple[str, ...] = ()
    #: every one of these is on the error line
    needles: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    #: none of these is anywhere in the output
    absent: tuple[str, ...] = ()


BASELINE = '{"format": "pytest-llmbench-baseline", "groups": [%s]}'

CASES = [
    # -- the config file -----------------------------------------------------------------------
    Case("utf16", {"config.yaml": GOOD.encode("utf-16")}, needles=("config.yaml: ", "UTF-16")),
    Case(
        "latin1",
        {"config.yaml": ("# café\n" + GOOD).encode("latin-1")},
        needles=("config.yaml: ", "not UTF-8", "line 1"),
    ),
    Case(
        "directory",
        {"conf.yaml": None},
        ("--llm-config", "conf.yaml"),
        needles=("conf.yaml: ", "is a directory"),
    ),
    Case("empty-config-option", args=("--llm-config", ""), needles=("--llm-config", "empty")),
    Case(
        "duplicate-yaml-key",
        {"config.yaml": GOOD + "defaults: {max_tokens: 9}\n"},
        needles=("config.yaml: ", "duplicate key 'defaults'", "line 6", "line 1"),
    ),
    Case(
        "alias-bomb",
        {"config.yaml": BOMB},
        needles=("config.yaml: ", "more than 100,000 values with its aliases expanded"),
    ),
    Case(
        "long-value",
        {"config.yaml": _with("max_tokens: 8", "max_tokens: " + "x" * 5000)},
        needles=("config.yaml: ", "defaults.max_tokens", "must be a whole number", "xxx..."),
    ),
    Case(
        "duplicate-model-id",
        {"config.yaml": _with("[{id: m1}]", "[{id: m1}, {id: m2}, {id: m1}]")},
        needles=("config.yaml: ", "providers.loop.models[2].id", "duplicate", "models[0]"),
    ),
    Case(
        "api-base-no-scheme",
        {"config.yaml": _with("http://127.0.0.1", "127.0.0.1")},
        needles=("config.yaml: ", "providers.loop.api_base", "http:// or https:// URL"),
    ),
    Case(
        "api-base-ftp",
        {"config.yaml": _with("http://", "ftp://")},
        needles=("config.yaml: ", "providers.loop.api_base", "http:// or https:// URL"),
    ),
    Case(
        "negative-absolute-limit",
        {"config.yaml": GOOD + "thresholds: {defaults: ['ttft_ms <= -5']}\n"},
        needles=("config.yaml: ", "thresholds.defaults[0]", "never negative"),
    ),
    Case(
        "relative-limit-beyond-100",
        {"config.yaml": GOOD + "thresholds: {defaults: ['decode_tps.median: -500%']}\n"},
        needles=("config.yaml: ", "thresholds.defaults[0]", "-100%"),
    ),
    Case(
        "config-tier-too-large",
        {"config.yaml": _with("context_tiers: [0]", "context_tiers: [0, 2000001]")},
        needles=("config.yaml: ", "defaults.context_tiers[1]", "2,000,000"),
    ),
    Case(
        "key-with-newline",
        {"config.yaml": _with("    models:", f"    api_key_env: {KEY_VAR}\n    models:")},
        needles=("config.yaml: ", "providers.loop.api_key_env", KEY_VAR, "line break"),
        env={KEY_VAR: "sk-refused-one\nsk-refused-two"},
        absent=("sk-refused",),
    ),
    # -- the load: sections --------------------------------------------------------------------
    Case(
        "load-point-concurrency-zero",
        {"config.yaml": _with("timeout_s: 3}", "timeout_s: 3, load: {points: ['concurrency=0']}}")},
        needles=("config.yaml: ", "defaults.load.points[0]", "from 1 to 10,000, got 0"),
    ),
    Case(
        "load-unknown-key",
        {"config.yaml": _with("timeout_s: 3}", "timeout_s: 3, load: {duraton_s: 60}}")},
        needles=("config.yaml: ", "defaults.load.duraton_s", "unknown key"),
    ),
    Case(
        "load-point-mapping-gamma-without-burstiness",
        {
            "config.yaml": _with(
                "[{id: m1}]", "[{id: m1, load: {points: [{rate: 4, arrival: gamma}]}}]"
            )
        },
        needles=("config.yaml: ", "providers.loop.models[0].load.points[0].burstiness", "need"),
    ),
    Case(
        "load-slo-higher-is-better",
        {"config.yaml": _with("    models:", "    load: {slos: ['decode_tps <= 5']}\n    models:")},
        needles=("config.yaml: ", "providers.loop.load.slos[0]", "lower is better"),
    ),
    Case(
        "load-size-uniform-upside-down",
        {
            "config.yaml": _with(
                "timeout_s: 3}",
                "timeout_s: 3, load: {output_tokens: {kind: uniform, low: 90, high: 10}}}",
            )
        },
        needles=("config.yaml: ", "defaults.load.output_tokens.high", "must be >= low (90)"),
    ),
    Case(
        "load-dataset-missing",
        {"config.yaml": _with("[{id: m1}]", "[{id: m1, load: {dataset: mix.jsonl}}]")},
        needles=("config.yaml: ", "providers.loop.models[0].load.dataset", "mix.jsonl: no such"),
    ),
    Case(
        "load-dataset-bad-line",
        {
            "config.yaml": _with("timeout_s: 3}", "timeout_s: 3, load: {dataset: mix.jsonl}}"),
            "mix.jsonl": '{"messages": [{"role": "user", "content": "a"}]}\n{"messages": []}\n',
        },
        needles=("config.yaml: ", "defaults.load.dataset", "mix.jsonl: line 2: 'messages'"),
    ),
    Case(
        "load-no-steady-state",
        {
            "config.yaml": _with(
                "timeout_s: 3}",
                "timeout_s: 3, load: {points: ['rate=2'], duration_s: 10, warmup_s: 10}}",
            )
        },
        needles=("config.yaml: ", "defaults.load.warmup_s", "r2 of loop/m1", "no steady state"),
    ),
    # -- baseline files ------------------------------------------------------------------------
    Case(
        "baseline-without-target",
        {"base.json": BASELINE % '{"tier": 0, "samples": {}}'},
        ("--llm-baseline", "base.json"),
        needles=("--llm-baseline", "base.json", "groups[0].target", "missing"),
    ),
    Case(
        "baseline-records-not-a-list",
        {"base.json": '{"records": {"a": 1}}'},
        ("--llm-baseline", "base.json"),
        needles=("--llm-baseline", "base.json", "records", "must be a list"),
    ),
    # -- option values -------------------------------------------------------------------------
    Case("timeout-inf", args=("--llm-timeout", "inf"), needles=("--llm-timeout", "'inf'")),
    Case(
        "temperature-inf",
        args=("--llm-temperature", "inf"),
        needles=("--llm-temperature", "'inf'"),
    ),
    Case(
        "option-tier-too-large",
        args=("--llm-context-tiers", "0,2000001"),
        needles=("--llm-context-tiers", "2,000,000"),
    ),
    Case(
        "load-spec-bad-modifier",
        args=("--llm-load", "rate=8:bursty"),
        needles=("--llm-load / ini llm_load", "'bursty' is not a modifier"),
    ),
    Case(
        "load-sweep-with-points",
        args=("--llm-load", "sweep", "--llm-load", "concurrency=1,8"),
        needles=("--llm-load / ini llm_load", "'sweep' stands alone"),
    ),
    Case(
        "load-slo-lower-bound",
        args=("--llm-load-slo", "ttft_ms.p99 >= 500"),
        needles=("--llm-load-slo / ini llm_load_slo", "upper limit"),
    ),
    Case(
        "load-requests-zero",
        args=("--llm-load-requests", "0"),
        needles=("--llm-load-requests / ini llm_load_requests", "got '0'"),
    ),
    Case(
        "results-dir-is-a-file",
        {"taken": "a file"},
        ("--llm-results-dir", "taken"),
        needles=("--llm-results-dir", "taken", "is a file, not a directory"),
    ),
    Case(
        "results-dir-under-a-file",
        {"taken": "a file"},
        ("--llm-results-dir", "taken/results"),
        needles=("--llm-results-dir", "taken/results", "taken is a file"),
    ),
    Case(
        "export-is-a-directory",
        {"out": None},
        ("--llm-export-benchmark", "out"),
        needles=("--llm-export-benchmark", "out", "is a directory"),
    ),
    Case(
        "save-baseline-under-a-file",
        {"taken": "a file"},
        ("--llm-save-baseline", "taken/baseline.json"),
        needles=("--llm-save-baseline", "taken/baseline.json", "taken is a file"),
    ),
]


def _project(pytester: pytest.Pytester, port: int, files: dict[str, str | bytes | None]) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_throughput=THROUGHPUT)
    for name, content in {"config.yaml": GOOD, **files}.items():
        path = pytester.path / name
        if content is None:
            path.mkdir()
        elif isinstance(content, bytes):
            path.write_bytes(content.replace(b"PORT", str(port).encode()))
        else:
            path.write_text(content.replace("PORT", str(port)), encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_refused_before_any_request(pytester, listener, monkeypatch, case):
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    _project(pytester, listener.port, case.files)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *case.args)
    output = result.stdout.str() + result.stderr.str()
    lines = [line for line in result.stderr.lines if line.strip()]
    assert result.ret == pytest.ExitCode.USAGE_ERROR, output[-3000:]
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("ERROR: "), line
    assert len(line) < 600, line[:600]
    for needle in case.needles:
        assert needle in line, (needle, line)
    for word in ("Traceback", "INTERNALERROR", *case.absent):
        assert word not in output, output[-3000:]
    assert listener.close() == 0


def test_control_a_good_project_reaches_the_server(pytester, listener):
    """The zero count above means something: with nothing wrong, the session connects."""
    _project(pytester, listener.port, {})
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the listener speaks no HTTP
    assert listener.close() > 0
