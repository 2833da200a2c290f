"""The Anthropic and Gemini wire formats, measured through LiteLLM against the built-in server.

LiteLLM costs far more client CPU per event than the lean path (docs/performance.md), so its
tolerances are wider and stated here: TTFT within 5 ms of the server's truth, TPOT within 5 %
(about 1.5 ms of TTFT error at p50 and 4 ms at p99 were measured at one stream).
"""

from typing import Any

from ..extras import needs_litellm
from ..sessions import sim_config

pytestmark = needs_litellm

SIM = {"ttft_ms": 40, "itl_ms": 6, "output_tokens": 40}
LITELLM_TTFT_TOLERANCE_MS = 5.0
LITELLM_TPOT_TOLERANCE = 0.05


def _provider(prefix: str) -> dict[str, Any]:
    return {
        "managed": "simulator",
        "model_prefix": prefix,
        "api_key_env": "LLMBENCH_TEST_SIM_KEY",
        "models": [{"id": "sim-x", "sim": SIM}],
    }


def test_anthropic_and_gemini_paths_measure_correctly(bench, monkeypatch):
    monkeypatch.setenv("LLMBENCH_TEST_SIM_KEY", "test-key")
    bench.setup(
        sim_config(
            {"sim-x": SIM},
            extra_providers={
                "anthropic_sim": _provider("anthropic/"),
                "gemini_sim": _provider("gemini/"),
            },
        )
    )
    result = bench.run("--llm-runs", "2", "--llm-provider", "anthropic_sim,gemini_sim")
    assert result.ret == 0, result.stdout.str()
    records = bench.results()["records"]
    assert {r["provider"] for r in records} == {"anthropic_sim", "gemini_sim"}
    assert {r["client"] for r in records} == {"litellm"}
    for record in records:
        truth = record["truth"]
        assert record["ok"] and truth, record
        assert record["output_tokens"] == truth["output_tokens"] == SIM["output_tokens"]
        assert record["token_source"] == "usage"
        assert abs(record["ttft_ms"] - truth["ttft_ms"]) < LITELLM_TTFT_TOLERANCE_MS, record
        assert abs(record["tpot_ms"] - truth["tpot_ms"]) / truth["tpot_ms"] < LITELLM_TPOT_TOLERANCE
