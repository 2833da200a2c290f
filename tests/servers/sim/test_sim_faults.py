"""Every fault mode does what the brief says, on the wire and in the truth log."""

from __future__ import annotations

import asyncio
import itertools
import json
import time

import aiohttp
import pytest

from .conftest import STALL_S

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


def _text_events(reply) -> int:
    return sum(1 for d in reply.data() if '"content":" ' in d)


@pytest.mark.parametrize(
    ("model", "status", "body", "retry_after"),
    [
        (
            "f-429",
            429,
            {
                "error": {
                    "message": (
                        "Rate limit reached for requests per min (RPM). Please try again in 1s."
                    ),
                    "type": "requests",
                    "code": "rate_limit_exceeded",
                }
            },
            "1",
        ),
        (
            "f-500",
            500,
            {
                "error": {
                    "message": "The server had an error while processing your request.",
                    "type": "server_error",
                    "code": None,
                }
            },
            None,
        ),
    ],
)
@pytest.mark.parametrize("stream", [True, False])
async def test_http_faults_answer_at_once(client, sim, model, status, body, retry_after, stream):
    started = time.perf_counter()
    reply = await client.chat(model, stream=stream)
    assert time.perf_counter() - started < 0.5
    assert reply.status == status
    assert reply.json() == body
    assert reply.headers.get("retry-after") == retry_after
    record = sim.request(reply.headers["x-llmbench-request-id"])
    fault = {"f-429": "http_429", "f-500": "http_500"}[model]
    assert (record["status"], record["fault"], record["events"]) == (status, fault, [])


async def test_cut_breaks_the_chunked_body_after_n_tokens(client, sim):
    reply = await client.chat("f-cut")
    assert reply.status == 200
    assert isinstance(reply.error, aiohttp.ClientPayloadError)
    assert _text_events(reply) == 4
    assert b'finish_reason":"stop' not in reply.body
    assert b"[DONE]" not in reply.body
    record = sim.request(reply.headers["x-llmbench-request-id"])
    assert (record["fault"], record["output_tokens"], record["finish_reason"]) == ("cut", 4, None)
    assert record["fault_ns"] >= record["events"][-1]["sent_ns"]


async def test_cut_without_streaming_drops_the_connection(client, sim):
    before = len(sim.requests())
    reply = await client.chat("f-cut", stream=False)
    assert isinstance(reply.error, aiohttp.ServerDisconnectedError)
    (record,) = sim.requests()[before:]
    assert (record["fault"], record["status"], record["output_tokens"]) == ("cut", 0, 0)


async def test_malformed_event_then_the_stream_carries_on(client, sim):
    reply = await client.chat("f-malformed", stream_options={"include_usage": True})
    assert reply.error is None
    data = reply.data()
    bad = [i for i, d in enumerate(data) if d == '{"id": "chatcmpl-x", "choices": [']
    assert len(bad) == 1
    with pytest.raises(json.JSONDecodeError):
        json.loads(data[bad[0]])
    assert sum('"content":" ' in d for d in data[: bad[0]]) == 3
    assert _text_events(reply) == 12
    assert data[-1] == "[DONE]"
    valid = [json.loads(d) for i, d in enumerate(data) if i != bad[0] and d != "[DONE]"]
    assert valid[-1]["usage"]["completion_tokens"] == 12
    record = sim.request(reply.headers["x-llmbench-request-id"])
    assert (record["fault"], record["output_tokens"], record["finish_reason"]) == (
        "malformed",
        12,
        "stop",
    )


async def test_error_event_ends_the_stream(client, sim):
    reply = await client.chat("f-error")
    assert reply.status == 200
    assert reply.error is None
    data = reply.data()
    assert _text_events(reply) == 2
    assert json.loads(data[-2]) == {
        "error": {
            "message": "Simulated upstream failure mid-stream",
            "type": "server_error",
            "code": 500,
        }
    }
    assert data[-1] == "[DONE]"
    assert all('finish_reason":"stop' not in d for d in data)
    record = sim.request(reply.headers["x-llmbench-request-id"])
    assert (record["fault"], record["output_tokens"], record["finish_reason"]) == (
        "error_event",
        2,
        None,
    )


async def test_stall_outlasts_a_client_timeout(client, sim):
    reply = await client.post(
        "/v1/chat/completions",
        {"model": "f-stall", "stream": True, "messages": [{"role": "user", "content": "x"}]},
        timeout=0.4,
    )
    assert isinstance(reply.error, asyncio.TimeoutError)
    assert _text_events(reply) == 3


async def test_stall_then_finishes_normally(client, sim):
    started = time.perf_counter()
    reply = await client.chat("f-stall")
    elapsed = time.perf_counter() - started
    assert reply.error is None
    assert _text_events(reply) == 12
    assert reply.data()[-1] == "[DONE]"
    assert elapsed >= STALL_S
    record = sim.request(reply.headers["x-llmbench-request-id"])
    due = [b["due_ns"] - a["due_ns"] for a, b in itertools.pairwise(record["events"])]
    # Between the 3rd and the 4th token: the stall, then the usual 1 ms.
    assert due == [1_000_000] * 2 + [round(STALL_S * 1e9) + 1_000_000] + [1_000_000] * 8
    sent = [b["sent_ns"] - a["sent_ns"] for a, b in itertools.pairwise(record["events"])]
    assert sent[2] / 1e9 == pytest.approx(STALL_S, abs=0.02)
    assert record["finish_reason"] == "stop"


async def test_fault_at_turn_hits_only_that_turn(client, sim):
    def conversation(users: int) -> list[dict[str, str]]:
        messages = []
        for i in range(users):
            if i:
                messages.append({"role": "assistant", "content": "ok"})
            messages.append({"role": "user", "content": f"question {i}"})
        return messages

    statuses = []
    for users in (1, 2, 3):
        body = {"model": "f-turn2", "stream": True, "messages": conversation(users)}
        reply = await client.post("/v1/chat/completions", body)
        statuses.append(reply.status)
        record = sim.request(reply.headers["x-llmbench-request-id"])
        assert record["turn"] == users
        assert record["fault"] == ("http_500" if users == 2 else None)
    assert statuses == [200, 500, 200]
