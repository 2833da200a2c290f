"""LiteLLM (``acompletion(stream=True)``) for the providers that need its adapters.

LiteLLM costs 350–730 µs of client CPU per streamed event (docs/performance.md), so it serves only
providers whose wire format the lean client does not speak (Anthropic, Gemini, …). The loop stamps
each chunk on arrival and keeps the object; conversion to :class:`Delta` happens after the stream.

Import is lazy (it takes seconds) and prepared so that it does not fetch its cost map from the
network (``LITELLM_LOCAL_MODEL_COST_MAP``), print banners (``suppress_debug_info``), or raise on a
model that legitimately repeats a chunk 100 times (``REPEATED_STREAMING_CHUNK_LIMIT``). Retries are
off: a benchmark reports a failure, it does not hide it behind a second attempt.

Bounded like the lean path (:class:`~.base.StreamBounds`), as far as LiteLLM lets anything in:
LiteLLM sends its requests through an aiohttp session it is handed (``shared_session``), so this
client hands it one whose ``raise_for_status`` hook sees every response head first. The hook
refuses redirects, reads at most 64 KiB of an error body, fails a 200 that is not a stream format
LiteLLM reads, and fails a compressed body: the request asks for none (``Accept-Encoding:
identity``), because LiteLLM's HTTP layer decompresses without a limit. The hook then stands a
:class:`~.guards.BodyTap` in for the body's reader, so the bytes LiteLLM reads count against the
byte cap (LiteLLM buffers a line whole before it parses it). The loop counts chunks (LiteLLM
hands over objects, not bytes) and stops past the token-event cap; the deadline covers the whole
request. After the stream the same checks as the lean path run, with the provider's own finish
reason: LiteLLM ends every stream, even a cut one, with a chunk whose finish reason is ``stop``.

For Anthropic and Gemini (:data:`~.guards.WIRE_ENDS`) the tap also keeps an SSE body, and its
events are checked as they came (:func:`~.guards.body_problem`): their LiteLLM adapters take an
event that is not JSON for a fragment and silently drop it with everything after it, wrap an
error event in their own exception text, and the Gemini one gives every chunk the finish reason
``stop``, finishReason or not. Limits: a ``data: null`` event is skipped by LiteLLM's openai path
without a trace, and a Gemini stream sent as a JSON array (not SSE) is not checked so.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .base import (
    DEFAULT_BOUNDS,
    ChatRequest,
    Delta,
    ProviderError,
    RawStream,
    StreamBounds,
    error_message,
    interpret_chunk,
    stream_problem,
)
from .guards import SSE, WIRE_ENDS, BodyTap, body_problem, head_problem, watch_framing, within

__all__ = ["HANDLER_PROVIDERS", "LITELLM_STREAM_TYPES", "LiteLLMClient", "import_litellm"]

#: The stream formats LiteLLM's adapters read: SSE, NDJSON (Ollama), AWS event stream (Bedrock),
#: a streamed JSON array (Gemini without ``alt=sse``). Anything else in a 200 is not a stream.
LITELLM_STREAM_TYPES = (
    SSE,
    "application/x-ndjson",
    "application/vnd.amazon.eventstream",
    "application/json",
)
#: Chunks allowed beyond the token-event cap before the loop stops (role, usage, finish chunks).
CHUNK_SLACK = 64
#: Providers whose LiteLLM adapter sends through an ``AsyncHTTPHandler`` it is given as
#: ``client`` (and ignores ``shared_session``); those on the openai SDK take ``shared_session``.
HANDLER_PROVIDERS = frozenset({"anthropic", "gemini"})


@functools.lru_cache(maxsize=1)
def import_litellm(verbose: bool = False) -> Any:
    """Import LiteLLM once, offline and quiet."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    setattr(litellm, "REPEATED_STREAMING_CHUNK_LIMIT", 1 << 30)  # noqa: B010 - not exported
    litellm.telemetry = False
    if verbose:
        litellm._turn_on_debug()
    return litellm


def _as_dict(chunk: Any) -> dict[str, Any]:
    if isinstance(chunk, dict):
        return chunk
    dumped: dict[str, Any] = chunk.model_dump()
    return dumped


def _status(exc: Exception) -> int:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else 0


@dataclass
class _Exchange:
    """One request as the hook and the loop saw it (the hook finds it through :data:`_CURRENT`)."""

    bounds: StreamBounds
    byte_cap: int
    keep_body: bool = False  # the tap keeps the body for :func:`~.guards.body_problem`
    tap: BodyTap | None = None
    t0_ns: int = 0
    close_ns: int = 0
    wall_ns: int = 0
    status: int = 0  # of the last response head the hook saw; 0: none reached it
    problem: ProviderError | None = None
    capped: bool = False
    late_s: float | None = None  # the total deadline, when it passed
    finished: bool | None = None  # the provider's finish reason came; None: LiteLLM did not say
    unwatch: list[Any] = field(default_factory=list)


_CURRENT: contextvars.ContextVar[_Exchange | None] = contextvars.ContextVar(
    "llmbench_litellm_exchange", default=None
)


async def _check_head(response: aiohttp.ClientResponse) -> None:
    """The session's ``raise_for_status``: runs on every response head LiteLLM receives."""
    exchange = _CURRENT.get()
    if exchange is None:
        return
    exchange.status = response.status
    bounds = exchange.bounds
    problem = await head_problem(response, bounds.max_error_bytes, LITELLM_STREAM_TYPES)
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if problem is None and encoding not in ("", "identity"):
        problem = ProviderError(
            200,
            f"the stream came compressed ({encoding}) though the request asked for none; "
            "LiteLLM decompresses without a limit, so it is not read",
        )
    if problem is not None:
        exchange.problem = problem
        raise problem
    exchange.unwatch.append(watch_framing(response))  # on the body's own reader
    keep = exchange.keep_body and response.content_type == SSE  # body_problem reads SSE only
    exchange.tap = BodyTap.install(response, exchange.byte_cap, keep)


def _provider_finished(response: Any) -> bool | None:
    """Whether the provider sent a finish reason: LiteLLM's stream wrapper keeps it apart from
    the ``stop`` it adds itself (``None`` where the wrapper does not say)."""
    if not hasattr(response, "received_finish_reason"):
        return None
    reasons = (
        response.received_finish_reason,
        getattr(response, "intermittent_finish_reason", None),
    )
    return any(reasons)


def _provider_of(litellm: Any, model: str, api_base: str | None) -> str | None:
    try:
        return str(litellm.get_llm_provider(model, api_base=api_base)[1])
    except Exception:  # LiteLLM names the problem on the first request
        return None


def _root_cause(exc: BaseException) -> tuple[str, str] | None:
    """``(what, its message)`` when the failure under LiteLLM's wrapping was the connection or
    its framing breaking (``stream cut``) or an event that is not JSON (``malformed``)."""
    import httpx

    cut = (aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError)
    seen: BaseException | None = exc
    for _ in range(16):  # a chain is short; a cycle must not hang
        if seen is None:
            break
        text = " ".join(str(seen).split())
        if isinstance(seen, (*cut, httpx.ReadError)):
            # aiohttp's framing errors read "400, message: …"; the 400 is not the response's.
            return "stream cut", re.sub(r"^\d{3}, message: ", "the HTTP framing broke: ", text)
        if isinstance(seen, json.JSONDecodeError):
            return "malformed stream event (not JSON)", text
        seen = seen.__cause__ or seen.__context__
    return None


class LiteLLMClient:
    """Streams one model through ``litellm.acompletion``.

    ``timeout_s`` is LiteLLM's (read) timeout; ``bounds`` the total deadline and the caps.
    """

    def __init__(
        self,
        model: str,
        api_base: str | None,
        api_key: str | None,
        timeout_s: float,
        verbose: bool = False,
        bounds: StreamBounds = DEFAULT_BOUNDS,
    ) -> None:
        self.model, self.api_base, self.timeout_s = model, api_base, timeout_s
        self.bounds = bounds
        self._api_key = api_key
        self._litellm = import_litellm(verbose)
        self._provider = _provider_of(self._litellm, model, api_base)
        self._session: aiohttp.ClientSession | None = None
        self._handler: Any = None

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": list(request.messages),
            "stream": True,
            "stream_options": {"include_usage": True},
            "timeout": self.timeout_s,
            "num_retries": 0,
            "max_retries": 0,
            "drop_params": True,  # e.g. reasoning_effort where a provider does not take it
        }
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self._api_key:
            kwargs["api_key"] = self._api_key
        kwargs.update(request.params)
        # LiteLLM's HTTP layer decompresses without a limit: ask for the body as it is.
        kwargs["extra_headers"] = {
            **(kwargs.get("extra_headers") or {}),
            "Accept-Encoding": "identity",
        }
        kwargs.update(self._transport())
        return {k: v for k, v in kwargs.items() if v is not None}

    def _transport(self) -> dict[str, Any]:
        """What hands LiteLLM this client's aiohttp session, whose hook checks every head."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
                raise_for_status=_check_head,
            )
            if self._provider in HANDLER_PROVIDERS:
                from litellm.llms.custom_httpx.http_handler import AsyncHTTPHandler

                self._handler = AsyncHTTPHandler(
                    shared_session=self._session, follow_redirects=False
                )
        if self._handler is not None:
            return {"shared_session": self._session, "client": self._handler}
        return {"shared_session": self._session}

    async def _receive(
        self, kwargs: dict[str, Any], limit: int, chunks: list[tuple[int, Any]], exchange: _Exchange
    ) -> None:
        """The timed part: stamp and keep every chunk LiteLLM yields, at most ``limit``."""
        token = _CURRENT.set(exchange)
        try:
            append = chunks.append
            clock = time.perf_counter_ns
            exchange.wall_ns = time.time_ns()  # a timestamp beside t0, never subtracted
            exchange.t0_ns = clock()
            response = await self._litellm.acompletion(**kwargs)
            left = limit
            async for chunk in response:
                append((clock(), chunk))
                left -= 1
                if not left:
                    exchange.capped = True
                    break
            if exchange.capped and hasattr(response, "aclose"):
                await response.aclose()
            exchange.finished = _provider_finished(response)
        finally:
            exchange.close_ns = time.perf_counter_ns()
            _CURRENT.reset(token)
            for unwatch in exchange.unwatch:
                unwatch()

    async def stream(self, request: ChatRequest) -> RawStream:
        kwargs = self._kwargs(request)
        bounds = self.bounds
        max_tokens = bounds.request_max_tokens(request.params)
        limit = bounds.token_event_cap(max_tokens) + CHUNK_SLACK
        deadline_s = bounds.deadline_s(max_tokens, self.timeout_s)
        chunks: list[tuple[int, Any]] = []
        keep = self._provider in WIRE_ENDS
        exchange = _Exchange(bounds, bounds.byte_cap(max_tokens), keep_body=keep)
        error: str | None = None
        try:
            await within(deadline_s, self._receive(kwargs, limit, chunks, exchange))
        except asyncio.TimeoutError:
            exchange.late_s = deadline_s
        except Exception as exc:
            error = self._failure(exc, exchange, bool(chunks))
        close = exchange.close_ns or time.perf_counter_ns()
        deltas: list[Delta] = []
        for t_ns, chunk in chunks:
            try:
                deltas.append(interpret_chunk(t_ns, _as_dict(chunk)))
            except ProviderError as exc:
                error = error or exc.message
                break
        error = self._verdict(exchange, deltas, len(chunks), error, max_tokens)
        status = exchange.status or 200
        return RawStream(exchange.t0_ns, close, deltas, status, error, 0.0, exchange.wall_ns)

    def _verdict(
        self,
        exchange: _Exchange,
        deltas: list[Delta],
        chunks: int,
        error: str | None,
        max_tokens: int,
    ) -> str | None:
        """The stream's failure, the bounds first (the deadline, the byte cap, the chunk cap);
        then what the body says where it is checked (:func:`~.guards.body_problem`), else LiteLLM's
        failure; then the lean path's checks of what arrived."""
        tokens = sum(1 for d in deltas if d.is_token_event)
        tap = exchange.tap
        if exchange.late_s is not None:
            so_far = f"{tokens:,} token events, {chunks:,} chunks so far"
            return f"exceeded the total deadline of {exchange.late_s:g} s ({so_far})"
        if tap is not None and tap.over:
            so_far = f"{tokens:,} token events, {tap.size:,} bytes so far"
            return f"the response exceeded the byte cap of {tap.cap:,} bytes ({so_far})"
        cap = self.bounds.token_event_cap(max_tokens)
        if exchange.capped and tokens <= cap:
            return f"the server sent more than {chunks:,} chunks for max_tokens {max_tokens:,}"
        ended = exchange.finished
        if tap is not None and tap.keep and not tap.bypassed and self._provider:
            problem, ended = body_problem(self._provider, tap.pieces, tap.eof)
            error = problem or error
        if error is not None:
            return error
        if ended is None:
            ended = any(d.finish_reason for d in deltas)
        if not ended and tokens <= cap and self._provider in WIRE_ENDS:
            return f"stream cut: the stream ended without {WIRE_ENDS[self._provider]}"
        return stream_problem(deltas, ended, max_tokens)

    @staticmethod
    def _failure(exc: Exception, exchange: _Exchange, got_chunks: bool) -> str:
        """The error of a failed stream; raises :class:`ProviderError` when no stream began."""
        if exchange.problem is not None:
            raise exchange.problem from None
        message = error_message(str(getattr(exc, "message", None) or exc))
        if exchange.status == 0 and not got_chunks:  # no response head reached the hook
            raise ProviderError(_status(exc), message) from None
        cause = _root_cause(exc)
        if cause is not None:
            return f"{cause[0]}: {cause[1]}"
        return f"stream failed: {message}"

    async def aclose(self) -> None:
        if self._handler is not None:
            await self._handler.close()
        if self._session is not None:
            await self._session.close()
            # LiteLLM caches its provider clients by key, base and timeout, not by session: a
            # later client would otherwise inherit this closed session, which LiteLLM replaces
            # with a plain one that has no head checks.
            cache = getattr(self._litellm, "in_memory_llm_clients_cache", None)
            if cache is not None:
                cache.flush_cache()
