"""The event builders of the hostile server (tests/hostile.py) in its three wire formats.

Each :class:`Wire` builds the well-formed pieces of one format (what comes before the first token
event, a token event, the finish reason with the terminal event) and its broken ones (a malformed
event, an error event, an error body); the server's modes put them together, so every attack
exists in every wire. The formats follow the built-in simulator's
(pytest_llmbench/servers/sim/*_wire.py):

* ``openai``: ``POST /v1/chat/completions``; ``chat.completion.chunk`` events, a finish reason,
  ``data: [DONE]``; the key in ``Authorization: Bearer``.
* ``anthropic``: ``POST /v1/messages``; ``message_start``, ``content_block_start``,
  ``content_block_delta`` (``text_delta``), ``content_block_stop``, ``message_delta`` (the
  ``stop_reason`` and usage), ``message_stop``; errors as ``{"type": "error", "error": …}``; the
  key in ``x-api-key``.
* ``gemini``: ``POST /models/<model>:streamGenerateContent?alt=sse`` (and ``/v1beta/models/…``);
  ``data: {"candidates": […]}`` events, the last with a ``finishReason`` and ``usageMetadata`` (a
  Gemini stream has no terminal event of its own); the key in ``x-goog-api-key``.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["ANTHROPIC", "GEMINI", "OPENAI", "WIRES", "Wire", "wire_of"]


def sse(data: object, event: str | None = None) -> bytes:
    """One server-sent event carrying ``data`` as JSON."""
    head = f"event: {event}\n" if event is not None else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


class Wire:
    """The pieces of one wire format (this base is OpenAI's chat completions)."""

    name = "openai"
    #: The header the client's key travels in (what the echo modes repeat).
    key_header = "Authorization"

    def head(self) -> bytes:
        return self.chunk({"role": "assistant"})

    def token(self, text: str) -> bytes:
        return self.chunk({"content": text})

    def tail(self) -> bytes:
        return self.chunk({}, finish="stop") + b"data: [DONE]\n\n"

    def malformed(self) -> bytes:
        return b'data: {"id": "hostile", "choices": [\n\n'

    def error_event(self, message: str) -> bytes:
        return sse({"error": {"message": message, "code": 500}})

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"error": {"message": message}}

    @staticmethod
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        """One ``chat.completion.chunk`` event."""
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        body = {"id": "hostile", "object": "chat.completion.chunk", "created": 0, "model": "h"}
        return sse({**body, "choices": [choice]})

    def tokens(self, count: int, word: str = "tok", start: int = 0) -> bytes:
        """``count`` token events, `` tok0``, `` tok1``, …"""
        return b"".join(self.token(f" {word}{i}") for i in range(start, start + count))

    def stream(self, tokens: int, word: str = "tok") -> bytes:
        """A well-formed stream of ``tokens`` token events and its proper end."""
        return self.head() + self.tokens(tokens, word) + self.tail()


class AnthropicWire(Wire):
    """Anthropic Messages."""

    name = "anthropic"
    key_header = "x-api-key"

    def head(self) -> bytes:
        message: dict[str, Any] = {
            "id": "msg_hostile",
            "type": "message",
            "role": "assistant",
            "model": "h",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 3, "output_tokens": 0},
        }
        block = {"type": "text", "text": ""}
        start = {"type": "content_block_start", "index": 0, "content_block": block}
        return sse({"type": "message_start", "message": message}, "message_start") + sse(
            start, "content_block_start"
        )

    def token(self, text: str) -> bytes:
        delta = {"type": "text_delta", "text": text}
        return sse(
            {"type": "content_block_delta", "index": 0, "delta": delta}, "content_block_delta"
        )

    def tail(self) -> bytes:
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": 5},
        }
        return (
            sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
            + sse(delta, "message_delta")
            + sse({"type": "message_stop"}, "message_stop")
        )

    def malformed(self) -> bytes:
        return b'event: content_block_delta\ndata: {"type": "content_block_delta", "delta": {\n\n'

    def error_event(self, message: str) -> bytes:
        return sse({"type": "error", "error": {"type": "api_error", "message": message}}, "error")

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = {401: "authentication_error", 503: "overloaded_error"}.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}


class GeminiWire(Wire):
    """Gemini ``streamGenerateContent?alt=sse``."""

    name = "gemini"
    key_header = "x-goog-api-key"

    @staticmethod
    def _event(text: str, finish: str | None = None, **extra: Any) -> bytes:
        content = {"parts": [{"text": text}], "role": "model"}
        candidate: dict[str, Any] = {"content": content, "index": 0}
        if finish is not None:
            candidate["finishReason"] = finish
        return sse({"candidates": [candidate], "modelVersion": "h", **extra})

    def head(self) -> bytes:
        return b""

    def token(self, text: str) -> bytes:
        return self._event(text)

    def tail(self) -> bytes:
        usage = {"promptTokenCount": 3, "candidatesTokenCount": 5, "totalTokenCount": 8}
        return self._event("", "STOP", usageMetadata=usage)

    def malformed(self) -> bytes:
        return b'data: {"candidates": [{"content": {\n\n'

    def error_event(self, message: str) -> bytes:
        return sse({"error": {"code": 500, "message": message, "status": "INTERNAL"}})

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        code = {401: "UNAUTHENTICATED", 503: "UNAVAILABLE"}.get(status, "INTERNAL")
        return {"error": {"code": status, "message": message, "status": code}}


OPENAI, ANTHROPIC, GEMINI = Wire(), AnthropicWire(), GeminiWire()
WIRES = {wire.name: wire for wire in (OPENAI, ANTHROPIC, GEMINI)}


def wire_of(path: str) -> Wire:
    """The wire a request path speaks: ``…/messages`` Anthropic's, ``…/models/…`` Gemini's, any
    other OpenAI's."""
    if path.endswith("/messages"):
        return ANTHROPIC
    if "/models/" in path:
        return GEMINI
    return OPENAI
