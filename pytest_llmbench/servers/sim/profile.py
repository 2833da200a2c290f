"""Simulation profiles: what the simulator's timing, output and faults look like for one model.

Standard library and :mod:`pytest_llmbench.validation` only (the plugin's config stage checks a
model's ``sim:`` block with :meth:`SimProfile.from_mapping`). Each profile is complete on its own:
fields not given take the class defaults below, not the values of the server's default profile.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pytest_llmbench.validation import Reader

__all__ = [
    "FaultKind",
    "LoadExpectation",
    "ReasoningMode",
    "SimConfig",
    "SimProfile",
    "UsageMode",
]

ReasoningMode = Literal["none", "think_tags", "reasoning_content"]
UsageMode = Literal["when_asked", "always", "never"]
FaultKind = Literal["none", "http_429", "http_500", "cut", "malformed", "error_event", "stall"]


@dataclass(frozen=True)
class SimProfile:
    """Timing, output and fault settings of one simulated model.

    - TTFT (server side) = ``ttft_ms + prefill_us_per_token * prompt_tokens / 1000`` ms; the gap
      before each later event is ``itl_ms`` times its tokens, plus uniform ``+-jitter_ms``
      (never below 0), all paced against absolute deadlines.
    - Output: ``reasoning_tokens`` (if ``reasoning`` is not ``"none"``) then ``output_tokens``
      answer tokens, in events of up to ``tokens_per_event`` tokens that never mix the two. With
      ``think_tags`` the OpenAI wire adds ``<think>`` / ``</think>`` events (one token each); the
      Anthropic and Gemini wires carry reasoning in their own thinking channel in either mode.
      The request's token cap cuts the whole sequence (finish reason ``length``).
    - ``usage`` governs the OpenAI stream's usage chunk (non-streaming OpenAI responses carry
      usage unless it is ``"never"``); the Anthropic and Gemini wires always report usage.
    - ``fault`` strikes once ``fault_after_tokens`` tokens are out (0: before the first token),
      only on requests with ``fault_at_turn`` user messages if that is set.

    The load model (all off by default: then every request is served as if alone), per model name
    in one server process (:mod:`~pytest_llmbench.servers.sim.batch`):

    - ``max_batch``: at most this many requests of the model are admitted (prefilling or
      decoding) at once; later ones wait in a FIFO queue. The TTFT clock starts at admission.
    - ``decode_slowdown`` ``s``: with ``b`` requests admitted, the gap before an event is its
      planned gap (``itl_ms`` times its tokens, plus jitter) times ``1 + s * (b - 1)``, with the
      ``b`` in effect when that gap starts (deadlines stay absolute: previous deadline + gap).
    - ``prefill_serial``: one prefill lane per model: a request's first token is due at
      ``max(admission, lane free) + ttft_target_ms``, and the lane is busy until then.
    - ``prefill_stalls_decode`` (needs ``prefill_serial``): a decode step that would start while
      the lane is busy starts when it is free: ``max(previous deadline, lane free) + gap``.

    Requests refused at once (bad request, prompt over ``context_window``, ``http_429`` /
    ``http_500``) never enter the batch; a queued request's response, headers included, starts
    at its admission. :meth:`closed_loop_expectation` states what a closed loop at a given
    concurrency should see.
    """

    ttft_ms: float = 50.0
    prefill_us_per_token: float = 0.0
    itl_ms: float = 10.0
    jitter_ms: float = 0.0
    seed: int = 0
    tokens_per_event: int = 1
    output_tokens: int = 64
    reasoning: ReasoningMode = "none"
    reasoning_tokens: int = 0
    usage: UsageMode = "when_asked"
    context_window: int | None = None
    fault: FaultKind = "none"
    fault_after_tokens: int = 3
    fault_at_turn: int | None = None
    stall_s: float = 30.0
    max_batch: int | None = None
    decode_slowdown: float = 0.0
    prefill_serial: bool = False
    prefill_stalls_decode: bool = False

    def ttft_target_ms(self, prompt_tokens: int) -> float:
        """Server-side time to first token for a prompt of ``prompt_tokens`` tokens."""
        return self.ttft_ms + self.prefill_us_per_token * prompt_tokens / 1000.0

    def fault_applies(self, turn: int) -> bool:
        """Whether this profile's fault hits a request carrying ``turn`` user messages."""
        if self.fault == "none":
            return False
        return self.fault_at_turn is None or self.fault_at_turn == turn

    def batch_factor(self, batch: int) -> float:
        """``1 + decode_slowdown * (batch - 1)``: how much longer every decode gap is while
        ``batch`` requests of the model are admitted (``batch`` counts from 1)."""
        return 1.0 + self.decode_slowdown * (max(1, batch) - 1)

    def tpot_at_batch_ms(self, batch: int) -> float:
        """Time per output token (after the first event) at batch size ``batch``, no jitter."""
        return self.itl_ms * self.batch_factor(batch)

    def itl_at_batch_ms(self, batch: int) -> float:
        """Gap between two full events (``tokens_per_event`` tokens) at batch size ``batch``."""
        return self.tpot_at_batch_ms(batch) * self.tokens_per_event

    @property
    def has_load_model(self) -> bool:
        """Whether any load-model setting is on (otherwise requests never affect each other)."""
        return (
            self.max_batch is not None
            or self.decode_slowdown > 0
            or self.prefill_serial
            or self.prefill_stalls_decode
        )

    def closed_loop_expectation(
        self, concurrency: int, prompt_tokens: int = 0, output_tokens: int | None = None
    ) -> LoadExpectation:
        """Steady state of a closed loop: ``concurrency`` clients, each sending its next request
        (``prompt_tokens`` long, ``output_tokens`` out: the profile's reasoning plus answer
        tokens if ``None``) as soon as the last one ends. See :class:`LoadExpectation`."""
        return _closed_loop(self, concurrency, prompt_tokens, output_tokens)

    def to_mapping(self) -> dict[str, object]:
        """The profile as a JSON-ready mapping (round-trips through :meth:`from_mapping`)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_mapping(cls, d: object, key: str = "sim") -> SimProfile:
        """Build a profile from the mapping ``d`` found at key path ``key``; an unknown key or a
        bad value raises :class:`~pytest_llmbench.validation.ValidationError` naming it."""
        reader = Reader(d, key)
        reader.check_keys(f.name for f in dataclasses.fields(cls))
        base = cls()

        def number(name: str) -> float:
            return float(reader.number(name, getattr(base, name), 0))

        def whole(name: str, minimum: int | None) -> Any:
            return reader.number(name, getattr(base, name), minimum, integer=True)

        def choice(name: str, kind: Any) -> Any:
            return reader.choice(name, getattr(base, name), get_args(kind))

        def flag(name: str) -> bool:
            return bool(reader.get(name, bool, getattr(base, name)))

        serial, stalls = flag("prefill_serial"), flag("prefill_stalls_decode")
        if stalls and not serial:
            reader.fail("prefill_stalls_decode", "needs prefill_serial: true")
        return cls(
            ttft_ms=number("ttft_ms"),
            prefill_us_per_token=number("prefill_us_per_token"),
            itl_ms=number("itl_ms"),
            jitter_ms=number("jitter_ms"),
            seed=whole("seed", None),
            tokens_per_event=whole("tokens_per_event", 1),
            output_tokens=whole("output_tokens", 0),
            reasoning=choice("reasoning", ReasoningMode),
            reasoning_tokens=whole("reasoning_tokens", 0),
            usage=choice("usage", UsageMode),
            context_window=whole("context_window", 1),
            fault=choice("fault", FaultKind),
            fault_after_tokens=whole("fault_after_tokens", 0),
            fault_at_turn=whole("fault_at_turn", 1),
            stall_s=number("stall_s"),
            max_batch=whole("max_batch", 1),
            decode_slowdown=number("decode_slowdown"),
            prefill_serial=serial,
            prefill_stalls_decode=stalls,
        )


@dataclass(frozen=True)
class LoadExpectation:
    """What a closed loop at ``concurrency`` should see in steady state under a profile's load
    model, timed on the server's side (from a request's receipt, as the truth log has it).

    With ``C`` clients, ``b = min(C, max_batch)`` requests admitted, TTFT target ``T0``
    (:meth:`SimProfile.ttft_target_ms`), ``n`` output tokens, ``k = tokens_per_event`` and
    ``t = tpot_at_batch_ms(b)``:

    - decode time ``D = max(0, n - k) * t`` (the gaps before every event after the first);
    - throughput ``X = b / (T0 + D)`` requests per ms; with ``prefill_serial`` at most ``1 / T0``
      (the lane's pace). With ``prefill_stalls_decode`` (and ``b > 1``) every prefill holds up
      the decode of the other admitted requests for its whole length, so ``D`` (and ``t``) grow
      to ``D / (1 - u * (b - 1) / b)``, where ``u = X * T0``, the lane's busy share, solves
      ``X * (T0 + D') = b``: the smaller root of ``(b - 1) / b * u**2 - (b + D / T0) * u + b = 0``,
      at most 1;
    - by Little's law a request spends ``C / X`` from receipt to its last event (``latency_ms``),
      ``b / X`` of it admitted: the admission queue takes ``(C - b) / X`` (``queue_ms``) and the
      prefill lane ``b / X - T0 - D`` (``lane_wait_ms``, 0 unless the lane is the bottleneck);
    - ``ttft_ms`` = queue + lane wait + ``T0``; ``output_tokens_per_s`` = ``1000 * X * n``.

    Approximations: a deterministic steady state (no jitter; the start-up burst, which queues in
    the lane all at once, is left out; arrivals spread evenly through the lane); clients send
    again at once (no think time, no network); the batch stays at ``b`` (a finishing request's
    slot goes straight to the next in the queue; the dip while no one waits is ignored); all
    requests alike, ``<think>`` tags not counted; and the stall model's full-length hold-up
    slightly over-states it (a step already under way when a prefill starts is not held up, so
    the real hold-up is shorter by about half a decode step).
    """

    concurrency: int
    batch: int
    ttft_ms: float
    queue_ms: float
    lane_wait_ms: float
    tpot_ms: float
    latency_ms: float
    requests_per_s: float
    output_tokens_per_s: float


def _closed_loop(
    profile: SimProfile, concurrency: int, prompt_tokens: int, output_tokens: int | None
) -> LoadExpectation:
    """The formulas of :class:`LoadExpectation`."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    if output_tokens is None:
        reasoning = profile.reasoning_tokens if profile.reasoning != "none" else 0
        output_tokens = profile.output_tokens + reasoning
    limit = profile.max_batch
    batch = concurrency if limit is None else min(concurrency, limit)
    ttft = profile.ttft_target_ms(prompt_tokens)
    tpot = profile.tpot_at_batch_ms(batch)
    decode = max(0, output_tokens - profile.tokens_per_event) * tpot
    if profile.prefill_stalls_decode and ttft > 0 and decode > 0 and batch > 1:
        others = (batch - 1) / batch  # the share of prefills that are another request's
        total = batch + decode / ttft
        root = (total - math.sqrt(total * total - 4.0 * (batch - 1))) / (2.0 * others)
        busy = min(1.0, root)  # the lane's busy share
        stretch = 1.0 / (1.0 - busy * others)
        decode, tpot = decode * stretch, tpot * stretch
        rate = busy / ttft  # requests per ms
    else:
        cycle = ttft + decode
        rate = batch / cycle if cycle > 0 else math.inf
        if profile.prefill_serial and ttft > 0:
            rate = min(rate, 1.0 / ttft)
    queue = (concurrency - batch) / rate
    lane = batch / rate - ttft - decode
    lane = lane if lane > 1e-9 else 0.0  # rounding noise, not a wait
    return LoadExpectation(
        concurrency=concurrency,
        batch=batch,
        ttft_ms=queue + lane + ttft,
        queue_ms=queue,
        lane_wait_ms=lane,
        tpot_ms=tpot,
        latency_ms=concurrency / rate,
        requests_per_s=1000.0 * rate,
        output_tokens_per_s=1000.0 * rate * output_tokens if output_tokens else 0.0,
    )


@dataclass(frozen=True)
class SimConfig:
    """The server's profiles: one per model name, and a default for every other name."""

    default: SimProfile = SimProfile()
    models: Mapping[str, SimProfile] = dataclasses.field(default_factory=dict)

    def for_model(self, model: str) -> SimProfile:
        """The profile of ``model`` (a Gemini ``models/`` prefix is ignored), else the default."""
        if model in self.models:
            return self.models[model]
        bare = model.removeprefix("models/")
        return self.models.get(bare, self.default)

    @classmethod
    def from_mapping(cls, d: object, key: str = "sim") -> SimConfig:
        """Parse ``{"default": {...}, "models": {"name": {...}}}`` (both keys optional) found at
        key path ``key``; the default profile's errors name ``key.field``, a model's
        ``key.models.NAME.field``."""
        reader = Reader(d, key)
        reader.check_keys({"default", "models"})
        default = SimProfile.from_mapping(reader.get("default", Mapping, {}), key)
        models = Reader(reader.get("models", Mapping, {}), reader.sub("models"))
        return cls(
            default=default,
            models={
                str(name): SimProfile.from_mapping(raw, models.sub(str(name)))
                for name, raw in models.data.items()
            },
        )
