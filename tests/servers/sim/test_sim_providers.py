"""The Anthropic and Gemini wires: raw event shapes, and end to end through LiteLLM."""

from __future__ import annotations

import pytest

from pytest_llmbench.tokens import count_tokens

from ...extras import HAS_LITELLM

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

USER = [{"role": "user", "content": "Hello there."}]
GEMINI_USER = [{"role": "user", "parts": [{"text": "Hello there."}]}]


async def test_anthropic_stream_events(client, sim):
    body = {"model": "claude-sim", "messages": USER, "stream": True, "max_tokens": 100}
    reply = await client.post("/v1/messages", body)
    assert reply.status == 200
    names = [e.event for e in reply.events]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    payloads = [e.json() for e in reply.events]
    assert all(p["type"] == n for p, n in zip(payloads, names, strict=True))
    start = payloads[0]["message"]
    assert start["id"] == reply.headers["x-llmbench-request-id"]
    assert start["usage"]["input_tokens"] == count_tokens("Hello there.")
    # The thinking block (index 0) comes first and is closed before the text block opens.
    assert payloads[1]["content_block"]["type"] == "thinking"
    deltas = [p for p in payloads if p["type"] == "content_block_delta"]
    thinking = [d["delta"]["thinking"] for d in deltas if d["delta"]["type"] == "thinking_delta"]
    text = [d["delta"]["text"] for d in deltas if d["delta"]["type"] == "text_delta"]
    assert (len(thinking), len(text)) == (4, 12)
    assert all(d["index"] == 0 for d in deltas if d["delta"]["type"] == "thinking_delta")
    assert all(d["index"] == 1 for d in deltas if d["delta"]["type"] == "text_delta")
    opened = [p for p in payloads if p["type"] == "content_block_start"]
    assert [(p["index"], p["content_block"]["type"]) for p in opened] == [
        (0, "thinking"),
        (1, "text"),
    ]
    assert names.index("content_block_stop") < names.index("content_block_start", 2)
    final = payloads[-2]
    assert final["delta"]["stop_reason"] == "end_turn"
    assert final["usage"]["output_tokens"] == 16
    record = sim.request(start["id"])
    assert record["wire"] == "anthropic"
    assert [e["kind"] for e in record["events"]] == ["reasoning"] * 4 + ["answer"] * 12


async def test_anthropic_cap_errors_and_complete_response(client):
    capped = await client.post(
        "/v1/messages", {"model": "claude-plain", "messages": USER, "stream": True, "max_tokens": 3}
    )
    assert capped.events[-2].json()["delta"]["stop_reason"] == "max_tokens"
    whole = await client.post(
        "/v1/messages", {"model": "claude-sim", "messages": USER, "max_tokens": 100}
    )
    body = whole.json()
    assert [b["type"] for b in body["content"]] == ["thinking", "text"]
    assert count_tokens(body["content"][1]["text"]) == 12
    assert body["usage"] == {"input_tokens": count_tokens("Hello there."), "output_tokens": 16}
    limited = await client.post("/v1/messages", {"model": "f-429", "messages": USER})
    assert limited.status == 429
    assert limited.json()["type"] == "error"
    assert limited.json()["error"]["type"] == "rate_limit_error"
    broken = await client.post("/v1/messages", {"model": "f-500", "messages": USER})
    assert broken.json()["error"]["type"] == "api_error"


async def test_gemini_stream_events(client, sim):
    reply = await client.post(
        "/v1beta/models/gemini-sim:streamGenerateContent?alt=sse",
        {"contents": GEMINI_USER, "generationConfig": {"maxOutputTokens": 100}},
    )
    assert reply.status == 200
    responses = [e.json() for e in reply.events]
    request_id = reply.headers["x-llmbench-request-id"]
    assert {r["responseId"] for r in responses} == {request_id}
    parts = [p for r in responses for p in r["candidates"][0]["content"]["parts"] if p["text"]]
    assert all(r["candidates"][0]["content"]["role"] == "model" for r in responses)
    assert [bool(p.get("thought")) for p in parts] == [True] * 4 + [False] * 12
    last = responses[-1]
    assert last["candidates"][0]["finishReason"] == "STOP"
    assert all("finishReason" not in r["candidates"][0] for r in responses[:-1])
    assert last["usageMetadata"] == {
        "promptTokenCount": count_tokens("Hello there."),
        "candidatesTokenCount": 12,
        "thoughtsTokenCount": 4,
        "totalTokenCount": count_tokens("Hello there.") + 16,
    }
    record = sim.request(request_id)
    assert (record["wire"], record["model"], record["max_tokens"]) == ("gemini", "gemini-sim", 100)


async def test_gemini_cap_errors_and_complete_response(client):
    capped = await client.post(
        "/models/gemini-plain:streamGenerateContent?alt=sse",
        {"contents": GEMINI_USER, "generation_config": {"max_output_tokens": 5}},
    )
    last = capped.events[-1].json()
    assert last["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert last["usageMetadata"]["candidatesTokenCount"] == 5
    whole = await client.post("/models/gemini-sim:generateContent", {"contents": GEMINI_USER})
    parts = whole.json()["candidates"][0]["content"]["parts"]
    assert [bool(p.get("thought")) for p in parts] == [True, False]
    assert count_tokens(parts[1]["text"]) == 12
    limited = await client.post("/v1beta/models/f-429:generateContent", {"contents": GEMINI_USER})
    assert limited.status == 429
    assert limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    broken = await client.post("/v1beta/models/f-500:generateContent", {"contents": GEMINI_USER})
    assert broken.json()["error"] == {
        "code": 500,
        "message": broken.json()["error"]["message"],
        "status": "INTERNAL",
    }
    unknown = await client.post("/v1beta/models/gemini-sim:countTokens", {"contents": []})
    assert unknown.status == 404


# --- through LiteLLM ------------------------------------------------------------------------


# LiteLLM's own imports warn about pydantic details; that is not what these tests look at.
quiet_litellm = pytest.mark.filterwarnings(
    "ignore::UserWarning:pydantic", "ignore::DeprecationWarning:litellm"
)


@pytest.fixture(scope="module")
def litellm():
    if not HAS_LITELLM:
        pytest.skip("the [litellm] extra is not installed")
    from pytest_llmbench.clients.litellm_client import import_litellm

    return import_litellm()


async def _litellm_stream(litellm, **kwargs):
    response = await litellm.acompletion(
        api_key="x", messages=USER, stream=True, max_tokens=50, num_retries=0, **kwargs
    )
    text, reasoning, finish, usage, ids = "", "", None, None, set()
    async for chunk in response:
        ids.add(chunk.id)
        if chunk.choices:
            delta = chunk.choices[0].delta
            text += delta.content or ""
            reasoning += getattr(delta, "reasoning_content", None) or ""
            finish = chunk.choices[0].finish_reason or finish
        usage = getattr(chunk, "usage", None) or usage
    return text, reasoning, finish, usage, ids


@quiet_litellm
@pytest.mark.parametrize(
    ("model", "wire"),
    [("anthropic/claude-sim", "anthropic"), ("gemini/gemini-sim", "gemini")],
)
async def test_litellm_streams_from_the_simulator(litellm, sim, model, wire):
    before = len(sim.requests())
    text, reasoning, finish, usage, _ = await _litellm_stream(
        litellm, model=model, api_base=sim.base_url, stream_options={"include_usage": True}
    )
    (record,) = sim.requests()[before:]
    assert (record["wire"], record["stream"], record["max_tokens"]) == (wire, True, 50)
    assert record["model"] == model.split("/", 1)[1]
    assert count_tokens(text) == 12
    assert count_tokens(reasoning) == 4
    assert finish == "stop"
    assert usage.completion_tokens == record["output_tokens"] == 16
    assert usage.completion_tokens_details.reasoning_tokens == 4
    assert usage.prompt_tokens == record["prompt_tokens"]


@quiet_litellm
@pytest.mark.parametrize("model", ["anthropic/claude-sim", "gemini/gemini-sim"])
async def test_litellm_complete_responses(litellm, sim, model):
    response = await litellm.acompletion(
        model=model, api_base=sim.base_url, api_key="x", messages=USER, max_tokens=50
    )
    assert count_tokens(response.choices[0].message.content) == 12
    assert response.usage.completion_tokens == 16


@quiet_litellm
async def test_litellm_max_tokens_reaches_the_gemini_and_anthropic_wires(litellm, sim):
    for model in ("anthropic/claude-plain", "gemini/gemini-plain"):
        response = await litellm.acompletion(
            model=model, api_base=sim.base_url, api_key="x", messages=USER, max_tokens=7
        )
        assert count_tokens(response.choices[0].message.content) == 7
        assert response.choices[0].finish_reason == "length"


@quiet_litellm
async def test_litellm_openai_provider_with_v1_base(litellm, sim):
    text, reasoning, finish, usage, ids = await _litellm_stream(
        litellm,
        model="openai/rc",
        api_base=sim.base_url + "/v1",
        stream_options={"include_usage": True},
    )
    assert count_tokens(text) == 6
    assert count_tokens(reasoning) == 5
    assert finish == "stop"
    assert usage.completion_tokens == 11
    (request_id,) = ids
    assert sim.request(request_id)["wire"] == "openai"
