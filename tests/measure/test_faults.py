"""Every fault mode of the built-in server is one clean per-test failure; the session goes on."""

import pytest

from ..sessions import sim_config

FAULTS: dict[str, tuple[dict[str, object], str | None]] = {
    "ok-model": ({}, None),
    "rate-limited": ({"fault": "http_429"}, "HTTP 429: Rate limit reached"),
    "server-error": ({"fault": "http_500"}, "HTTP 500: The server had an error"),
    "cut-stream": ({"fault": "cut"}, "stream cut"),
    "malformed": ({"fault": "malformed"}, "malformed stream event"),
    "error-event": ({"fault": "error_event"}, "Simulated upstream failure mid-stream"),
    "stalled": ({"fault": "stall", "stall_s": 5}, "timed out: no data from the server for 1 s"),
}


def test_each_fault_fails_only_its_test_with_a_clear_message(bench):
    models = {
        name: {"ttft_ms": 5, "itl_ms": 1, "output_tokens": 20, **sim}
        for name, (sim, _) in FAULTS.items()
    }
    bench.setup(sim_config(models, provider_extra={"timeout_s": 1}))
    result = bench.run("-rfE")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] == 1 and outcomes["failed"] == len(FAULTS) - 1
    lines = []
    for name, (_, message) in FAULTS.items():
        if message:
            lines.append(f"embedded/{name}: *{message}*")
    result.stdout.fnmatch_lines(lines, consecutive=False)
    records = {r["model"]: r for r in bench.results()["records"]}
    for name, (_, message) in FAULTS.items():
        record = records[name]
        assert record["status"] == ("passed" if message is None else "failed")
        if message:
            assert message in record["error"]
    assert records["rate-limited"]["http_status"] == 429
    # What arrived before the cut is still measured.
    assert records["cut-stream"]["ttft_ms"] is not None
    assert "Traceback" not in result.stdout.str()
