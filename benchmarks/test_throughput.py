"""Throughput: one streamed request per target × context tier × run.

The plugin parametrizes this test from config.yaml; ``llm_messages`` pads the prompt with fresh
filler to the tier's size and ``llm_stream`` measures and records the request (TTFT, decode tok/s,
TPOT, ITL, token counts; see METRICS.md).
"""

import pytest


@pytest.mark.asyncio
async def test_throughput(llm_stream, llm_messages):
    record = await llm_stream(llm_messages)
    assert record.output_tokens > 0, "the model returned no tokens"
    assert record.ttft_ms is not None, "no token event arrived"
