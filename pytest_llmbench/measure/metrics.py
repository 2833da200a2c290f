"""Raw stamped streams → the METRICS.md "per request" fields. Pure functions, no I/O.

Definitions (see docs/metrics.md): a *token event* carries non-empty content, reasoning or
tool calls. ``ttft_ms`` is the first token event, ``ttfa_ms`` the first answer event, ``e2e_ms``
the last token event, ``close_ms`` the end of the stream, all from ``t0``. Reasoning arrives either
as ``reasoning_content`` or as ``<think>…</think>`` in the content; tags may be split anywhere
across events because the split is done on the whole text after the stream ended. Whitespace right
after ``</think>`` belongs to the reasoning block, so a non-reasoning answer has ``ttfa == ttft``.

A server's ``usage`` counts are believed only when plausible: whole numbers from 0 to
:data:`MAX_USAGE_TOKENS`, and no more cached prompt tokens than prompt tokens. An implausible one is
dropped with a warning naming it, and the count comes from the next source (the model's tokenizer,
tiktoken, the prompt's estimate).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..clients.base import Delta, RawStream, Usage

__all__ = ["MAX_USAGE_TOKENS", "Measurement", "measure", "think_region"]

OPEN_TAG, CLOSE_TAG = "<think>", "</think>"
TOKEN_WARN_RATIO = 0.10
#: The largest token count a server's usage is believed for: a billion tokens, beyond any context
#: window and any output; a larger (or a negative) count is a server bug, not a measurement.
MAX_USAGE_TOKENS = 10**9


@dataclass
class Measurement:
    """Every METRICS.md per-request field, plus the texts and raw event times behind them."""

    ok: bool
    error: str | None = None
    http_status: int = 200
    ttft_ms: float | None = None
    ttfa_ms: float | None = None
    think_ms: float | None = None
    e2e_ms: float | None = None
    close_ms: float | None = None
    queue_ms: float = 0.0
    output_tokens: int = 0
    token_source: str = "events"
    prompt_tokens: int | None = None
    prompt_token_source: str | None = None
    cached_tokens: int | None = None
    tpot_ms: float | None = None
    decode_tps: float | None = None
    e2e_tps: float | None = None
    prefill_tps: float | None = None
    itl_ms: list[float] | None = None
    icl_ms: list[float] | None = None
    reasoning_tokens: int = 0
    reasoning_token_source: str | None = None
    reasoning_ms: float | None = None
    token_events: int = 0
    event_ms: list[float] = field(default_factory=list)
    finish_reason: str | None = None
    response_id: str | None = None
    t0_unix_ns: int | None = None
    answer: str = ""
    reasoning: str = ""
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain data, lists copied (``dataclasses.asdict`` recurses into every
        float: a third of the parse of a load point)."""
        return {
            name: list(value) if isinstance(value, list) else value
            for name in _FIELD_NAMES
            for value in (getattr(self, name),)
        }


_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Measurement))


def think_region(content: str) -> tuple[int, int] | None:
    """The ``[start, end)`` span of the reasoning block inside ``content``, tags included.

    A block opens at a leading ``<think>`` (after whitespace) or, for servers that drop the opening
    tag, starts at 0 when a ``</think>`` appears with none before it. An unclosed block runs to the
    end. Whitespace after ``</think>`` is part of the block.
    """
    stripped = len(content) - len(content.lstrip())
    if content.startswith(OPEN_TAG, stripped):
        start = stripped
        close = content.find(CLOSE_TAG, start + len(OPEN_TAG))
    else:
        close = content.find(CLOSE_TAG)
        if close < 0 or OPEN_TAG in content[:close]:
            return None
        start = 0
    if close < 0:
        return (start, len(content))
    end = close + len(CLOSE_TAG)
    while end < len(content) and content[end].isspace():
        end += 1
    return (start, end)


def _ms(t_ns: int, t0_ns: int) -> float:
    return (t_ns - t0_ns) / 1e6


def _split(events: Sequence[Delta]) -> tuple[list[bool], list[bool], str, str]:
    """Per token event: carries reasoning? carries answer? And the reasoning and answer texts."""
    contents = [e.content for e in events]
    full = "".join(contents)
    region = think_region(full)
    has_reasoning, has_answer = [], []
    reasoning_parts, answer_parts = [], []
    offset = 0
    for event, text in zip(events, contents, strict=True):
        start, end = offset, offset + len(text)
        offset = end
        inside = 0
        if region is not None:
            inside = max(0, min(end, region[1]) - max(start, region[0]))
        answer_text = text
        if inside:
            lo, hi = max(start, region[0]) - start, min(end, region[1]) - start  # type: ignore[index]
            answer_text = text[:lo] + text[hi:]
        has_reasoning.append(bool(event.reasoning) or inside > 0)
        has_answer.append(bool(answer_text) or event.tool_calls)
        reasoning_parts.append(event.reasoning)
        answer_parts.append(answer_text)
    think_text = ""
    if region is not None:
        think_text = full[region[0] : region[1]].strip()
        think_text = think_text.removeprefix(OPEN_TAG).removesuffix(CLOSE_TAG).strip()
    reasoning = "".join(reasoning_parts) + think_text
    return has_reasoning, has_answer, reasoning, "".join(answer_parts)


def _per_event_tokens(
    events: Sequence[Delta], output_tokens: int, count: Callable[[str], int]
) -> list[int] | None:
    if output_tokens == len(events):
        return [1] * len(events)
    counts = [count(e.content + e.reasoning) for e in events]
    if all(counts) and sum(counts) == output_tokens:
        return counts
    return None


def _disagreement(label: str, a: tuple[str, int], b: tuple[str, int]) -> str | None:
    (name_a, value_a), (name_b, value_b) = a, b
    if max(value_a, value_b) == 0:
        return None
    spread = abs(value_a - value_b) / max(value_a, value_b)
    if spread <= TOKEN_WARN_RATIO:
        return None
    return f"{label}: {name_a} says {value_a}, {name_b} counts {value_b} ({spread:.0%} apart)"


def measure(
    raw: RawStream,
    count_tokens: Callable[[str], int],
    prompt_tokens_estimate: int | None = None,
    tokenizer: Callable[[str], int] | None = None,
    prompt_estimate_source: str = "tiktoken",
    cached_tokens_estimate: int | None = None,
) -> Measurement:
    """Compute the per-request fields of ``raw``.

    ``count_tokens`` is tiktoken's cl100k_base count; ``tokenizer`` the model's own, where one is
    configured; ``prompt_tokens_estimate`` the prompt's count when the server reports none, counted
    by ``prompt_estimate_source``, with ``cached_tokens_estimate`` beside it when that source knows
    (a managed server's log).
    """
    events = [d for d in raw.deltas if d.is_token_event]
    wire_usage: Mapping[str, Any] | None = None
    finish = response_id = None
    for delta in raw.deltas:
        wire_usage = delta.usage or wire_usage
        finish = delta.finish_reason or finish
        response_id = response_id or delta.response_id
    m = Measurement(
        ok=raw.error is None,
        error=raw.error,
        http_status=raw.status,
        queue_ms=raw.queue_ms,
        close_ms=_ms(raw.close_ns, raw.t0_ns),
        finish_reason=finish,
        response_id=response_id,
        token_events=len(events),
        t0_unix_ns=raw.t0_unix_ns,
    )
    has_reasoning, has_answer, m.reasoning, m.answer = _split(events)
    m.event_ms = [_ms(e.t_ns, raw.t0_ns) for e in events]
    usage, dropped = _believable(Usage.from_wire(wire_usage))
    _count_output(m, events, usage, count_tokens, tokenizer)
    m.prompt_tokens = usage.prompt
    m.prompt_token_source = "usage" if m.prompt_tokens is not None else None
    if m.prompt_tokens is None and prompt_tokens_estimate is not None:
        m.prompt_tokens, m.prompt_token_source = prompt_tokens_estimate, prompt_estimate_source
    m.cached_tokens = usage.cached
    if m.cached_tokens is None and m.prompt_token_source == prompt_estimate_source:
        m.cached_tokens = cached_tokens_estimate
    _warn_dropped(m, dropped)
    if events:
        _time(m, raw.t0_ns, events, has_reasoning, has_answer, count_tokens)
    return m


def _shown(count: int) -> str:
    return str(count) if abs(count) < 10**15 else f"about 10^{int(math.log10(abs(count)))}"


def _believable(usage: Usage) -> tuple[Usage, dict[str, int]]:
    """``usage`` without the counts no server could mean, and those counts by name."""
    counts = {
        "completion": usage.completion,
        "prompt": usage.prompt,
        "cached": usage.cached,
        "reasoning": usage.reasoning,
    }
    dropped = {}
    for name, count in counts.items():
        if count is not None and not 0 <= count <= MAX_USAGE_TOKENS:
            dropped[name], counts[name] = count, None
    cached, prompt = counts["cached"], counts["prompt"]
    if cached is not None and prompt is not None and cached > prompt:
        dropped["cached"], counts["cached"] = cached, None
    return Usage(**counts), dropped


_SOURCE_NAMES = {"tokenizer": "the model's tokenizer", "events": "the count of token events"}


def _warn_dropped(m: Measurement, dropped: Mapping[str, int]) -> None:
    """A warning per usage count not believed, naming it and what stands in for it."""
    sources = {
        "completion": m.token_source,
        "prompt": m.prompt_token_source,
        "cached": m.prompt_token_source if m.cached_tokens is not None else None,
        "reasoning": m.reasoning_token_source,
    }
    for name, count in dropped.items():
        source = sources[name]
        if name == "cached" and 0 <= count <= MAX_USAGE_TOKENS:
            problem = f"exceed its prompt tokens {m.prompt_tokens}"
        else:
            problem = f"is not a plausible token count (0 to {MAX_USAGE_TOKENS:,})"
        instead = f"used {_SOURCE_NAMES.get(source, source)}" if source else "left unknown"
        m.warnings.append(f"server usage: {name} tokens {_shown(count)} {problem}; {instead}")


def _count_output(
    m: Measurement,
    events: Sequence[Delta],
    usage: Usage,
    count_tokens: Callable[[str], int],
    tokenizer: Callable[[str], int] | None,
) -> None:
    """Output and reasoning tokens: usage, then the model's tokenizer, then tiktoken, then the
    count of token events; a warning where usage and tiktoken disagree."""
    text = "".join(e.content + e.reasoning for e in events)
    counted = count_tokens(text) if text else 0
    own = tokenizer(text) if tokenizer is not None and text else None
    if usage.completion is not None:
        m.output_tokens, m.token_source = usage.completion, "usage"
    elif own is not None:
        m.output_tokens, m.token_source = own, "tokenizer"
    elif counted:
        m.output_tokens, m.token_source = counted, "tiktoken"
    else:
        m.output_tokens, m.token_source = len(events), "events"
    if usage.completion is not None and counted:
        pair = ("usage", usage.completion), ("tiktoken", counted)
        warning = _disagreement("output tokens", *pair)
        if warning:
            m.warnings.append(warning)
    if usage.reasoning:
        m.reasoning_tokens, m.reasoning_token_source = usage.reasoning, "usage"
    elif m.reasoning:
        m.reasoning_tokens, m.reasoning_token_source = count_tokens(m.reasoning), "tiktoken"


def _time(
    m: Measurement,
    t0: int,
    events: Sequence[Delta],
    has_reasoning: Sequence[bool],
    has_answer: Sequence[bool],
    count_tokens: Callable[[str], int],
) -> None:
    """The timing fields from the token events' stamps (docs/metrics.md, "Per request")."""
    first, last = events[0].t_ns, events[-1].t_ns
    m.ttft_ms, m.e2e_ms = _ms(first, t0), _ms(last, t0)
    answer_times = [e.t_ns for e, yes in zip(events, has_answer, strict=True) if yes]
    if answer_times:
        m.ttfa_ms = _ms(answer_times[0], t0)
        m.think_ms = m.ttfa_ms - m.ttft_ms
    reasoning_times = [e.t_ns for e, yes in zip(events, has_reasoning, strict=True) if yes]
    if reasoning_times:
        m.reasoning_ms = _ms(reasoning_times[-1], reasoning_times[0])
    decode_ms = m.e2e_ms - m.ttft_ms
    if m.output_tokens >= 2 and decode_ms > 0:
        m.tpot_ms = decode_ms / (m.output_tokens - 1)
        m.decode_tps = (m.output_tokens - 1) / (decode_ms / 1e3)
    if m.e2e_ms > 0:
        m.e2e_tps = m.output_tokens / (m.e2e_ms / 1e3)
    if m.prompt_tokens is not None and m.ttft_ms > 0:
        m.prefill_tps = (m.prompt_tokens - (m.cached_tokens or 0)) / (m.ttft_ms / 1e3)
    gaps = [(b.t_ns - a.t_ns) / 1e6 for a, b in itertools.pairwise(events)]
    per_event = _per_event_tokens(events, m.output_tokens, count_tokens)
    if per_event is not None:
        m.itl_ms = [gap / n for gap, n in zip(gaps, per_event[1:], strict=True)]
    else:
        m.icl_ms = gaps
