"""The public fixtures: ``llm_target``, ``llm_stream`` and friends.

Any test that asks for ``llm_target`` (directly or through ``llm_stream``) is parametrized by the
plugin over the selected targets and runs; one that also asks for ``llm_tier`` or ``llm_messages``
over the context tiers as well::

    @pytest.mark.asyncio
    async def test_json_mode(llm_stream):
        record = await llm_stream([{"role": "user", "content": "Reply in JSON."}],
                                  response_format={"type": "json_object"})
        assert record.output_tokens > 0
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from .keys import BENCH_KEY, RECORDS_KEY
from .matrix import Case, Target
from .runtime import BenchSession

__all__ = [
    "LLMStream",
    "Sample",
    "llm_case",
    "llm_messages",
    "llm_run",
    "llm_stream",
    "llm_target",
    "llm_tier",
]


@dataclass
class Sample:
    """One measured request kept for the results: the measurement and the server's truth."""

    measurement: Any  # metrics.Measurement (imported lazily to keep the plugin light)
    truth: dict[str, Any] | None = None
    extra: dict[str, Any] | None = None
    server_timings: dict[str, Any] | None = None


def _server_log(sim: Any, response_id: str | None, t0_ns: int) -> dict[str, Any] | None:
    """The server's log entry for a request: by its response id, or, where a client library
    replaced the id (LiteLLM does), the only request the server received after ``t0``."""
    try:
        if response_id:
            with contextlib.suppress(KeyError):
                log: dict[str, Any] = sim.request(response_id)
                return log
        received = sim.requests(since_ns=t0_ns)
    except OSError:  # truth is a bonus; an unreachable log is not a failure
        return None
    return received[0] if len(received) == 1 else None


def _truth(sim: Any, response_id: str | None, t0_ns: int) -> dict[str, Any] | None:
    """What the built-in server logged for this request, as the fields we measure.

    Server and client stamp the same clock (CLOCK_MONOTONIC), so the true TTFT is the logged send
    time of the first token event minus the client's ``t0``; measured minus true is the harness's
    own error (delivery and stamping). ``server_ttft_ms`` counts from the server's receipt of the
    request instead, which leaves out the request's own trip.
    """
    log = _server_log(sim, response_id, t0_ns) if sim is not None else None
    if log is None:
        return None
    events = log.get("events") or []
    truth: dict[str, Any] = {
        "output_tokens": log.get("output_tokens"),
        "prompt_tokens": log.get("prompt_tokens"),
    }
    if events:
        first, last = events[0]["sent_ns"], events[-1]["sent_ns"]
        truth["ttft_ms"] = (first - t0_ns) / 1e6
        truth["e2e_ms"] = (last - t0_ns) / 1e6
        truth["server_ttft_ms"] = (first - log["recv_ns"]) / 1e6
        truth["request_trip_ms"] = (log["recv_ns"] - t0_ns) / 1e6
        tokens = sum(e.get("tokens", 1) for e in events)
        if tokens >= 2 and last > first:
            truth["tpot_ms"] = (last - first) / 1e6 / (tokens - 1)
    return truth


class LLMStream:
    """Await it with messages (and request parameters) to stream one measured request."""

    def __init__(self, bench: BenchSession, target: Target, samples: list[Sample]) -> None:
        self.bench, self.target, self._samples = bench, target, samples

    async def __call__(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        check: bool = True,
        extra: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> Any:
        """Stream ``messages`` to the target; returns the :class:`~.metrics.Measurement`.

        With ``check`` (the default) a failed request fails the test with the HTTP status and
        the provider's message, after the failure has been recorded. ``extra`` fields are stored
        in the request's record beside the measured ones.
        """
        from .clients.base import ChatRequest, ProviderError, RawStream
        from .metrics import Measurement, measure
        from .runtime import ServerUnavailable
        from .tokens import count_tokens

        bench, target = self.bench, self.target
        try:
            api_base = bench.api_base(target)
            llama = bench.llama_for(target)
        except ServerUnavailable as exc:
            failed = Measurement(ok=False, error=str(exc))
            self._samples.append(Sample(failed, extra=dict(extra or {})))
            pytest.fail(str(exc), pytrace=False)
        request = ChatRequest(list(messages), bench.request_params(target, params))

        async def _run() -> RawStream:
            client = await bench.client(target, api_base)
            return await client.stream(request)

        try:
            raw = await asyncio.wrap_future(bench.loop.submit(_run()))
        except ProviderError as exc:
            measurement = Measurement(ok=False, error=str(exc), http_status=exc.status)
            self._samples.append(Sample(measurement, extra=dict(extra or {})))
        else:
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
            sample = Sample(measurement, extra=dict(extra or {}))
            if timings is not None:
                from .crosscheck import compare

                sample.server_timings = compare(measurement, timings.to_dict())
            elif llama is None:
                sample.truth = _truth(bench.sim_for(target), measurement.response_id, raw.t0_ns)
            self._samples.append(sample)
        if check and not measurement.ok:
            pytest.fail(f"{target.key}: {measurement.error}", pytrace=False)
        broken = _broken_limits(measurement, bench.limits_for(target))
        if broken:
            self.mark_last(limits_broken=broken)
            if check:
                pytest.fail(f"{target.key}: " + "; ".join(broken), pytrace=False)
        return measurement

    def record_skip(self, extra: Mapping[str, Any]) -> None:
        """Record a request that was decided against (nothing measured), with its reasons."""
        from .metrics import Measurement

        self._samples.append(Sample(Measurement(ok=False), extra=dict(extra)))

    def mark_last(self, **fields: Any) -> None:
        """Add fields to the record of the last request."""
        sample = self._samples[-1]
        sample.extra = {**(sample.extra or {}), **fields}

    def run(
        self, messages: Sequence[Mapping[str, Any]], *, check: bool = True, **params: Any
    ) -> Any:
        """The same as awaiting, for synchronous tests."""
        return asyncio.run(self(messages, check=check, **params))


def _broken_limits(measurement: Any, limits: Sequence[Any]) -> list[str]:
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


@pytest.fixture
def llm_case(request: pytest.FixtureRequest) -> Case:
    """The plugin's parametrization of this test (target, tier, run)."""
    param = getattr(request, "param", None)
    if not isinstance(param, Case):
        pytest.fail(
            "llm_case is parametrized by pytest-llmbench; request llm_target instead", pytrace=False
        )
    return param


@pytest.fixture
def llm_target(llm_case: Case) -> Target:
    """The target (provider and model) this test measures."""
    if llm_case.skip_reason:
        pytest.skip(llm_case.skip_reason)
    return llm_case.target


@pytest.fixture
def llm_tier(llm_case: Case) -> int:
    """The context tier of this test, in prompt tokens."""
    return llm_case.tier or 0


@pytest.fixture
def llm_run(llm_case: Case) -> int:
    """The run number (1-based) of this test."""
    return llm_case.run


@pytest.fixture
def llm_messages(
    request: pytest.FixtureRequest, llm_target: Target, llm_tier: int
) -> list[dict[str, str]]:
    """The throughput prompt padded with fresh filler to the tier's size: a system message, or
    the head of the user message for models whose chat format drops system messages
    (``filler_in: user``). With no filler the prompt gets a nonce, so no run repeats another."""
    from .filler import make_filler, mark_unique
    from .tokens import count_tokens

    bench = request.config.stash[BENCH_KEY]
    prompt = bench.config().defaults.prompt
    filler = make_filler(llm_tier - count_tokens(prompt)) if llm_tier else ""
    if not filler:
        return [{"role": "user", "content": mark_unique(prompt)}]
    if llm_target.model.filler_in == "user":
        return [{"role": "user", "content": f"{filler}\n\n{prompt}"}]
    return [{"role": "system", "content": filler}, {"role": "user", "content": prompt}]


@pytest.fixture
def llm_stream(request: pytest.FixtureRequest, llm_target: Target) -> LLMStream:
    """An async callable that streams messages to ``llm_target`` and records the measurement."""
    bench = request.config.stash[BENCH_KEY]
    samples = request.node.stash.setdefault(RECORDS_KEY, [])
    return LLMStream(bench, llm_target, samples)
