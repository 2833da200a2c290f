"""Gemini ``generateContent`` / ``streamGenerateContent?alt=sse``.

Served under ``/v1beta/models/{model}:…`` (Google's path) and ``/models/{model}:…`` (what LiteLLM's
``gemini/`` provider calls when given an ``api_base``). Reasoning, in either reasoning mode, is sent
as parts with ``"thought": true``. Streams are always SSE, whether or not ``alt=sse`` is given.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pytest_llmbench.servers.sim.plan import EventGroup, Plan
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

__all__ = ["GeminiWire"]

_ERRORS: dict[ErrorKind, tuple[int, str, str]] = {
    "rate_limit": (429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    "server_error": (500, "INTERNAL", "An internal error has occurred. Please retry."),
    "bad_request": (400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
}


def _parts_texts(holder: object) -> list[str]:
    if isinstance(holder, Mapping):
        return content_texts(holder.get("parts"))
    return []


def _either(body: Mapping[str, object], camel: str, snake: str) -> object:
    value = body.get(camel)
    return body.get(snake) if value is None else value


class GeminiWire(WireFormat):
    """The Gemini API (Google AI Studio) wire."""

    name = "gemini"
    id_prefix = ""
    tags = False

    def parse(self, body: object, path_model: str | None, stream: bool | None) -> SimRequest:
        body, texts, turn = read_turns(body, "contents", _parts_texts, default_role="user")
        texts = _parts_texts(_either(body, "systemInstruction", "system_instruction")) + texts
        config = _either(body, "generationConfig", "generation_config")
        max_tokens = None
        if isinstance(config, Mapping):
            max_tokens = optional_limit(config, "maxOutputTokens", "max_output_tokens")
        return SimRequest(
            model=path_model or "",
            texts=tuple(texts),
            turn=turn,
            max_tokens=max_tokens,
            stream=bool(stream),
        )

    def _response(
        self, ctx: Context, parts: list[dict[str, object]], finish: str | None = None
    ) -> dict[str, object]:
        candidate: dict[str, object] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if finish is not None:
            candidate["finishReason"] = finish
        return {"candidates": [candidate], "modelVersion": ctx.model, "responseId": ctx.id}

    @staticmethod
    def _part(group: EventGroup) -> dict[str, object]:
        if group.kind == "reasoning":
            return {"text": group.text, "thought": True}
        return {"text": group.text}

    def _usage(self, ctx: Context, plan: Plan) -> dict[str, object]:
        answer = plan.output_tokens - plan.reasoning_tokens
        usage: dict[str, object] = {
            "promptTokenCount": ctx.prompt_tokens,
            "candidatesTokenCount": answer,
            "totalTokenCount": ctx.prompt_tokens + plan.output_tokens,
        }
        if plan.reasoning_tokens:
            usage["thoughtsTokenCount"] = plan.reasoning_tokens
        return usage

    def _finish(self, plan: Plan) -> str:
        return "MAX_TOKENS" if plan.finish_reason == "length" else "STOP"

    def start(self, ctx: Context, plan: Plan) -> bytes:
        return b""

    def events(self, ctx: Context, plan: Plan) -> Iterator[bytes]:
        for group in plan.groups:
            yield sse(self._response(ctx, [self._part(group)]))

    def end(self, ctx: Context, plan: Plan) -> bytes:
        last = self._response(ctx, [{"text": ""}], self._finish(plan))
        last["usageMetadata"] = self._usage(ctx, plan)
        return sse(last)

    def malformed(self, ctx: Context) -> bytes:
        return b'data: {"candidates": [{"content": {\n\n'

    def error_event(self, ctx: Context) -> bytes:
        return sse({"error": {"code": 500, "message": MID_STREAM_ERROR, "status": "INTERNAL"}})

    def complete(self, ctx: Context, plan: Plan) -> object:
        parts: list[dict[str, object]] = []
        if plan.reasoning_tokens:
            parts.append({"text": plan.text_of("reasoning"), "thought": True})
        parts.append({"text": plan.text_of("answer")})
        body = self._response(ctx, parts, self._finish(plan))
        body["usageMetadata"] = self._usage(ctx, plan)
        return body

    def error(self, kind: ErrorKind, message: str | None = None) -> ErrorReply:
        status, code_name, default = _ERRORS[kind]
        body = {"error": {"code": status, "message": message or default, "status": code_name}}
        return status, body, {}

    def context_error(self, limit: int, prompt_tokens: int) -> ErrorReply:
        message = (
            f"The input token count ({prompt_tokens}) exceeds the maximum number of tokens "
            f"allowed ({limit})."
        )
        return self.error("bad_request", message)
