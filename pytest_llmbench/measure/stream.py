"""One measured request: :class:`LLMStream` streams messages to a target and keeps a
:class:`Sample` per request (the measurement, the server's truth or timings, extra fields).

The provider's text in a measurement is sanitized once the stream has ended (:mod:`.redact`):
the target's key redacted from the error, the warnings, the answer and the reasoning, and control
characters escaped in the error and warnings (the texts that are shown). The answer and the
reasoning keep their characters otherwise: a test and the next turn of a conversation read them;
their previews are escaped where records are made."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from ..clients.base import ChatRequest, ProviderError, RawStream
from ..config.thresholds import Threshold
from ..matrix import Target
from ..schema import Key, ServerTimings, Truth
from .endpoints import ServerUnavailable
from .metrics import Measurement, measure
from .redact import Redactor
from .session import BenchSession

if TYPE_CHECKING:
    from ..servers.llama_cpp import LlamaCppServer

__all__ = ["LLMStream", "Sample", "broken_limits", "sanitized"]


@dataclass
class Sample:
    """One measured request kept for the results: the measurement and what the server said."""

    measurement: Measurement
    truth: Truth | None = None
    extra: dict[str, Any] | None = None
    server_timings: ServerTimings | None = None


class LLMStream:
    """Await it with messages (and request parameters) to stream one measured request."""

    def __init__(self, bench: BenchSession, target: Target, samples: list[Sample]) -> None:
        self.bench, self.target, self._samples = bench, target, samples
        #: The one key this target's requests carry, hence the one its server can echo.
        self.redactor = Redactor.for_targets([target])

    async def __call__(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        check: bool = True,
        extra: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> Measurement:
        """Stream ``messages`` to the target; returns the :class:`~.metrics.Measurement`.

        With ``check`` (the default) a failed request fails the test with the HTTP status and
        the provider's message, after the failure has been recorded. ``extra`` fields are stored
        in the request's record beside the measured ones.
        """
        bench, target = self.bench, self.target
        try:
            api_base = bench.endpoints.api_base(target)
            llama = bench.endpoints.llama_for(target)
        except ServerUnavailable as exc:
            message = self.redactor.sanitize(str(exc))
            self._samples.append(
                Sample(Measurement(ok=False, error=message), extra=dict(extra or {}))
            )
            pytest.fail(message, pytrace=False)
        request = ChatRequest(list(messages), bench.layers.request_params(target, params))

        async def _run() -> RawStream:
            client = await bench.client(target, api_base)
            return await client.stream(request)

        try:
            raw = await asyncio.wrap_future(bench.loop.submit(_run()))
        except ProviderError as exc:
            sample = Sample(Measurement(ok=False, error=str(exc), http_status=exc.status))
        else:
            sample = self._measured(raw, messages, llama)
        sample.extra = dict(extra or {})
        self._samples.append(sample)
        measurement = sanitized(sample.measurement, self.redactor)
        if check and not measurement.ok:
            pytest.fail(f"{target.key}: {measurement.error}", pytrace=False)
        broken = broken_limits(measurement, bench.layers.limits_for(target))
        if broken:
            self.mark_last(**{Key.LIMITS_BROKEN: broken})
            if check:
                pytest.fail(f"{target.key}: " + "; ".join(broken), pytrace=False)
        return measurement

    def _measured(
        self, raw: RawStream, messages: Sequence[Mapping[str, Any]], llama: LlamaCppServer | None
    ) -> Sample:
        """The figures of a finished stream, with the server's own account of the request: the
        managed llama.cpp server's timings, or the built-in server's truth."""
        from ..tokens import count_tokens

        timings = llama.timings(raw.t0_ns, raw.close_ns) if llama is not None else None
        tokenizer = llama.count_tokens if llama is not None else None
        if timings is not None and timings.prompt_tokens is not None:
            # The server's log is its report of the prompt (chat template included).
            prompt, source, cached = timings.prompt_tokens, "server log", timings.cached_tokens
        else:
            count = tokenizer or count_tokens
            prompt = sum(count(_text(m.get("content"))) for m in messages)
            source, cached = ("tokenizer" if tokenizer else "tiktoken"), None
        measurement = measure(raw, count_tokens, prompt, tokenizer, source, cached)
        sample = Sample(measurement)
        if timings is not None:
            from .server_timings import with_differences

            sample.server_timings = with_differences(measurement, timings)
        elif llama is None:
            from .truth import truth_for

            sim = self.bench.endpoints.sim_for(self.target)
            sample.truth = truth_for(sim, measurement.response_id, raw.t0_ns)
        return sample

    def record_skip(self, extra: Mapping[str, Any]) -> None:
        """Record a request that was decided against (nothing measured), with its reasons."""
        self._samples.append(Sample(Measurement(ok=False), extra=dict(extra)))

    def mark_last(self, **fields: Any) -> None:
        """Add fields to the record of the last request."""
        sample = self._samples[-1]
        sample.extra = {**(sample.extra or {}), **fields}

    def run(
        self, messages: Sequence[Mapping[str, Any]], *, check: bool = True, **params: Any
    ) -> Measurement:
        """The same as awaiting, for synchronous tests."""
        return asyncio.run(self(messages, check=check, **params))


def sanitized(measurement: Measurement, redactor: Redactor) -> Measurement:
    """``measurement`` (changed in place) with its provider texts made safe to record and show:
    keys redacted everywhere, control characters escaped in the error and the warnings."""
    if measurement.error is not None:
        measurement.error = redactor.sanitize(measurement.error)
    measurement.warnings = [redactor.sanitize(w) for w in measurement.warnings]
    measurement.answer = redactor.redact(measurement.answer)
    measurement.reasoning = redactor.redact(measurement.reasoning)
    return measurement


def broken_limits(measurement: Measurement, limits: Sequence[Threshold]) -> list[str]:
    """Per-request absolute limits this request broke, each with its numbers."""
    broken = []
    for limit in limits:
        value = getattr(measurement, limit.field, None) if limit.per_request else None
        if isinstance(value, (int, float)) and not limit.holds(value):
            broken.append(
                f"{limit.field} = {value:,.2f} breaks the limit {limit.label} ({limit.source})"
            )
    return broken


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if isinstance(part, Mapping))
    return ""
