"""The session's measuring machinery: a dedicated event loop, clients per target, managed servers.

Measurement runs on an event loop of its own, in a thread that lives for the whole session. Tests
await it through :func:`asyncio.wrap_future`, so it does not matter which loop (or loop scope)
pytest-asyncio gives the test: connections stay pooled and warm from one test to the next, and
the loop that stamps arrivals does nothing else.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import os
import tempfile
import threading
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .clients.base import ChatRequest, ProviderError, StreamClient
from .config import BenchConfig, ConfigError, load_config
from .matrix import Target
from .options import Settings
from .thresholds import Threshold

if TYPE_CHECKING:
    from .baseline import Samples
    from .conversation import ConversationState
    from .managed import LlamaCppServer
    from .prompts import PromptSet
    from .server.process import SimServer

__all__ = ["BenchSession", "MeasureLoop", "ServerUnavailable"]

T = TypeVar("T")
WARMUP_MAX_TOKENS = 4


class ServerUnavailable(Exception):
    """A managed server could not be started; every test of its target fails with this."""


class MeasureLoop:
    """An asyncio loop running in a daemon thread for the session."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="llmbench-measure", daemon=True
        )
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return self.submit(coro).result(timeout)

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self.loop.close()


@dataclass
class BenchSession:
    """Per pytest process: settings, the config (loaded on first use) and live resources."""

    settings: Settings
    active: bool = False
    usage_error: ConfigError | None = None
    _config: BenchConfig | None = None
    _config_error: ConfigError | None = None
    _loop: MeasureLoop | None = None
    _clients: dict[str, StreamClient] = field(default_factory=dict)
    _warmups: dict[str, asyncio.Future[None]] = field(default_factory=dict)
    _sims: dict[str, SimServer] = field(default_factory=dict)
    _llamas: dict[str, LlamaCppServer | ServerUnavailable] = field(default_factory=dict)
    log_stamp: str = "session"
    conversations: dict[str, ConversationState] = field(default_factory=dict)
    baseline: Samples | None = None
    baseline_about: dict[str, Any] | None = None
    _prompts: PromptSet | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- config ------------------------------------------------------------------------------
    def config(self) -> BenchConfig:
        """The validated config; raises :class:`ConfigError` (cached) when it is bad."""
        if self._config is None and self._config_error is None:
            try:
                self._config = _check_managed_settings(load_config(self.settings.config_path))
            except ConfigError as exc:
                self._config_error = exc
        if self._config_error is not None:
            raise self._config_error
        assert self._config is not None
        return self._config

    def prompts(self) -> PromptSet:
        """The conversation's prompts (``--llm-prompts``, else the config's), loaded once."""
        if self._prompts is None:
            from .prompts import load_prompts

            path = self.settings.prompts_path
            if path is None:
                path = (self.config().path.parent / self.config().conversation.prompts).resolve()
            self._prompts = load_prompts(path)
        return self._prompts

    def turns(self) -> int:
        """How many turns to run (0: all)."""
        turns = self.settings.turns
        return self.config().conversation.turns if turns is None else turns

    def limits_for(self, target: Target) -> tuple[Threshold, ...]:
        """The target's limits (see :meth:`limits_by_name`)."""
        return self.limits_by_name(target.provider.name, target.key)

    def limits_by_name(self, provider: str, target_key: str) -> tuple[Threshold, ...]:
        """Config defaults, then the provider's, then the model's, then ``--llm-fail``; a more
        specific limit on the same metric and statistic replaces one before it."""
        spec = self.config().thresholds
        layers = (
            spec.defaults,
            spec.providers.get(provider, ()),
            spec.models.get(target_key, ()),
            self.settings.fail,
        )
        merged: dict[tuple[str, str | None, str], Threshold] = {}
        for layer in layers:
            for limit in layer:
                merged[(limit.field, limit.statistic, limit.kind)] = limit
        return tuple(merged.values())

    def max_tokens(self, target: Target) -> int:
        """``--llm-max-tokens``, else the provider's ``max_tokens``, else the config default."""
        chosen = self.settings.max_tokens or target.provider.max_tokens
        return chosen or self.config().defaults.max_tokens

    def tiers(self, target: Target) -> tuple[int, ...]:
        """``--llm-context-tiers``, else the provider's ``context_tiers``, else the defaults."""
        chosen = self.settings.context_tiers or target.provider.context_tiers
        return chosen or self.config().defaults.context_tiers

    def request_params(self, target: Target, extra: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults, then provider, model and call parameters; ``None`` removes a key."""
        defaults = self.config().defaults
        return self._params(target, self.max_tokens(target), defaults.temperature, {}, extra)

    def conversation_params(self, target: Target, extra: Mapping[str, Any]) -> dict[str, Any]:
        """The conversation's defaults (the context-window seed's), then the same layers."""
        spec = self.config().conversation
        base = {"reasoning_effort": spec.reasoning_effort} if spec.reasoning_effort else {}
        max_tokens = self.settings.max_tokens or target.provider.max_tokens or spec.max_tokens
        return self._params(target, max_tokens, spec.temperature, base, extra)

    def _params(
        self,
        target: Target,
        max_tokens: int,
        temperature: float,
        base: Mapping[str, Any],
        extra: Mapping[str, Any],
    ) -> dict[str, Any]:
        params: dict[str, Any] = {target.provider.max_tokens_field: max_tokens}
        if not target.model.skip_temperature:
            chosen = self.settings.temperature
            params["temperature"] = chosen if chosen is not None else temperature
        for layer in (base, target.provider.params, target.model.params, extra):
            params.update(layer)
        if target.model.skip_temperature:
            params.pop("temperature", None)
        return params

    # -- resources ---------------------------------------------------------------------------
    @property
    def loop(self) -> MeasureLoop:
        with self._lock:
            if self._loop is None:
                self._loop = MeasureLoop()
            return self._loop

    def sim_for(self, target: Target) -> SimServer | None:
        """The built-in server behind a simulated target, started on first need."""
        if not target.simulated:
            return None
        with self._lock:
            sim = self._sims.get(target.provider.name)
            if sim is None:
                from .server.process import SimServer

                profiles = {m.id: dict(m.sim or {}) for m in target.provider.models}
                sim = SimServer.start(profiles=profiles)
                self._sims[target.provider.name] = sim
            return sim

    def llama_for(self, target: Target) -> LlamaCppServer | None:
        """The llama.cpp server behind a ``managed: llama_cpp`` target, started on first need.

        Raises :class:`ServerUnavailable` (remembered, so later tests fail at once) when it cannot
        start: its message names the log and quotes its end.
        """
        if target.provider.managed != "llama_cpp":
            return None
        with self._lock:
            server = self._llamas.get(target.key)
            if server is None:
                server = self._start_llama(target)
                self._llamas[target.key] = server
        if isinstance(server, ServerUnavailable):
            raise server
        return server

    def _start_llama(self, target: Target) -> LlamaCppServer | ServerUnavailable:
        from .managed import LlamaCppServer, LlamaCppSpec, ManagedServerError
        from .matrix import safe_id

        spec = LlamaCppSpec.from_mapping(target.model.llama_cpp or {})
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        name = "-".join(filter(None, (self.log_stamp, safe_id(target.key), worker)))
        if self.settings.save:
            log_dir = self.settings.results_dir
        else:
            log_dir = Path(tempfile.mkdtemp(prefix="llmbench-server-"))
        config_dir = self.config().path.parent
        try:
            return LlamaCppServer.start(
                spec, target.model.id, config_dir, log_dir / f"{name}.server.log"
            )
        except (ManagedServerError, OSError, ImportError) as exc:
            return ServerUnavailable(f"{target.key}: the managed llama.cpp server failed: {exc}")

    def api_base(self, target: Target) -> str | None:
        llama = self.llama_for(target)
        if llama is not None:
            return llama.base_url + "/v1"
        sim = self.sim_for(target)
        if sim is None:
            return target.provider.api_base
        # LiteLLM appends /v1/messages (Anthropic) and /models/... (Gemini) to the base itself.
        native = target.provider.client == "litellm" and target.provider.model_prefix.rstrip(
            "/"
        ) in {"anthropic", "gemini"}
        return sim.base_url if native else sim.base_url + "/v1"

    def _make_client(self, target: Target, api_base: str | None) -> StreamClient:
        key = target.api_key.reveal() if target.api_key else None
        if target.provider.client == "litellm":
            from .clients.litellm_client import LiteLLMClient

            model = target.provider.model_prefix + target.model.id
            return LiteLLMClient(model, api_base, key, target.timeout_s, self.settings.verbose)
        from .clients.lean import LeanClient

        assert api_base is not None
        return LeanClient(api_base, target.model.id, key, target.timeout_s)

    def _warmup_messages(self, target: Target) -> list[dict[str, str]]:
        """A short prompt; for a managed llama.cpp server, one at the session's largest tier.

        llama.cpp pays a one-off cost the first time it evaluates a prompt larger than any before
        (2-6 s on two cores, and its own prompt-eval timer leaves it out); the untimed warm-up
        takes it, so no measured request does.
        """
        text = "Say OK."
        if target.provider.managed == "llama_cpp":
            from .filler import make_filler

            tier = max(self.tiers(target))
            text = f"{make_filler(tier)}\n\n{text}" if tier else text
        return [{"role": "user", "content": text}]

    async def client(self, target: Target, api_base: str | None) -> StreamClient:
        """The target's client, created on the measuring loop and warmed up once (untimed).

        Concurrent first requests all wait for the one warm-up, so none is measured while the
        connection is still being set up.
        """
        client = self._clients.get(target.key)
        if client is None:
            client = self._make_client(target, api_base)
            self._clients[target.key] = client
            params = self.request_params(target, {})
            params[target.provider.max_tokens_field] = WARMUP_MAX_TOKENS
            warmup = ChatRequest(self._warmup_messages(target), params)
            llama = self.llama_for(target)
            self._warmups[target.key] = asyncio.ensure_future(_warm_up(client, warmup, llama))
        await asyncio.shield(self._warmups[target.key])
        return client

    def close(self) -> None:
        if self._loop is not None:
            clients = list(self._clients.values())

            async def _close_all() -> None:
                for client in clients:
                    await client.aclose()

            with contextlib.suppress(Exception):  # closing must never fail the session
                self._loop.run(_close_all(), timeout=10)
            self._loop.close()
            self._loop = None
        self._clients.clear()
        self._warmups.clear()
        for server in [*self._sims.values(), *self._llamas.values()]:
            if not isinstance(server, Exception):
                server.stop()
        self._sims.clear()
        self._llamas.clear()


async def _warm_up(
    client: StreamClient, request: ChatRequest, llama: LlamaCppServer | None
) -> None:
    with contextlib.suppress(ProviderError):  # the measured request reports it with its status
        raw = await client.stream(request)
        if llama is not None:
            # llama.cpp's timing lines can reach the log a little after the stream ends; wait for
            # the warm-up's, so they cannot fall in the first measured request's window.
            await asyncio.to_thread(llama.timings, raw.t0_ns, raw.close_ns)


def _check_managed_settings(config: BenchConfig) -> BenchConfig:
    """Validate ``sim:`` and ``llama_cpp:`` blocks at load time, so a typo is a usage error, not
    a failed test; a llama.cpp model without a ``context_window`` gets its ``n_ctx``."""
    providers = []
    for provider in config.providers:
        models = []
        for index, model in enumerate(provider.models):
            key = f"providers.{provider.name}.models[{index}]"
            try:
                if provider.simulated:
                    from .server.profile import SimProfile

                    SimProfile.from_mapping(model.sim or {})
                elif provider.managed == "llama_cpp":
                    from .managed import LlamaCppSpec

                    spec = LlamaCppSpec.from_mapping(model.llama_cpp or {})
                    if model.context_window is None:
                        model = dataclasses.replace(model, context_window=spec.n_ctx)
            except ValueError as exc:
                block = "sim" if provider.simulated else "llama_cpp"
                raise ConfigError(config.path, f"{key}.{block}", str(exc)) from None
            models.append(model)
        providers.append(dataclasses.replace(provider, models=tuple(models)))
    return dataclasses.replace(config, providers=tuple(providers))
