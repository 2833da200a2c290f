"""The measuring session of one pytest process: the config, the loop, clients and endpoints.

:class:`BenchSession` loads the config on first use, keeps one client per target (created on the
measuring loop and warmed up once, untimed) and the servers the session started
(:mod:`.endpoints`), and releases them all at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..clients.base import ChatRequest, ProviderError, StreamBounds, StreamClient
from ..config.loader import load_config
from ..config.options import Settings
from ..config.reader import ConfigError
from ..config.spec import BenchConfig
from ..matrix import Target
from .endpoints import Endpoints
from .loop import MeasureLoop
from .params import RequestLayers

if TYPE_CHECKING:
    from ..config.prompts import PromptSet
    from ..servers.llama_cpp import LlamaCppServer

__all__ = ["WARMUP_MAX_TOKENS", "BenchSession"]

WARMUP_MAX_TOKENS = 4


@dataclass
class BenchSession:
    """Per pytest process: settings, the config (loaded on first use) and live resources."""

    settings: Settings
    #: Names the server logs of this session (the results' stamp).
    log_stamp: str = "session"
    _config: BenchConfig | None = None
    _config_error: ConfigError | None = None
    _layers: RequestLayers | None = None
    _endpoints: Endpoints | None = None
    _loop: MeasureLoop | None = None
    _clients: dict[str, StreamClient] = field(default_factory=dict)
    _warmups: dict[str, asyncio.Future[None]] = field(default_factory=dict)
    _prompts: PromptSet | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- config ------------------------------------------------------------------------------
    def config(self) -> BenchConfig:
        """The validated config; raises :class:`ConfigError` (cached) when it is bad."""
        if self._config is None and self._config_error is None:
            try:
                self._config = load_config(self.settings.config_path)
            except ConfigError as exc:
                self._config_error = exc
        if self._config_error is not None:
            raise self._config_error
        assert self._config is not None
        return self._config

    @property
    def layers(self) -> RequestLayers:
        """Request parameters, tiers and limits, layered (raises :class:`ConfigError`)."""
        if self._layers is None:
            self._layers = RequestLayers(self.settings, self.config())
        return self._layers

    def prompts(self) -> PromptSet:
        """The conversation's prompts (``--llm-prompts``, else the config's), loaded once."""
        if self._prompts is None:
            from ..config.prompts import load_prompts, resolve_prompts

            config = self.config()
            path = self.settings.prompts_path or resolve_prompts(config)
            self._prompts = load_prompts(path)
        return self._prompts

    def turns(self) -> int:
        """How many turns to run (0: all)."""
        turns = self.settings.turns
        return self.config().conversation.turns if turns is None else turns

    # -- resources ---------------------------------------------------------------------------
    @property
    def loop(self) -> MeasureLoop:
        with self._lock:
            if self._loop is None:
                self._loop = MeasureLoop()
            return self._loop

    @property
    def endpoints(self) -> Endpoints:
        """The servers behind the targets (started on first need)."""
        with self._lock:
            if self._endpoints is None:
                log_dir = self.settings.results_dir if self.settings.save else None
                config_dir = self.settings.config_path.parent
                self._endpoints = Endpoints(log_dir, self.log_stamp, config_dir)
            return self._endpoints

    def _make_client(self, target: Target, api_base: str | None) -> StreamClient:
        key = target.api_key.reveal() if target.api_key else None
        field = target.provider.max_tokens_field
        bounds = StreamBounds(
            max_tokens=self.layers.max_tokens(target),
            max_tokens_field=field,
            total_timeout_s=target.total_timeout_s,
        )
        if target.provider.client == "litellm":
            from ..clients.litellm_client import LiteLLMClient

            model = target.provider.model_prefix + target.model.id
            verbose = self.settings.verbose
            return LiteLLMClient(model, api_base, key, target.timeout_s, verbose, bounds)
        from ..clients.lean import LeanClient

        assert api_base is not None
        return LeanClient(api_base, target.model.id, key, target.timeout_s, bounds)

    def _warmup_messages(self, target: Target) -> list[dict[str, str]]:
        """A short prompt; for a managed llama.cpp server, one at the session's largest tier.

        llama.cpp pays a one-off cost the first time it evaluates a prompt larger than any before
        (2-6 s on two cores, and its own prompt-eval timer leaves it out); the untimed warm-up
        takes it, so no measured request does.
        """
        text = "Say OK."
        if target.provider.managed == "llama_cpp":
            from .filler import make_filler

            tier = max(self.layers.tiers(target))
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
            params = self.layers.request_params(target, {})
            params[target.provider.max_tokens_field] = WARMUP_MAX_TOKENS
            warmup = ChatRequest(self._warmup_messages(target), params)
            llama = self.endpoints.llama_for(target)
            self._warmups[target.key] = asyncio.ensure_future(warm_up(client, warmup, llama))
        await asyncio.shield(self._warmups[target.key])
        return client

    def close(self) -> None:
        """Close the clients and the loop, and stop the servers (never raises)."""
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
        if self._endpoints is not None:
            self._endpoints.close()


async def warm_up(client: StreamClient, request: ChatRequest, llama: LlamaCppServer | None) -> None:
    """Send the untimed warm-up request; a provider error is left to the measured request."""
    with contextlib.suppress(ProviderError):  # the measured request reports it with its status
        raw = await client.stream(request)
        if llama is not None:
            # llama.cpp's timing lines can reach the log a little after the stream ends; wait for
            # the warm-up's, so they cannot fall in the first measured request's window.
            await asyncio.to_thread(llama.timings, raw.t0_ns, raw.close_ns)
