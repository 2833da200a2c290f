"""Stream events are rendered one at a time, and the bytes are the same as when all were rendered
ahead; the plan's grouping and gaps are the same as the token-by-token rule gave."""

from __future__ import annotations

import asyncio
import json
import random
import time
import urllib.parse
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest

from pytest_llmbench.servers.sim import respond
from pytest_llmbench.servers.sim.anthropic_wire import AnthropicWire, _close, _delta, _kinds, _open
from pytest_llmbench.servers.sim.batch import ModelLoad
from pytest_llmbench.servers.sim.gemini_wire import GeminiWire
from pytest_llmbench.servers.sim.log import RequestRecord, TruthLog
from pytest_llmbench.servers.sim.openai_wire import OpenAIWire
from pytest_llmbench.servers.sim.plan import (
    EventGroup,
    Plan,
    TokenKind,
    _group,
    _sequence,
    build_plan,
)
from pytest_llmbench.servers.sim.profile import SimProfile
from pytest_llmbench.servers.sim.receipt import RECV_NS, ArrivalStamp, stamp_receipts
from pytest_llmbench.servers.sim.wire import Context, WireFormat, sse


# -- the eager rendering as it was before events were built lazily (the reference) -----------------
def _eager_openai(wire: OpenAIWire, ctx: Context, plan: Plan) -> list[bytes]:
    in_tags = any(g.kind == "tag" for g in plan.groups)
    out: list[bytes] = []
    for group in plan.groups:
        if group.kind == "reasoning" and not in_tags:
            out.append(wire._chunk(ctx, {"reasoning_content": group.text}, None))
        else:
            out.append(wire._chunk(ctx, {"content": group.text}, None))
    return out


def _eager_anthropic(wire: AnthropicWire, ctx: Context, plan: Plan) -> list[bytes]:
    out: list[bytes] = []
    index, kind = 0, _kinds(plan)[0]
    for group in plan.groups:
        head = b""
        if group.kind != kind:
            head = _close(index, kind) + _open(index + 1, group.kind)
            index, kind = index + 1, group.kind
        body = {"type": "content_block_delta", "index": index, "delta": _delta(kind, group.text)}
        out.append(head + sse(body, "content_block_delta"))
    return out


def _eager_gemini(wire: GeminiWire, ctx: Context, plan: Plan) -> list[bytes]:
    return [sse(wire._response(ctx, [wire._part(g)])) for g in plan.groups]


def _eager(wire: WireFormat, ctx: Context, plan: Plan) -> list[bytes]:
    if isinstance(wire, OpenAIWire):
        return _eager_openai(wire, ctx, plan)
    if isinstance(wire, AnthropicWire):
        return _eager_anthropic(wire, ctx, plan)
    assert isinstance(wire, GeminiWire)
    return _eager_gemini(wire, ctx, plan)


def _old_group(sequence: list[tuple[TokenKind, str]], per_event: int) -> list[EventGroup]:
    """The grouping rule token by token, as ``plan._group`` was written before."""
    groups: list[EventGroup] = []
    pending: list[str] = []
    pending_kind: TokenKind = "answer"
    for kind, text in sequence:
        if kind != pending_kind or kind == "tag" or len(pending) >= per_event:
            if pending:
                groups.append(EventGroup(pending_kind, "".join(pending), len(pending)))
                pending.clear()
            pending_kind = kind
        pending.append(text)
    if pending:
        groups.append(EventGroup(pending_kind, "".join(pending), len(pending)))
    return groups


PROFILES = [
    SimProfile(output_tokens=200),
    SimProfile(output_tokens=0),
    SimProfile(output_tokens=13, tokens_per_event=3, jitter_ms=2.0, seed=4),
    SimProfile(output_tokens=9, reasoning="think_tags", reasoning_tokens=5),
    SimProfile(output_tokens=9, reasoning="think_tags", reasoning_tokens=7, tokens_per_event=2),
    SimProfile(output_tokens=6, reasoning="reasoning_content", reasoning_tokens=5),
    SimProfile(
        output_tokens=30,
        reasoning="reasoning_content",
        reasoning_tokens=11,
        tokens_per_event=4,
        jitter_ms=20.0,
        itl_ms=3.0,
    ),
]
WIRES: list[WireFormat] = [OpenAIWire(), AnthropicWire(), GeminiWire()]
CASES = [
    (profile, max_tokens, number)
    for profile in PROFILES
    for max_tokens in (None, 1, 6)
    for number in (1, 2)
]


@pytest.mark.parametrize("wire", WIRES, ids=lambda w: w.name)
@pytest.mark.parametrize(("profile", "max_tokens", "number"), CASES)
def test_lazy_events_are_byte_identical_to_the_eager_rendering(wire, profile, max_tokens, number):
    plan = build_plan(profile, 57, max_tokens, number, tags=wire.tags)
    ctx = Context(id="r-1", model="m", prompt_tokens=57, include_usage=True, created=1_700_000_000)
    events = wire.events(ctx, plan)
    assert isinstance(events, Iterator)  # built when asked for, not a list made ahead
    lazy = list(events)
    eager = _eager(wire, ctx, plan)
    assert lazy == eager  # event by event, so the same bytes in the same order
    assert b"".join(wire.events(ctx, plan)) == b"".join(eager)
    assert len(lazy) == len(plan.groups)


def _old_plan(
    profile: SimProfile, max_tokens: int | None, number: int, tags: bool
) -> tuple[list[EventGroup], list[int]]:
    """The groups and gaps as ``build_plan`` made them before (same draws, in the same order)."""
    rng = random.Random(f"{profile.seed}:{number}")
    sequence = _sequence(profile, rng, tags)
    if max_tokens is not None:
        sequence = sequence[:max_tokens]
    groups = _old_group(sequence, profile.tokens_per_event)
    gaps = [0]
    for group in groups[1:]:
        gap_ms = profile.itl_ms * group.tokens
        if profile.jitter_ms > 0:
            gap_ms += rng.uniform(-profile.jitter_ms, profile.jitter_ms)
        gaps.append(round(max(0.0, gap_ms) * 1e6))
    return groups, gaps[: len(groups)] if groups else []


@pytest.mark.parametrize(("profile", "max_tokens", "number"), CASES)
@pytest.mark.parametrize("tags", [True, False])
def test_plans_group_and_pace_as_before(profile, max_tokens, number, tags):
    plan = build_plan(profile, 0, max_tokens, number, tags=tags)
    groups, gaps = _old_plan(profile, max_tokens, number, tags)
    assert list(plan.groups) == groups
    assert list(plan.gaps_ns) == gaps


def test_grouping_matches_the_token_by_token_rule_on_random_sequences():
    rng = random.Random(11)
    kinds: list[TokenKind] = ["reasoning", "answer", "tag"]
    for _ in range(300):
        sequence = [(rng.choice(kinds), f" w{i}") for i in range(rng.randrange(0, 40))]
        per_event = rng.randrange(1, 6)
        assert _group(sequence, per_event) == _old_group(sequence, per_event)


# -- the order of the work in a stream ------------------------------------------------------------
class _Transport:
    def is_closing(self) -> bool:
        return False


class _Request:
    transport = _Transport()


class _Response:
    def __init__(self, steps: list[str]) -> None:
        self.steps = steps
        self.body = b""

    async def prepare(self, request: object) -> None:
        self.steps.append("prepare")

    async def write(self, data: bytes) -> None:
        self.steps.append("write")
        self.body += data

    async def write_eof(self, data: bytes = b"") -> None:
        self.steps.append("eof")
        self.body += data


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "wire", [OpenAIWire(), AnthropicWire(), GeminiWire()], ids=lambda w: w.name
)
async def test_each_event_is_rendered_before_its_sleep_and_written_right_after_the_wake_up(
    wire, monkeypatch
):
    steps: list[str] = []
    rendered = type(wire)().events

    def events(ctx: Context, plan: Plan) -> Iterator[bytes]:
        for i, payload in enumerate(rendered(ctx, plan)):
            steps.append(f"render {i}")
            yield payload

    async def sleep_until(deadline_ns: int) -> None:
        steps.append("sleep")

    def perf_counter_ns() -> int:
        steps.append("stamp")
        return len(steps)

    monkeypatch.setattr(wire, "events", events)
    monkeypatch.setattr(respond, "sleep_until", sleep_until)
    monkeypatch.setattr(respond, "time", SimpleNamespace(perf_counter_ns=perf_counter_ns))
    profile = SimProfile(output_tokens=3, ttft_ms=0, itl_ms=0, reasoning="reasoning_content",
                         reasoning_tokens=1)  # fmt: skip
    plan = build_plan(profile, 5, None, 1, tags=wire.tags)
    ctx = Context(id="r-2", model="m", prompt_tokens=5)
    rec = RequestRecord(id="r-2", wire=wire.name, model="m", stream=True, recv_ns=0)
    log = TruthLog()
    job = respond.Job(cast(Any, _Request()), wire, rec, log)
    lease = await ModelLoad(profile).admit(0, plan.ttft_ns)
    resp = _Response(steps)
    await respond._stream(job, lease, cast(Any, resp), ctx, plan, None, 0.0)
    event = ["sleep", "stamp", "write"]  # the wake-up, the stamp, the write: nothing between
    head = ["render 0", "prepare", *(["write"] if wire.start(ctx, plan) else [])]
    assert steps == [
        *head,  # the first event is built before the stream opens
        *event, "render 1", *event, "render 2", *event, "render 3", *event,
        "sleep", "stamp", "eof",  # the final wait (a stall's), done_ns, the end of the stream
    ]  # fmt: skip
    eager = _eager(wire, ctx, plan)
    assert resp.body == wire.start(ctx, plan) + b"".join(eager) + wire.end(ctx, plan)
    assert [e.tokens for e in rec.events] == [1, 1, 1, 1]
    assert log.has("r-2")
    assert rec.finish_reason == plan.finish_reason


def test_receipt_is_the_arrival_of_the_bytes_or_the_factorys_time():
    made: list[dict[str, int]] = []

    def factory(*args: object) -> Any:
        request: dict[str, int] = {}
        made.append(request)
        return request

    class _Server:
        request_factory = staticmethod(factory)

    class _Transport(asyncio.BaseTransport):
        def __init__(self, protocol: asyncio.BaseProtocol) -> None:
            super().__init__()
            self.protocol = protocol

        def get_protocol(self) -> asyncio.BaseProtocol:
            return self.protocol

    front = ArrivalStamp(cast(Any, SimpleNamespace(data_received=lambda data: None)))
    front.data_received(b"POST / HTTP/1.1\r\n")
    transport = _Transport(front)
    server = _Server()
    stamp_receipts(cast(Any, server))
    arrived = server.request_factory("message", "payload", SimpleNamespace(transport=transport))
    assert arrived is made[0]
    assert arrived[RECV_NS] == front.last_ns  # when the bytes came in, not when it was made
    before = time.perf_counter_ns()
    plain = server.request_factory("message", "payload", SimpleNamespace(transport=None))
    assert before <= plain[RECV_NS] <= time.perf_counter_ns()  # no front: the factory's time


@pytest.mark.integration
@pytest.mark.asyncio
async def test_the_server_stamps_a_request_when_its_bytes_come_in(sim):
    """Two requests pipelined on one connection, in one write: the second waits for the first's
    answer before its handler starts, but was received with it."""
    url = urllib.parse.urlsplit(sim.base_url)
    body = json.dumps(
        {"model": "quick", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    ).encode()
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    since = time.perf_counter_ns()
    writer.write((head + body) * 2)
    for _ in range(2):
        await asyncio.wait_for(reader.readuntil(b"\r\n0\r\n\r\n"), 10)
    writer.close()
    first, second = sorted(sim.requests(since_ns=since), key=lambda r: r["recv_ns"])
    assert first["done_ns"] > first["recv_ns"] + 10 * MS  # 12 tokens, 1 ms apart, after 5 ms
    assert second["recv_ns"] - first["recv_ns"] < 5 * MS  # not at first["done_ns"] or later
    assert second["events"][0]["sent_ns"] > first["done_ns"]  # served after the first


MS = 1_000_000
