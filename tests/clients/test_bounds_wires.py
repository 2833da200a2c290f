"""Every bound and check of the LiteLLM path holds in the Anthropic and Gemini wire formats.

LiteLLM's ``anthropic/<mode>`` and ``gemini/<mode>`` stream from the hostile server
(tests/hostile.py, its wires in tests/hostile_wires.py) through the ``AsyncHTTPHandler`` that
:class:`LiteLLMClient` hands them. One table, :data:`CASES`, states for every mode what the request
must end with (a failure naming the problem, or a clean success for ``ok``) and within how long;
each runs in both wires. For every case the failure text, once redacted and escaped as the plugin
does before it shows or records it (measure/redact.py), holds neither the key nor a raw control
character; outside the echo modes even the raw text never holds the key. Memory is measured as in
test_bounds.py: the growth of this process's peak RSS over the request.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from pytest_llmbench.clients.base import ProviderError, StreamBounds
from pytest_llmbench.clients.guards import body_problem
from pytest_llmbench.measure.redact import Redactor, escape_controls

from ..extras import needs_litellm
from ..hostile import ANSI, HostileServer
from ..hostile_wires import ANTHROPIC, GEMINI, WIRES, sse
from .test_bounds import (
    GUARD_S,
    KEY,
    MAX_TOKENS,
    MEMORY_BOUND_MB,
    READ_TIMEOUT_S,
    REQUEST,
    Outcome,
    _peak_rss_mb,
)

#: What a case may take beyond its own deadline: two cores shared with other work.
SLACK_S = 10.0
#: How each wire names its end in a "stream cut" failure.
ENDS = {"anthropic": "message_stop or a stop_reason", "gemini": "a finishReason"}
CAP = StreamBounds.token_event_cap(MAX_TOKENS)
NUMBER = r"[\d,]+"


@dataclass(frozen=True)
class Case:
    """One mode: the failure it must end with (a regular expression the whole text matches;
    ``<END>``, ``<HEADER>``, ``<KEY>``, ``<ELSEWHERE>`` and ``<MALFORMED>`` stand for the wire's
    end, its key header, the key, the redirect's target and the wire's broken event), or ``None``
    for a clean stream."""

    mode: str
    error: str | None
    status: int | None = None  # a failure before the stream (ProviderError) and its status
    tokens: int | None = None  # token events kept
    bounds: dict[str, Any] = field(default_factory=dict)
    within_s: float = 0.0  # the deadline it must reach, if any; SLACK_S is added
    memory: bool = False  # the growth of the peak RSS is bounded
    name: str = ""

    @property
    def id(self) -> str:
        return self.name or self.mode


CASES = [
    Case("ok", None, tokens=5),
    Case("empty", "the stream carried no token events", tokens=0),
    Case("no_end", r"stream cut: the stream ended without <END>", tokens=5),
    Case("flood", rf"the server sent ({NUMBER}) token events for max_tokens 16"),
    Case("endless", rf"the server sent ({NUMBER}) token events for max_tokens 16"),
    Case("malformed", r"malformed stream event \(not JSON\): <MALFORMED>", tokens=5),
    Case("echo_event", r"error event in stream: upstream refused the header <HEADER>: <KEY>"),
    Case(
        "trickle",
        r"exceeded the total deadline of 3 s \(0 token events, 0 chunks so far\)",
        bounds={"total_timeout_s": 3},
        within_s=3,
    ),
    Case(
        "gzip_bomb",
        r"the stream came compressed \(gzip\) though the request asked for none; "
        r"LiteLLM decompresses without a limit, so it is not read",
        status=200,
        memory=True,
    ),
    Case(
        "long_line",
        rf"the response exceeded the byte cap of 1,048,576 bytes \(0 token events, {NUMBER} "
        r"bytes so far\)",
        bounds={"max_bytes": 1 << 20},
        memory=True,
        name="long_line-byte_cap",
    ),
    Case("long_line", r"malformed stream event \(not JSON\): 'x{8}.*", tokens=0, memory=True),
    Case(
        "chunk_break",  # the cut must not wait for the deadline to be noticed
        r"stream cut: the HTTP framing broke: .*zz-not-a-chunk-size.*",
        tokens=2,
        bounds={"total_timeout_s": 20},
    ),
    Case(
        "html",
        re.escape(
            r"expected an event stream, got text/html (<!DOCTYPE html>\n<html><head><title>Login"
            r"</title></head>\x1b[31m<body>Sign in</body>)"
        ),
        status=200,
    ),
    Case("redirect", r"redirected \(302\) to <ELSEWHERE>; not followed", status=302),
    Case("big_error", r".*overloaded x{100}.*", status=500),
    Case("echo_error", r"invalid credentials; the request had <HEADER>: <KEY>", status=401),
    Case("ansi_error", re.escape(f"overloaded {ANSI}"), status=503),
]


def _pattern(case: Case, wire: str, server: HostileServer) -> str:
    assert case.error is not None
    elsewhere = server.elsewhere + (
        f"/models/{case.mode}:streamGenerateContent?alt=sse" if wire == "gemini" else "/v1/messages"
    )
    broken = WIRES[wire].malformed().partition(b"data: ")[2].strip().decode()
    places = {
        "<MALFORMED>": re.escape(repr(broken)),
        "<END>": re.escape(ENDS[wire]),
        "<HEADER>": re.escape(WIRES[wire].key_header),
        "<KEY>": re.escape(KEY),
        "<ELSEWHERE>": re.escape(elsewhere),
    }
    pattern = case.error
    for place, value in places.items():
        pattern = pattern.replace(place, value)
    return pattern


async def run(wire: str, server: HostileServer, case: Case) -> Outcome:
    from pytest_llmbench.clients.litellm_client import LiteLLMClient

    limits = StreamBounds(max_tokens=MAX_TOKENS, **case.bounds)
    model = f"{wire}/{case.mode}"
    client = LiteLLMClient(model, server.root, KEY, READ_TIMEOUT_S, bounds=limits)
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
@needs_litellm
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
@pytest.mark.parametrize("wire", ["anthropic", "gemini"])
async def test_every_mode_ends_in_time_naming_its_problem(wire: str, case: Case, hostile):
    hits = len(hostile.elsewhere_hits)
    out = await run(wire, hostile, case)
    assert out.seconds < case.within_s + SLACK_S, f"took {out.seconds:.1f} s"
    assert len(hostile.elsewhere_hits) == hits, "a redirect was followed"
    if case.memory:
        assert out.growth_mb < MEMORY_BOUND_MB, f"peak RSS grew {out.growth_mb:.0f} MB"
    if case.error is None:
        assert out.failure is None and out.raw is not None, out.failure
        assert out.raw.error is None and out.raw.status == 200, out.raw.error
        assert out.tokens == case.tokens
        return
    if case.status is not None:
        assert out.failure is not None, out.raw
        assert out.failure.status == case.status, out.failure
        error = out.failure.message
    else:
        assert out.failure is None, out.failure
        error = out.error
    match = re.fullmatch(_pattern(case, wire, hostile), error, re.DOTALL)
    assert match, error[:600]
    assert len(error) < 700, len(error)
    if match.groups():  # a count of token events: past the cap
        assert int(match[1].replace(",", "")) > CAP, error
    if case.tokens is not None:
        assert out.tokens == case.tokens
    shown = Redactor([KEY]).sanitize(error)
    assert KEY not in shown and escape_controls(shown) == shown, shown[:600]
    if not case.mode.startswith("echo_"):
        assert KEY not in error


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("wire", "path"),
    [
        ("anthropic", "/v1/messages"),
        ("gemini", "/models/ok:streamGenerateContent?alt=sse"),
        ("gemini", "/v1beta/models/ok:streamGenerateContent?alt=sse"),
    ],
)
async def test_the_hostile_server_speaks_each_wire_on_its_paths(wire, path, hostile):
    import aiohttp

    url, payload = hostile.root + path, {"model": "ok"}
    async with aiohttp.ClientSession() as session, session.post(url, json=payload) as response:
        assert response.status == 200
        body = await response.read()
    assert body == WIRES[wire].stream(5)
    assert body_problem(wire, [body], whole=True) == (None, True)


def test_a_body_is_judged_by_the_wires_own_end():
    anthropic = ANTHROPIC.head() + ANTHROPIC.tokens(2)
    stop = sse({"type": "message_delta", "delta": {"stop_reason": "end_turn"}}, "message_delta")
    assert body_problem("anthropic", [anthropic], whole=True) == (None, False)
    assert body_problem("anthropic", [anthropic + stop], whole=True) == (None, True)
    blocked = sse({"promptFeedback": {"blockReason": "SAFETY"}})
    assert body_problem("gemini", [GEMINI.tokens(2)], whole=True) == (None, False)
    assert body_problem("gemini", [blocked], whole=True) == (None, True)
    assert body_problem("gemini", [GEMINI.stream(1), b"data: [DONE]\n\n"], True) == (None, True)


def test_an_unterminated_last_event_counts_only_in_a_whole_body():
    cut = [GEMINI.tokens(2), b'data: {"candidates": [{"con']
    assert body_problem("gemini", cut, whole=False) == (None, False)
    problem, _ = body_problem("gemini", cut, whole=True)
    assert problem == """malformed stream event (not JSON): '{"candidates": [{"con'"""
    error = sse(
        {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}, "error"
    )
    assert body_problem("anthropic", [ANTHROPIC.head(), error], whole=False) == (
        "error event in stream: busy",
        False,
    )
