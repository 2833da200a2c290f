"""One simulator subprocess for the whole folder, with a profile per behaviour under test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest
import pytest_asyncio

from pytest_llmbench.servers.sim.server import SimServer

from .sim_client import SimClient

QUICK: dict[str, object] = {"ttft_ms": 5, "itl_ms": 1, "output_tokens": 12}
STALL_S = 1.0

PROFILES: dict[str, dict[str, object]] = {
    "quick": QUICK,
    "ttft30": {"ttft_ms": 30, "itl_ms": 1, "output_tokens": 4},
    "prefill": {"ttft_ms": 10, "prefill_us_per_token": 20, "itl_ms": 1, "output_tokens": 3},
    "pace2": {"ttft_ms": 10, "itl_ms": 2, "output_tokens": 200},
    "jitter": {"ttft_ms": 10, "itl_ms": 2, "jitter_ms": 0.5, "output_tokens": 600, "seed": 7},
    "grouped": {**QUICK, "tokens_per_event": 4, "output_tokens": 10},
    "usage-always": {**QUICK, "usage": "always"},
    "usage-never": {**QUICK, "usage": "never"},
    "think": {**QUICK, "reasoning": "think_tags", "reasoning_tokens": 5, "output_tokens": 6},
    "rc": {
        **QUICK,
        "reasoning": "reasoning_content",
        "reasoning_tokens": 5,
        "output_tokens": 6,
        "tokens_per_event": 2,
    },
    "small-window": {**QUICK, "context_window": 20},
    "f-429": {**QUICK, "fault": "http_429"},
    "f-500": {**QUICK, "fault": "http_500"},
    "f-cut": {**QUICK, "fault": "cut", "fault_after_tokens": 4},
    "f-malformed": {**QUICK, "fault": "malformed", "fault_after_tokens": 3},
    "f-error": {**QUICK, "fault": "error_event", "fault_after_tokens": 2},
    "f-stall": {**QUICK, "fault": "stall", "fault_after_tokens": 3, "stall_s": STALL_S},
    "f-turn2": {**QUICK, "fault": "http_500", "fault_at_turn": 2},
    "claude-sim": {**QUICK, "reasoning": "reasoning_content", "reasoning_tokens": 4},
    "claude-plain": {**QUICK, "output_tokens": 20},
    "gemini-sim": {**QUICK, "reasoning": "think_tags", "reasoning_tokens": 4},
    "gemini-plain": {**QUICK, "output_tokens": 20},
}


@pytest.fixture(scope="session")
def sim() -> Iterator[SimServer]:
    with SimServer.start(profiles=PROFILES, default={"ttft_ms": 2, "itl_ms": 1}) as server:
        yield server


@pytest_asyncio.fixture
async def client(sim: SimServer) -> AsyncIterator[SimClient]:
    async with aiohttp.ClientSession() as session:
        yield SimClient(sim.base_url, session)
