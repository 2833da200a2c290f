"""LiteLLM (``acompletion(stream=True)``) for the providers that need its adapters.

LiteLLM costs 350–730 µs of client CPU per streamed event (docs/performance.md), so it serves only
providers whose wire format the lean client does not speak (Anthropic, Gemini, …). The loop stamps
each chunk on arrival and keeps the object; conversion to :class:`Delta` happens after the stream.

Import is lazy (it takes seconds) and prepared so that it does not fetch its cost map from the
network (``LITELLM_LOCAL_MODEL_COST_MAP``), print banners (``suppress_debug_info``), or raise on a
model that legitimately repeats a chunk 100 times (``REPEATED_STREAMING_CHUNK_LIMIT``). Retries are
off: a benchmark reports a failure, it does not hide it behind a second attempt.
"""

from __future__ import annotations

import functools
import os
import time
from typing import Any

from .base import ChatRequest, Delta, ProviderError, RawStream, error_message, interpret_chunk

__all__ = ["LiteLLMClient", "import_litellm"]


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


class LiteLLMClient:
    """Streams one model through ``litellm.acompletion``."""

    def __init__(
        self,
        model: str,
        api_base: str | None,
        api_key: str | None,
        timeout_s: float,
        verbose: bool = False,
    ) -> None:
        self.model, self.api_base, self.timeout_s = model, api_base, timeout_s
        self._api_key = api_key
        self._litellm = import_litellm(verbose)

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
        return {k: v for k, v in kwargs.items() if v is not None}

    async def stream(self, request: ChatRequest) -> RawStream:
        kwargs = self._kwargs(request)
        chunks: list[tuple[int, Any]] = []
        append = chunks.append
        clock = time.perf_counter_ns
        error: str | None = None
        wall = time.time_ns()  # a timestamp beside t0, never subtracted
        t0 = clock()
        try:
            response = await self._litellm.acompletion(**kwargs)
            async for chunk in response:
                append((clock(), chunk))
        except Exception as exc:
            status = _status(exc)
            message = error_message(str(getattr(exc, "message", None) or exc))
            if not chunks:
                raise ProviderError(status, message) from None
            error = f"stream failed: {message}"
        close = clock()
        deltas: list[Delta] = []
        for t_ns, chunk in chunks:
            try:
                deltas.append(interpret_chunk(t_ns, _as_dict(chunk)))
            except ProviderError as exc:
                error = exc.message
                break
        return RawStream(t0, close, deltas, 200, error, t0_unix_ns=wall)

    async def aclose(self) -> None:
        return None
