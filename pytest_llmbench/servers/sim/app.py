"""The simulator's aiohttp application: routes, request handling, the truth-log endpoints.

A request's receipt (``recv_ns``) is the time :mod:`~pytest_llmbench.servers.sim.receipt` puts on
it (when its bytes came in), or the handler's start where nothing does. A handler yields once
before its work (parsing the body, counting the prompt, planning the answer: some 0.3 ms at 200
tokens), so the loop reads the sockets again, and stamps what has come in since, before the
handlers of a burst work one after another; on Python 3.12+ aiohttp runs each handler eagerly as
it makes the request, and without the yield the next read would wait for all of their work.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from pytest_llmbench.servers.sim.anthropic_wire import AnthropicWire
from pytest_llmbench.servers.sim.batch import Loads
from pytest_llmbench.servers.sim.gemini_wire import GeminiWire
from pytest_llmbench.servers.sim.log import EVENT_FORMS, RequestRecord, TruthLog
from pytest_llmbench.servers.sim.openai_wire import OpenAIWire
from pytest_llmbench.servers.sim.plan import build_plan
from pytest_llmbench.servers.sim.profile import SimConfig
from pytest_llmbench.servers.sim.receipt import RECV_NS
from pytest_llmbench.servers.sim.respond import Job, send_complete, send_error, send_stream
from pytest_llmbench.servers.sim.wire import (
    BadRequest,
    Context,
    ErrorKind,
    WireFormat,
    new_id,
    now_s,
)
from pytest_llmbench.tokens import count_tokens

__all__ = ["DEFAULT_MODEL_NAME", "SimState", "create_app"]

#: The name ``GET /v1/models`` lists when no model has a profile of its own.
DEFAULT_MODEL_NAME = "llmbench-sim"
_GEMINI_METHODS = {"streamGenerateContent": True, "generateContent": False}
# Large enough for very long prompts (a million tokens is about 4 MB of text).
_MAX_BODY = 256 * 1024 * 1024

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class SimState:
    """What every handler shares: the profiles, the truth log, the request counter, and each
    model's batch (its load model)."""

    config: SimConfig
    log: TruthLog
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    loads: Loads = field(default_factory=Loads)


STATE = web.AppKey("llmbench_state", SimState)


async def _generate(
    request: web.Request,
    wire: WireFormat,
    path_model: str | None = None,
    stream: bool | None = None,
) -> web.StreamResponse:
    recv_ns: int = request.get(RECV_NS) or time.perf_counter_ns()
    state = request.app[STATE]
    number = next(state.counter)
    rec = RequestRecord(
        id=new_id(wire.id_prefix), wire=wire.name, model=path_model or "", stream=False,
        recv_ns=recv_ns,
    )  # fmt: skip
    job = Job(request, wire, rec, state.log)
    try:
        await asyncio.sleep(0)  # read the rest of a burst before this one's work (module doc)
        try:
            sim = wire.parse(json.loads(await request.read()), path_model, stream)
        except (BadRequest, ValueError) as exc:
            return await send_error(job, wire.error("bad_request", str(exc)))
        rec.model, rec.stream, rec.turn, rec.max_tokens = (
            sim.model, sim.stream, sim.turn, sim.max_tokens,
        )  # fmt: skip
        profile = state.config.for_model(sim.model)
        prompt_tokens = sum(count_tokens(text) for text in sim.texts)
        rec.prompt_tokens = prompt_tokens
        rec.ttft_target_ms = profile.ttft_target_ms(prompt_tokens)
        window = profile.context_window
        if window is not None and prompt_tokens > window:
            return await send_error(job, wire.context_error(window, prompt_tokens))
        fault = profile.fault if profile.fault_applies(sim.turn) else None
        rec.fault = fault
        if fault in ("http_429", "http_500"):
            rec.fault_ns = time.perf_counter_ns()
            kind: ErrorKind = "rate_limit" if fault == "http_429" else "server_error"
            return await send_error(job, wire.error(kind))
        plan = build_plan(profile, prompt_tokens, sim.max_tokens, number, tags=wire.tags)
        ctx = Context(
            id=rec.id,
            model=sim.model,
            prompt_tokens=prompt_tokens,
            include_usage=sim.include_usage,
            usage_mode=profile.usage,
            created=now_s(),
        )
        send = send_stream if sim.stream else send_complete
        async with state.loads.admitted(sim.model, profile, recv_ns, plan.ttft_ns) as lease:
            rec.admit_ns, rec.batch_at_admit = lease.admit_ns, lease.batch
            return await send(job, lease, ctx, plan, fault, profile.stall_s)
    finally:
        if not state.log.has(rec.id):  # the client went away, or the server is shutting down
            rec.done_ns = time.perf_counter_ns()
            state.log.add(rec)


def _wire_handler(wire: WireFormat) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await _generate(request, wire)

    return handler


async def _gemini(request: web.Request) -> web.StreamResponse:
    model, _, method = request.match_info["target"].partition(":")
    if method not in _GEMINI_METHODS:
        raise web.HTTPNotFound(text=f"unknown method {method!r}")
    return await _generate(request, GeminiWire(), model, _GEMINI_METHODS[method])


async def _models(request: web.Request) -> web.StreamResponse:
    names = list(request.app[STATE].config.models) or [DEFAULT_MODEL_NAME]
    data = [{"id": n, "object": "model", "created": 0, "owned_by": "llmbench"} for n in names]
    return web.json_response({"object": "list", "data": data})


async def _health(request: web.Request) -> web.StreamResponse:
    return web.json_response({"ok": True})


def _int_query(request: web.Request, name: str, minimum: int | None = None) -> int | None:
    """The integer query parameter ``name`` (``None`` if absent); 400 if it is not one, or is
    below ``minimum``."""
    raw = request.query.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be an integer") from None
    if minimum is not None and value < minimum:
        raise web.HTTPBadRequest(text=f"{name} must be at least {minimum}")
    return value


async def _records(request: web.Request) -> web.StreamResponse:
    """The records (:meth:`TruthLog.all`): with ``?since_ns=N`` those received at or after N
    (monotonic ns); ``offset=K`` skips the first K of them, ``limit=L`` returns at most L, and
    ``events=ends`` keeps only each record's first and last event (``all``, the default, every
    one). A bad value is a 400 naming the parameter."""
    since_ns = _int_query(request, "since_ns")
    offset = _int_query(request, "offset", minimum=0) or 0
    limit = _int_query(request, "limit", minimum=1)
    events = request.query.get("events", "all")
    if events not in EVENT_FORMS:
        raise web.HTTPBadRequest(text=f"events must be one of {', '.join(EVENT_FORMS)}")
    log = request.app[STATE].log
    return web.json_response(log.all(since_ns, offset=offset, limit=limit, events=events))


async def _record(request: web.Request) -> web.StreamResponse:
    record = request.app[STATE].log.get(request.match_info["id"])
    if record is None:
        raise web.HTTPNotFound(text="no such request")
    return web.json_response(record)


def create_app(config: SimConfig, log: TruthLog) -> web.Application:
    """The simulator application serving ``config`` and recording into ``log``."""
    app = web.Application(client_max_size=_MAX_BODY)
    app[STATE] = SimState(config=config, log=log)
    openai = _wire_handler(OpenAIWire())
    anthropic = _wire_handler(AnthropicWire())
    routes = [
        web.post("/v1/chat/completions", openai),
        web.post("/chat/completions", openai),
        web.post("/v1/messages", anthropic),
        web.post("/messages", anthropic),
        web.post("/v1beta/models/{target}", _gemini),
        web.post("/v1/models/{target}", _gemini),
        web.post("/models/{target}", _gemini),
        web.get("/v1/models", _models),
        web.get("/models", _models),
        web.get("/llmbench/health", _health),
        web.get("/llmbench/requests", _records),
        web.get("/llmbench/requests/{id}", _record),
    ]
    app.add_routes(routes)
    return app
