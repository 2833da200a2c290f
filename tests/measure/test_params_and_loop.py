"""Request parameters: defaults, overrides, skip_temperature; and the measuring loop."""

import asyncio
from pathlib import Path
from typing import cast

from pytest_llmbench.config.options import Settings
from pytest_llmbench.matrix import select_targets
from pytest_llmbench.measure.loop import MeasureLoop
from pytest_llmbench.measure.session import BenchSession

CONFIG = """
defaults: {max_tokens: 300, temperature: 0.4}
providers:
  p:
    api_base: http://127.0.0.1:9/v1
    max_tokens_field: max_completion_tokens
    params: {top_p: 0.9, stream_options: null}
    models:
      - {id: plain}
      - {id: picky, skip_temperature: true, params: {temperature: 1.0, seed: 7}}
"""


def _session(tmp_path: Path, **settings) -> BenchSession:
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG)
    return BenchSession(
        Settings(rootdir=tmp_path, config_path=path, config_explicit=True, **settings)
    )


def test_request_params_layering(tmp_path):
    bench = _session(tmp_path)
    plain, picky = select_targets(bench.config(), bench.settings)
    params = bench.layers.request_params(plain, {"max_completion_tokens": 8})
    assert params == {
        "max_completion_tokens": 8,
        "temperature": 0.4,
        "top_p": 0.9,
        "stream_options": None,
    }
    # skip_temperature wins over every layer, including the model's own params.
    params = bench.layers.request_params(picky, {})
    assert "temperature" not in params
    assert params["seed"] == 7


def test_command_line_overrides_config(tmp_path):
    bench = _session(tmp_path, max_tokens=50, temperature=0.0)
    plain, _ = select_targets(bench.config(), bench.settings)
    params = bench.layers.request_params(plain, {})
    assert params["max_completion_tokens"] == 50
    assert params["temperature"] == 0.0


def test_measure_loop_runs_coroutines_from_any_loop():
    loop = MeasureLoop()

    async def where() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    async def from_another_loop() -> asyncio.AbstractEventLoop:
        return await asyncio.wrap_future(loop.submit(where()))

    try:
        assert asyncio.run(from_another_loop()) is loop.loop
        assert loop.run(where()) is loop.loop
    finally:
        loop.close()
    assert loop.loop.is_closed()


def test_warm_up_claims_its_llama_timings_before_any_measured_request():
    """llama.cpp logs a request's timings as it ends, sometimes after the client has the last
    chunk; the untimed warm-up must wait for its own, or they land in the first measured
    request's window and that request loses its cross-check (seen in CI)."""
    from pytest_llmbench.clients.base import ChatRequest, RawStream
    from pytest_llmbench.measure.session import warm_up
    from pytest_llmbench.servers.llama_cpp.server import LlamaCppServer

    claimed: list[tuple[int, int]] = []

    class Client:  # a StreamClient that answers at once
        async def stream(self, request: ChatRequest) -> RawStream:
            return RawStream(t0_ns=10, close_ns=20, deltas=[])

        async def aclose(self) -> None:
            pass

    class Llama:
        def timings(self, t0_ns: int, end_ns: int) -> None:
            claimed.append((t0_ns, end_ns))

    # warm_up only calls timings() on the server, so a stand-in with just that one is enough.
    llama = cast(LlamaCppServer, Llama())
    request = ChatRequest(messages=[])
    asyncio.run(warm_up(Client(), request, llama))
    assert claimed == [(10, 20)]
    asyncio.run(warm_up(Client(), request, None))  # other targets: nothing to claim
    assert claimed == [(10, 20)]


def test_the_total_deadline_reaches_the_client(tmp_path):
    bench = _session(tmp_path, total_timeout_s=7.0)
    plain, _ = select_targets(bench.config(), bench.settings)

    async def bounds() -> tuple[float | None, int]:
        client = bench._make_client(plain, "http://127.0.0.1:9/v1")
        try:
            return client.bounds.total_timeout_s, client.bounds.max_tokens  # type: ignore[attr-defined]
        finally:
            await client.aclose()

    assert asyncio.run(bounds()) == (7.0, 300)
