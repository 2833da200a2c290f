"""Anthropic Messages: ``POST /v1/messages`` (LiteLLM's ``anthropic/`` provider calls this path).

Reasoning, in either reasoning mode, is a ``thinking`` content block (``thinking_delta`` events,
closed by a ``signature_delta``) that comes before the ``text`` block.
"""

from __future__ import annotations

from collections.abc import Iterator

from pytest_llmbench.servers.sim.plan import Plan
from pytest_llmbench.servers.sim.wire import (
    MID_STREAM_ERROR,
    Context,
    ErrorKind,
    ErrorReply,
    SimRequest,
    WireFormat,
    content_texts,
    optional_limit,
    read_turns,
    sse,
)

__all__ = ["AnthropicWire"]

SIGNATURE = "c2ltdWxhdGVk"  # an opaque placeholder, as real thinking blocks carry one
_ERRORS: dict[ErrorKind, tuple[int, str, str, dict[str, str]]] = {
    "rate_limit": (
        429,
        "rate_limit_error",
        "This request would exceed the rate limit for your organization. Please try again in 1s.",
        {"retry-after": "1"},
    ),
    "server_error": (500, "api_error", "Internal server error", {}),
    "bad_request": (400, "invalid_request_error", "Invalid request.", {}),
}


def _block(kind: str) -> dict[str, object]:
    if kind == "reasoning":
        return {"type": "thinking", "thinking": "", "signature": ""}
    return {"type": "text", "text": ""}


def _delta(kind: str, text: str) -> dict[str, object]:
    if kind == "reasoning":
        return {"type": "thinking_delta", "thinking": text}
    return {"type": "text_delta", "text": text}


def _close(index: int, kind: str) -> bytes:
    out = b""
    if kind == "reasoning":
        delta = {"type": "signature_delta", "signature": SIGNATURE}
        out += sse(
            {"type": "content_block_delta", "index": index, "delta": delta}, "content_block_delta"
        )
    return out + sse({"type": "content_block_stop", "index": index}, "content_block_stop")


def _open(index: int, kind: str) -> bytes:
    return sse(
        {"type": "content_block_start", "index": index, "content_block": _block(kind)},
        "content_block_start",
    )


def _kinds(plan: Plan) -> tuple[str, str]:
    """The kinds of the first and the last content block of ``plan``."""
    if not plan.groups:
        return "answer", "answer"
    return plan.groups[0].kind, plan.groups[-1].kind


class AnthropicWire(WireFormat):
    """The Anthropic Messages API wire."""

    name = "anthropic"
    id_prefix = "msg_"
    tags = False

    def parse(self, body: object, path_model: str | None, stream: bool | None) -> SimRequest:
        body, texts, turn = read_turns(body, "messages", lambda m: content_texts(m.get("content")))
        texts = content_texts(body.get("system")) + texts
        return SimRequest(
            model=str(body.get("model", "")),
            texts=tuple(texts),
            turn=turn,
            max_tokens=optional_limit(body, "max_tokens"),
            stream=body.get("stream") is True,
        )

    def start(self, ctx: Context, plan: Plan) -> bytes:
        usage = {
            "input_tokens": ctx.prompt_tokens,
            "output_tokens": 0,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        message: dict[str, object] = {
            "id": ctx.id,
            "type": "message",
            "role": "assistant",
            "model": ctx.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        first, _ = _kinds(plan)
        return (
            sse({"type": "message_start", "message": message}, "message_start")
            + _open(0, first)
            + sse({"type": "ping"}, "ping")
        )

    def events(self, ctx: Context, plan: Plan) -> Iterator[bytes]:
        index, kind = 0, _kinds(plan)[0]
        for group in plan.groups:
            head = b""
            if group.kind != kind:
                head = _close(index, kind) + _open(index + 1, group.kind)
                index, kind = index + 1, group.kind
            body = {
                "type": "content_block_delta",
                "index": index,
                "delta": _delta(kind, group.text),
            }
            yield head + sse(body, "content_block_delta")

    def _stop_reason(self, plan: Plan) -> str:
        return "max_tokens" if plan.finish_reason == "length" else "end_turn"

    def end(self, ctx: Context, plan: Plan) -> bytes:
        first, last = _kinds(plan)
        last_index = 1 if first != last else 0
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": self._stop_reason(plan), "stop_sequence": None},
            "usage": {"output_tokens": plan.output_tokens},
        }
        return (
            _close(last_index, last)
            + sse(delta, "message_delta")
            + sse({"type": "message_stop"}, "message_stop")
        )

    def malformed(self, ctx: Context) -> bytes:
        return b'event: content_block_delta\ndata: {"type": "content_block_delta", "delta": {\n\n'

    def error_event(self, ctx: Context) -> bytes:
        return sse(
            {"type": "error", "error": {"type": "api_error", "message": MID_STREAM_ERROR}}, "error"
        )

    def complete(self, ctx: Context, plan: Plan) -> object:
        content: list[dict[str, object]] = []
        if plan.reasoning_tokens:
            thinking = plan.text_of("reasoning")
            content.append({"type": "thinking", "thinking": thinking, "signature": SIGNATURE})
        content.append({"type": "text", "text": plan.text_of("answer")})
        return {
            "id": ctx.id,
            "type": "message",
            "role": "assistant",
            "model": ctx.model,
            "content": content,
            "stop_reason": self._stop_reason(plan),
            "stop_sequence": None,
            "usage": {"input_tokens": ctx.prompt_tokens, "output_tokens": plan.output_tokens},
        }

    def error(self, kind: ErrorKind, message: str | None = None) -> ErrorReply:
        status, err_type, default, headers = _ERRORS[kind]
        body = {"type": "error", "error": {"type": err_type, "message": message or default}}
        return status, body, headers

    def context_error(self, limit: int, prompt_tokens: int) -> ErrorReply:
        message = f"prompt is too long: {prompt_tokens} tokens > {limit} maximum"
        return self.error("bad_request", message)
