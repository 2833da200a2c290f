"""The OpenAI wire: stream shape, usage, reasoning, caps, errors, models list, the truth log."""

from __future__ import annotations

import json

import pytest

from pytest_llmbench.tokens import count_tokens

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

#: How late a single event may be on a busy machine (precision is tested in test_sim_timing).
LATE_MS = 10.0


def _token_deltas(reply):
    """Deltas that carry text (what METRICS.md calls token events)."""
    return [d for d in reply.deltas() if d.get("content") or d.get("reasoning_content")]


async def test_stream_opens_with_a_role_chunk_and_a_comment_then_tokens(client, sim):
    reply = await client.chat("quick")
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"].startswith("text/event-stream")
    chunks = reply.chunks()
    request_id = reply.headers["x-llmbench-request-id"]
    assert {c["id"] for c in chunks} == {request_id}
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "quick" for c in chunks)
    # Role-only first chunk (no token), the comment right after it.
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert reply.body.index(b": keep-alive") < reply.body.index(b'"content":" ')
    assert reply.comments == ["keep-alive"]
    tokens = _token_deltas(reply)
    answer = "".join(d["content"] for d in tokens)
    assert len(tokens) == 12
    assert count_tokens(answer) == 12
    # Final chunk: empty delta and a finish reason; then [DONE]; no usage unless asked.
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}
    assert reply.data()[-1] == "[DONE]"
    assert all("usage" not in c for c in chunks)
    record = sim.request(request_id)
    assert record["wire"] == "openai"
    assert record["stream"] is True
    assert record["status"] == 200
    assert record["turn"] == 1
    assert record["prompt_tokens"] == count_tokens("Hello there.")
    assert [e["tokens"] for e in record["events"]] == [1] * 12
    assert record["output_tokens"] == 12
    assert record["finish_reason"] == "stop"
    assert record["fault"] is None
    assert record["recv_ns"] < record["events"][0]["sent_ns"] < record["done_ns"]


async def test_each_request_gets_different_text(client):
    first = await client.chat("quick")
    second = await client.chat("quick")
    assert _token_deltas(first) != _token_deltas(second)


@pytest.mark.parametrize(
    ("model", "ask", "expected"),
    [
        ("quick", True, True),
        ("quick", False, False),
        ("usage-always", False, True),
        ("usage-never", True, False),
    ],
)
async def test_usage_chunk_follows_the_profile_and_the_request(client, model, ask, expected):
    extra = {"stream_options": {"include_usage": True}} if ask else {}
    reply = await client.chat(model, **extra)
    usage_chunks = [c for c in reply.chunks() if "usage" in c]
    assert bool(usage_chunks) is expected
    if expected:
        (chunk,) = usage_chunks
        assert chunk["choices"] == []
        prompt = count_tokens("Hello there.")
        assert chunk["usage"] == {
            "prompt_tokens": prompt,
            "completion_tokens": 12,
            "total_tokens": prompt + 12,
            "completion_tokens_details": {"reasoning_tokens": 0},
            "prompt_tokens_details": {"cached_tokens": 0},
        }
        assert reply.data()[-1] == "[DONE]"
        assert reply.data()[-2] == json.dumps(chunk, separators=(",", ":"))


async def test_tokens_per_event_groups_tokens(client, sim):
    reply = await client.chat("grouped")
    sizes = [count_tokens(d["content"]) for d in _token_deltas(reply)]
    assert sizes == [4, 4, 2]
    record = sim.request(reply.headers["x-llmbench-request-id"])
    assert [e["tokens"] for e in record["events"]] == [4, 4, 2]
    # The gap before an event is itl_ms times its tokens: deadlines at 5, 5+4 and 5+4+2 ms.
    due_ms = [(e["due_ns"] - record["recv_ns"]) / 1e6 for e in record["events"]]
    assert due_ms == [5.0, 9.0, 11.0]
    for event in record["events"]:
        assert 0 <= event["sent_ns"] - event["due_ns"] < LATE_MS * 1e6


async def test_think_tags_travel_as_separate_content_events(client, sim):
    reply = await client.chat("think", stream_options={"include_usage": True})
    texts = [d["content"] for d in _token_deltas(reply)]
    assert texts[0] == "<think>"
    assert texts[6] == "</think>"
    assert len(texts) == 13  # tag, 5 reasoning, tag, 6 answer
    assert count_tokens("".join(texts[7:])) == 6
    usage = reply.chunks()[-1]["usage"]
    assert usage["completion_tokens"] == 13
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 5
    record = sim.request(reply.headers["x-llmbench-request-id"])
    kinds = [e["kind"] for e in record["events"]]
    assert kinds == ["tag"] + ["reasoning"] * 5 + ["tag"] + ["answer"] * 6
    assert (record["output_tokens"], record["reasoning_tokens"]) == (13, 5)


async def test_reasoning_content_never_shares_an_event_with_the_answer(client, sim):
    reply = await client.chat("rc", stream_options={"include_usage": True})
    deltas = _token_deltas(reply)
    assert all(("content" in d) != ("reasoning_content" in d) for d in deltas)
    reasoning = [d["reasoning_content"] for d in deltas if "reasoning_content" in d]
    answer = [d["content"] for d in deltas if "content" in d]
    # 5 reasoning tokens in groups of 2 -> 2, 2, 1; then 6 answer tokens -> 2, 2, 2.
    assert [count_tokens(t) for t in reasoning] == [2, 2, 1]
    assert [count_tokens(t) for t in answer] == [2, 2, 2]
    assert deltas.index({"content": answer[0]}) == 3
    usage = reply.chunks()[-1]["usage"]
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 5
    assert usage["completion_tokens"] == 11


async def test_max_tokens_cap_gives_finish_reason_length(client, sim):
    reply = await client.chat("quick", max_tokens=5)
    assert len(_token_deltas(reply)) == 5
    assert reply.chunks()[-1]["choices"][0]["finish_reason"] == "length"
    # max_completion_tokens wins over max_tokens when both are given.
    newer = await client.chat("quick", max_tokens=50, max_completion_tokens=3)
    assert len(_token_deltas(newer)) == 3
    record = sim.request(newer.headers["x-llmbench-request-id"])
    assert (record["max_tokens"], record["finish_reason"]) == (3, "length")


async def test_prompt_over_the_context_window_is_rejected(client, sim):
    prompt = " ".join(["word"] * 30)
    reply = await client.chat("small-window", content=prompt)
    tokens = count_tokens(prompt)
    assert reply.status == 400
    assert reply.json() == {
        "error": {
            "message": (
                "This model's maximum context length is 20 tokens. However, your messages "
                f"resulted in {tokens} tokens."
            ),
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }
    }
    record = sim.request(reply.headers["x-llmbench-request-id"])
    assert (record["status"], record["prompt_tokens"], record["events"]) == (400, tokens, [])
    fits = await client.chat("small-window", content="Short.")
    assert fits.status == 200


async def test_prompt_tokens_count_every_message_and_text_part(client, sim):
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": [{"type": "text", "text": "First question."}]},
        {"role": "assistant", "content": "An answer."},
        {"role": "user", "content": "Second question."},
    ]
    reply = await client.post(
        "/chat/completions", {"model": "quick", "messages": messages, "stream": True}
    )
    record = sim.request(reply.headers["x-llmbench-request-id"])
    texts = ["You are terse.", "First question.", "An answer.", "Second question."]
    assert record["prompt_tokens"] == sum(count_tokens(t) for t in texts)
    assert record["turn"] == 2


async def test_non_streaming_answer_arrives_when_generation_would_end(client, sim):
    reply = await client.chat("rc", stream=False)
    assert reply.status == 200
    body = reply.json()
    assert body["object"] == "chat.completion"
    assert body["id"] == reply.headers["x-llmbench-request-id"]
    message = body["choices"][0]["message"]
    assert count_tokens(message["content"]) == 6
    assert count_tokens(message["reasoning_content"]) == 5
    assert body["usage"]["completion_tokens"] == 11
    record = sim.request(body["id"])
    assert record["stream"] is False
    assert record["events"] == []
    assert record["output_tokens"] == 11
    # Events of 2, 2, 1 | 2, 2, 2 tokens: ttft 5 ms + (2 + 1 + 2 + 2 + 2) ms at 1 ms per token.
    assert 14 <= (record["done_ns"] - record["recv_ns"]) / 1e6 < 14 + 5 * LATE_MS


async def test_models_lists_the_profile_names(client):
    reply = await client.get("/v1/models")
    body = reply.json()
    assert body["object"] == "list"
    names = [m["id"] for m in body["data"]]
    assert "quick" in names
    assert "claude-sim" in names
    assert all(m["object"] == "model" for m in body["data"])


async def test_unknown_model_uses_the_default_profile(client, sim):
    reply = await client.chat("no-such-model")
    assert len(_token_deltas(reply)) == 64
    record = sim.request(reply.headers["x-llmbench-request-id"])
    assert record["ttft_target_ms"] == 2.0


async def test_bad_request_is_answered_and_logged(client, sim):
    reply = await client.post("/v1/chat/completions", b"{not json")
    assert reply.status == 400
    assert reply.json()["error"]["type"] == "invalid_request_error"
    record = sim.request(reply.headers["x-llmbench-request-id"])
    assert record["status"] == 400


async def test_truth_log_endpoints(client, sim):
    reply = await client.chat("quick")
    request_id = reply.headers["x-llmbench-request-id"]
    assert (await client.get("/llmbench/health")).json() == {"ok": True}
    listed = (await client.get("/llmbench/requests")).json()
    assert request_id in [r["id"] for r in listed]
    assert (await client.get("/llmbench/requests/" + request_id)).json() == sim.request(request_id)
    assert (await client.get("/llmbench/requests/nope")).status == 404
    with pytest.raises(KeyError):
        sim.request("nope")
