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
    "ChatRequest",
    "Delta",
    "ProviderError",
    "RawStream",
    "StreamClient",
    "Usage",
    "error_message",
    "interpret_chunk",
]


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
