"""What every client shares: the request, the raw stream it returns, and chunk interpretation.

A client's only job in the timed path is to stamp ``time.perf_counter_ns()`` the moment data
arrives and keep the data. Everything else (JSON parsing, deciding which chunks are token events,
counting tokens) happens after the stream ends, on the stamped data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "DEFAULT_BOUNDS",
    "ChatRequest",
    "Delta",
    "ProviderError",
    "RawStream",
    "StreamBounds",
    "StreamClient",
    "Usage",
    "error_message",
    "interpret_chunk",
    "printable",
    "stream_problem",
]

_MIB = 1 << 20


class ProviderError(Exception):
    """A request that failed: HTTP status (0 when there was no response) and the provider's text."""

    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message
        prefix = f"HTTP {status}: " if status else ""
        super().__init__(prefix + message)


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion to stream: messages plus the request parameters already merged."""

    messages: Sequence[Mapping[str, Any]]
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Delta:
    """One parsed stream message, stamped with the arrival time of the bytes that completed it."""

    t_ns: int
    content: str = ""
    reasoning: str = ""
    tool_calls: bool = False
    usage: Mapping[str, Any] | None = None
    finish_reason: str | None = None
    response_id: str | None = None

    @property
    def is_token_event(self) -> bool:
        """METRICS.md: non-empty content, reasoning or tool calls; role-only, empty and
        usage-only chunks are not token events."""
        return bool(self.content or self.reasoning or self.tool_calls)


@dataclass
class RawStream:
    """A streamed response as received: request start, parsed messages, end, and any failure.

    ``t0_unix_ns`` is the wall clock read just before ``t0`` (a timestamp to join with a server's
    own logs, never subtracted).
    """

    t0_ns: int
    close_ns: int
    deltas: list[Delta]
    status: int = 200
    error: str | None = None
    queue_ms: float = 0.0
    t0_unix_ns: int | None = None


@dataclass(frozen=True)
class StreamBounds:
    """What one streamed request may take, so that no server can hold the session or its memory.

    ``max_tokens`` is the target's (a request that carries its own under ``max_tokens_field`` is
    bounded by that one). From it, unless set:

    * **total deadline**, ``total_timeout_s``: the whole request, connect to end of stream. Default
      ``read timeout + 30 s + 0.25 s × max_tokens``: the read timeout alone already lets a server
      think that long before its first byte (a long prompt's prefill), and 0.25 s a token allows
      decoding as slow as 4 tokens/s. 120 s and 512 tokens give 278 s.
    * **byte cap**, ``max_bytes``: bytes kept of one response, counted after decompression, so
      a gzip bomb stops there too. Default ``max(64 MiB, 4 KiB × max_tokens)``: a token event is
      about 0.2 KiB (2 KiB with ``logprobs``) and at most two are allowed per token.
    * **token events**: after the stream, more than ``2 × max_tokens + 16`` fails the request
      (a token event carries at least one token; the slack covers split characters).
    * **error bodies**: at most ``max_error_bytes`` (64 KiB) of one is read.
    """

    max_tokens: int = 512
    max_tokens_field: str = "max_tokens"
    total_timeout_s: float | None = None
    max_bytes: int | None = None
    max_error_bytes: int = 64 * 1024

    def request_max_tokens(self, params: Mapping[str, Any]) -> int:
        """The request's own ``max_tokens`` when it names one, else the target's."""
        value = params.get(self.max_tokens_field)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
        return self.max_tokens

    def deadline_s(self, max_tokens: int, read_timeout_s: float) -> float:
        if self.total_timeout_s is not None:
            return self.total_timeout_s
        return read_timeout_s + 30.0 + 0.25 * max_tokens

    def byte_cap(self, max_tokens: int) -> int:
        return self.max_bytes if self.max_bytes is not None else max(64 * _MIB, 4096 * max_tokens)

    @staticmethod
    def token_event_cap(max_tokens: int) -> int:
        return 2 * max_tokens + 16


DEFAULT_BOUNDS = StreamBounds()


def stream_problem(deltas: Sequence[Delta], ended: bool, max_tokens: int) -> str | None:
    """What is wrong with a stream that arrived whole (``ended``: ``[DONE]`` or a finish reason
    came), checked after the stream: too many token events, a cut, or no token event at all."""
    tokens = sum(1 for d in deltas if d.is_token_event)
    if tokens > StreamBounds.token_event_cap(max_tokens):
        return f"the server sent {tokens:,} token events for max_tokens {max_tokens:,}"
    if not ended:
        return "stream cut: the stream ended without [DONE] or a finish_reason"
    if not tokens:
        return "the stream carried no token events"
    return None


def printable(text: str, limit: int = 200) -> str:
    """The first ``limit`` characters of ``text``, control characters escaped (``\\x1b``)."""
    head = text[:limit]
    if head.isprintable():
        return head
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in head)


def _count(usage: Mapping[str, Any], *path: str) -> int | None:
    value: Any = usage
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Usage:
    """A server's token counts, read from the wire's ``usage`` object (OpenAI's field names, or
    Anthropic's ``input_tokens`` / ``output_tokens``); ``None`` where it said nothing."""

    completion: int | None = None
    prompt: int | None = None
    cached: int | None = None
    reasoning: int | None = None

    @classmethod
    def from_wire(cls, usage: Mapping[str, Any] | None) -> Usage:
        if not usage:
            return cls()
        return cls(
            completion=_count(usage, "completion_tokens") or _count(usage, "output_tokens"),
            prompt=_count(usage, "prompt_tokens") or _count(usage, "input_tokens"),
            cached=_count(usage, "prompt_tokens_details", "cached_tokens"),
            reasoning=_count(usage, "completion_tokens_details", "reasoning_tokens"),
        )


class StreamClient(Protocol):
    """A way to stream one chat completion from one target and stamp what arrives."""

    async def stream(self, request: ChatRequest) -> RawStream:
        """Send ``request`` and return the stamped stream; HTTP errors raise ProviderError."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


def error_message(body: bytes | str | Mapping[str, Any], limit: int = 500) -> str:
    """The provider's own error text from an error body (OpenAI, Anthropic, Gemini shapes)."""
    data: Any = body
    if isinstance(body, (bytes, str)):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            data = json.loads(text)
        except ValueError:
            return text.strip()[:limit] or "(empty body)"
    if isinstance(data, Mapping):
        error = data.get("error", data)
        if isinstance(error, Mapping):
            message = error.get("message") or error.get("msg") or error.get("detail")
            if message:
                return str(message)[:limit]
        elif isinstance(error, str):
            return error[:limit]
    return json.dumps(data)[:limit]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def interpret_chunk(t_ns: int, chunk: Mapping[str, Any]) -> Delta:
    """Turn one OpenAI-format chunk (chat or completions API) into a :class:`Delta`.

    Raises :class:`ProviderError` for an ``error`` object inside a 200 stream.
    """
    error = chunk.get("error")
    if error:
        raise ProviderError(0, "error event in stream: " + error_message(chunk))
    usage = chunk.get("usage") or None
    choices = chunk.get("choices") or ()
    content = reasoning = ""
    tool_calls = False
    finish = None
    if choices:
        choice = choices[0]
        delta = choice.get("delta") or choice.get("message") or {}
        content = _text(delta.get("content")) or _text(choice.get("text"))
        reasoning = _text(delta.get("reasoning_content")) or _text(delta.get("reasoning"))
        tool_calls = bool(delta.get("tool_calls") or delta.get("function_call"))
        finish = choice.get("finish_reason")
    return Delta(
        t_ns=t_ns,
        content=content,
        reasoning=reasoning,
        tool_calls=tool_calls,
        usage=usage if isinstance(usage, Mapping) else None,
        finish_reason=finish,
        response_id=chunk.get("id"),
    )
