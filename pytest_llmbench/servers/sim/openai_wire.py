"""OpenAI Chat Completions: ``POST /v1/chat/completions`` (and ``/chat/completions``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

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

__all__ = ["OpenAIWire"]

_ERRORS: dict[ErrorKind, tuple[int, str, str, str | None, dict[str, str]]] = {
    "rate_limit": (
        429,
        "Rate limit reached for requests per min (RPM). Please try again in 1s.",
        "requests",
        "rate_limit_exceeded",
        {"retry-after": "1"},
    ),
    "server_error": (
        500,
        "The server had an error while processing your request.",
        "server_error",
        None,
        {},
    ),
    "bad_request": (400, "Invalid request.", "invalid_request_error", None, {}),
}


class OpenAIWire(WireFormat):
    """The OpenAI chat-completions wire (what vLLM, llama.cpp, Ollama and others also speak)."""

    name = "openai"
    id_prefix = "chatcmpl-"
    tags = True

    def parse(self, body: object, path_model: str | None, stream: bool | None) -> SimRequest:
        body, texts, turn = read_turns(body, "messages", lambda m: content_texts(m.get("content")))
        options = body.get("stream_options")
        include_usage = isinstance(options, Mapping) and options.get("include_usage") is True
        return SimRequest(
            model=str(body.get("model", "")),
            texts=tuple(texts),
            turn=turn,
            max_tokens=optional_limit(body, "max_completion_tokens", "max_tokens"),
            stream=body.get("stream") is True,
            include_usage=include_usage,
        )

    def _chunk(self, ctx: Context, delta: Mapping[str, object], finish: str | None) -> bytes:
        return sse(
            {
                "id": ctx.id,
                "object": "chat.completion.chunk",
                "created": ctx.created,
                "model": ctx.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
        )

    def start(self, ctx: Context, plan: Plan) -> bytes:
        return self._chunk(ctx, {"role": "assistant", "content": ""}, None) + b": keep-alive\n\n"

    def events(self, ctx: Context, plan: Plan) -> Iterator[bytes]:
        in_tags = any(g.kind == "tag" for g in plan.groups)
        for group in plan.groups:
            if group.kind == "reasoning" and not in_tags:
                yield self._chunk(ctx, {"reasoning_content": group.text}, None)
            else:
                yield self._chunk(ctx, {"content": group.text}, None)

    def usage(self, ctx: Context, plan: Plan) -> dict[str, object]:
        """The ``usage`` object for ``plan``."""
        return {
            "prompt_tokens": ctx.prompt_tokens,
            "completion_tokens": plan.output_tokens,
            "total_tokens": ctx.prompt_tokens + plan.output_tokens,
            "completion_tokens_details": {"reasoning_tokens": plan.reasoning_tokens},
            "prompt_tokens_details": {"cached_tokens": 0},
        }

    def end(self, ctx: Context, plan: Plan) -> bytes:
        out = self._chunk(ctx, {}, plan.finish_reason)
        if ctx.send_usage:
            out += sse(
                {
                    "id": ctx.id,
                    "object": "chat.completion.chunk",
                    "created": ctx.created,
                    "model": ctx.model,
                    "choices": [],
                    "usage": self.usage(ctx, plan),
                }
            )
        return out + b"data: [DONE]\n\n"

    def malformed(self, ctx: Context) -> bytes:
        return b'data: {"id": "chatcmpl-x", "choices": [\n\n'

    def error_event(self, ctx: Context) -> bytes:
        body = {"error": {"message": MID_STREAM_ERROR, "type": "server_error", "code": 500}}
        return sse(body) + b"data: [DONE]\n\n"

    def complete(self, ctx: Context, plan: Plan) -> object:
        in_tags = any(g.kind == "tag" for g in plan.groups)
        message: dict[str, object] = {"role": "assistant"}
        if in_tags:
            message["content"] = plan.text_of("tag", "reasoning", "answer")
        else:
            message["content"] = plan.text_of("answer")
            if plan.reasoning_tokens:
                message["reasoning_content"] = plan.text_of("reasoning")
        body: dict[str, object] = {
            "id": ctx.id,
            "object": "chat.completion",
            "created": ctx.created,
            "model": ctx.model,
            "choices": [{"index": 0, "message": message, "finish_reason": plan.finish_reason}],
        }
        if ctx.usage_mode != "never":
            body["usage"] = self.usage(ctx, plan)
        return body

    def error(self, kind: ErrorKind, message: str | None = None) -> ErrorReply:
        status, default, err_type, code, headers = _ERRORS[kind]
        error = {"message": message or default, "type": err_type, "code": code}
        return status, {"error": error}, headers

    def context_error(self, limit: int, prompt_tokens: int) -> ErrorReply:
        message = (
            f"This model's maximum context length is {limit} tokens. However, your messages "
            f"resulted in {prompt_tokens} tokens."
        )
        error = {
            "message": message,
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }
        return 400, {"error": error}, {}
