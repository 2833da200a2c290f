"""Every request is bounded and every broken stream is named, on both paths.

The lean client and LiteLLM's ``openai/`` path stream from the hostile server (tests/hostile.py)
on loopback. Each case states how long it may take; an outer guard of :data:`GUARD_S` turns a
hang into a failure. Memory is the growth of this process's peak RSS over the request: a 1 GB
gzip bomb read whole would add more than a gigabyte whatever the peak was before.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_llmbench.clients.base import (
    ChatRequest,
    ProviderError,
    RawStream,
    StreamBounds,
    StreamClient,
)
from pytest_llmbench.clients.lean import LeanClient

from ..extras import needs_litellm
from ..hostile import FLOOD_EVENTS, HostileServer

KEY = "sk-hostile-test-key"
READ_TIMEOUT_S = 5.0
GUARD_S = 30.0
MAX_TOKENS = 16
#: What one request may add to the peak RSS of this process.
MEMORY_BOUND_MB = 300
REQUEST = ChatRequest([{"role": "user", "content": "Say OK."}], {"max_tokens": MAX_TOKENS})
BOTH = ["lean", pytest.param("litellm", marks=needs_litellm)]


def _peak_rss_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1 << 20) if sys.platform == "darwin" else peak / 1024


def make_client(kind: str, server: HostileServer, mode: str, **bounds: Any) -> StreamClient:
    limits = StreamBounds(max_tokens=MAX_TOKENS, **bounds)
    if kind == "lean":
        return LeanClient(server.base_url, mode, KEY, READ_TIMEOUT_S, limits)
    from pytest_llmbench.clients.litellm_client import LiteLLMClient

    return LiteLLMClient("openai/" + mode, server.base_url, KEY, READ_TIMEOUT_S, bounds=limits)


@dataclass
class Outcome:
    raw: RawStream | None
    failure: ProviderError | None
    seconds: float
    growth_mb: float

    @property
    def error(self) -> str:
        if self.failure is not None:
            return str(self.failure)
        assert self.raw is not None and self.raw.error is not None, "the request passed"
        return self.raw.error

    @property
    def tokens(self) -> int:
        assert self.raw is not None
        return sum(1 for d in self.raw.deltas if d.is_token_event)


async def run(kind: str, server: HostileServer, mode: str, **bounds: Any) -> Outcome:
    client = make_client(kind, server, mode, **bounds)
    before = _peak_rss_mb()
    started = time.perf_counter()
    raw = failure = None
    try:
        raw = await asyncio.wait_for(client.stream(REQUEST), GUARD_S)
    except ProviderError as exc:
        failure = exc
    finally:
        seconds = time.perf_counter() - started
        await client.aclose()
    return Outcome(raw, failure, seconds, _peak_rss_mb() - before)


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", BOTH)
async def test_a_well_formed_stream_passes(kind, hostile):
    out = await run(kind, hostile, "ok")
    assert out.raw is not None and out.raw.error is None, out.raw
    assert out.tokens == 5 and out.raw.status == 200


@pytest.mark.asyncio
async def test_endless_tokens_end_at_the_total_deadline(hostile):
    out = await run("lean", hostile, "endless", total_timeout_s=2)
    assert re.fullmatch(
        r"exceeded the total deadline of 2 s \([\d,]+ token events, [\d,]+ bytes so far\)",
        out.error,
    ), out.error
    assert out.tokens > 100  # what arrived is kept
    assert 2 <= out.seconds < 4


@pytest.mark.asyncio
async def test_endless_tokens_end_at_the_byte_cap(hostile):
    out = await run("lean", hostile, "endless", max_bytes=256 * 1024, total_timeout_s=20)
    assert out.error.startswith("the response exceeded the byte cap of 262,144 bytes ("), out.error
    assert out.seconds < 5


@pytest.mark.asyncio
@needs_litellm
async def test_litellm_endless_tokens_end_at_the_chunk_cap(hostile):
    out = await run("litellm", hostile, "endless", total_timeout_s=20)
    limit = StreamBounds.token_event_cap(MAX_TOKENS)
    match = re.fullmatch(r"the server sent (\d+) token events for max_tokens 16", out.error)
    assert match and int(match[1]) > limit, out.error
    assert out.seconds < 10


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", BOTH)
async def test_a_one_byte_a_second_trickle_ends_at_the_total_deadline(kind, hostile):
    out = await run(kind, hostile, "trickle", total_timeout_s=3)
    assert out.error.startswith("exceeded the total deadline of 3 s ("), out.error
    assert 3 <= out.seconds < 6


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", BOTH)
async def test_a_gzip_bomb_stops_at_the_cap_in_bounded_memory(kind, hostile):
    out = await run(kind, hostile, "gzip_bomb")  # the default bounds: a 64 MiB cap
    if kind == "lean":
        assert out.error.startswith("the response exceeded the byte cap of 67,108,864 bytes (0 ")
    else:  # LiteLLM decompresses without a limit: a compressed body is refused unread
        assert out.failure is not None and out.failure.status == 200
        assert "the stream came compressed (gzip)" in out.error
    assert out.growth_mb < MEMORY_BOUND_MB, f"peak RSS grew {out.growth_mb:.0f} MB"
    assert out.seconds < 10


@pytest.mark.asyncio
async def test_a_40_mb_unterminated_line_is_parsed_in_linear_time(hostile):
    out = await run("lean", hostile, "long_line")
    assert out.error.startswith("malformed stream event (not JSON): 'xxxxxxxx"), out.error[:200]
    assert len(out.error) < 300
    assert out.seconds < 5
    assert out.growth_mb < MEMORY_BOUND_MB


@pytest.mark.asyncio
@needs_litellm
async def test_litellm_a_40_mb_line_ends_by_the_deadline_at_the_latest(hostile):
    # LiteLLM buffers a line whole before it parses it (14 s for this one on two cores).
    out = await run("litellm", hostile, "long_line", total_timeout_s=4)
    ends = ("exceeded the total deadline of 4 s (0 token events", "stream cut: ")
    assert out.error.startswith(ends), out.error[:200]
    assert out.seconds < 7


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", BOTH)
async def test_an_html_page_with_status_200_is_named(kind, hostile):
    out = await run(kind, hostile, "html")
    assert out.failure is not None and out.failure.status == 200
    page = r"(<!DOCTYPE html>\n<html><head><title>Login</title></head>\x1b[31m<body>Sign in"
    assert f"expected an event stream, got text/html {page}" in out.error, out.error


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", BOTH)
async def test_a_malformed_event_mid_stream_fails_and_keeps_what_came_before(kind, hostile):
    out = await run(kind, hostile, "malformed")
    assert out.error.startswith("malformed stream event (not JSON): "), out.error
    assert out.tokens == 5


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", BOTH)
async def test_a_redirect_is_not_followed(kind, hostile):
    hits = len(hostile.elsewhere_hits)
    out = await run(kind, hostile, "redirect")
    assert out.failure is not None and out.failure.status == 302
    target = f"{hostile.elsewhere}/v1/chat/completions"
    assert out.failure.message == f"redirected (302) to {target}; not followed"
    assert len(hostile.elsewhere_hits) == hits


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", BOTH)
async def test_a_chunked_encoding_break_is_a_cut_that_keeps_status_200(kind, hostile):
    # aiohttp's C parser leaves such a body waiting for ever; the cut must not wait for the
    # deadline (20 s here) to be noticed.
    out = await run(kind, hostile, "chunk_break", total_timeout_s=20)
    assert out.raw is not None and out.raw.status == 200
    assert out.error.startswith("stream cut: "), out.error
    # aiohttp's C parser names the bad chunk size one way, its Python parser another.
    assert "the HTTP framing broke: " in out.error and "zz-not-a-chunk-size" in out.error
    assert out.tokens == 2
    assert out.seconds < 3


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", BOTH)
async def test_tokens_far_past_max_tokens_fail(kind, hostile):
    out = await run(kind, hostile, "flood")
    match = re.fullmatch(r"the server sent ([\d,]+) token events for max_tokens 16", out.error)
    assert match, out.error
    sent = int(match[1].replace(",", ""))
    # The lean path counts every event after the stream; LiteLLM's loop stops at its cap.
    assert sent == FLOOD_EVENTS if kind == "lean" else sent > StreamBounds.token_event_cap(16)


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", BOTH)
async def test_a_stream_without_done_or_finish_reason_is_cut(kind, hostile):
    out = await run(kind, hostile, "no_end")
    assert out.error == "stream cut: the stream ended without [DONE] or a finish_reason"
    assert out.tokens == 5


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", BOTH)
async def test_a_stream_without_token_events_fails(kind, hostile):
    out = await run(kind, hostile, "empty")
    assert out.error == "the stream carried no token events"


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", BOTH)
async def test_a_huge_error_body_is_read_only_up_to_the_bound(kind, hostile):
    out = await run(kind, hostile, "big_error")  # 5 MB of JSON
    assert out.failure is not None and out.failure.status == 500
    assert "overloaded xxx" in out.error and len(out.error) < 600
    assert out.seconds < 3


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", BOTH)
async def test_the_echo_modes_answer_with_what_the_request_carried(kind, hostile):
    # Redaction of what they echo is another test's; here the modes themselves.
    out = await run(kind, hostile, "echo_error")
    assert out.failure is not None and out.failure.status == 401
    assert "the request had Authorization: Bearer " in out.error
    out = await run(kind, hostile, "echo_event")
    assert "refused the header Authorization: Bearer " in out.error


def test_the_default_bounds_follow_their_formulas():
    bounds = StreamBounds()
    assert bounds.deadline_s(512, 120.0) == 120 + 30 + 0.25 * 512
    assert StreamBounds(total_timeout_s=7).deadline_s(10**6, 120.0) == 7
    assert bounds.byte_cap(512) == 64 << 20
    assert bounds.byte_cap(100_000) == 4096 * 100_000
    assert StreamBounds(max_bytes=10).byte_cap(100_000) == 10
    assert bounds.token_event_cap(16) == 48
    assert bounds.max_error_bytes == 64 * 1024


def test_a_request_is_bounded_by_its_own_max_tokens():
    bounds = StreamBounds(max_tokens=300, max_tokens_field="max_completion_tokens")
    assert bounds.request_max_tokens({"max_completion_tokens": 40}) == 40
    assert bounds.request_max_tokens({"max_tokens": 40}) == 300  # not this target's field
    assert bounds.request_max_tokens({"max_completion_tokens": True}) == 300


@pytest.mark.asyncio
async def test_the_session_hands_each_client_its_targets_bounds(tmp_path: Path):
    from pytest_llmbench.config.options import Settings
    from pytest_llmbench.matrix import select_targets
    from pytest_llmbench.measure.session import BenchSession

    path = tmp_path / "config.yaml"
    path.write_text(
        "defaults: {max_tokens: 300}\n"
        "providers:\n"
        "  p:\n"
        "    api_base: http://127.0.0.1:9/v1\n"
        "    max_tokens_field: max_completion_tokens\n"
        "    models: [{id: m}]\n"
    )
    bench = BenchSession(Settings(rootdir=tmp_path, config_path=path, config_explicit=True))
    (target,) = select_targets(bench.config(), bench.settings)
    client = bench._make_client(target, "http://127.0.0.1:9/v1")
    try:
        assert isinstance(client, LeanClient)
        assert client.bounds == StreamBounds(
            max_tokens=300, max_tokens_field="max_completion_tokens"
        )
    finally:
        await client.aclose()
