"""The spill file of a load point: each finished exchange's stamps and body pieces leave memory
as it ends and come back byte for byte, stamp for stamp, for the parse after the point."""

from __future__ import annotations

from array import array

from pytest_llmbench.clients.raw_http import Endpoint, Exchange
from pytest_llmbench.config.load_spec import LoadPoint
from pytest_llmbench.measure.load_point import _raw_stream
from pytest_llmbench.measure.load_spill import BUFFER_BYTES, Spill
from pytest_llmbench.measure.metrics import measure
from pytest_llmbench.tokens import count_tokens

from .test_load_engine import PROMPT_TOKENS, assert_all_ok, drive, runner_for
from .test_load_engine import sim as sim  # the module's simulator fixture


def _exchange(index: int, pieces: list[bytes]) -> Exchange:
    exchange = Exchange(index, 0, 1 << 30)
    exchange.pieces = list(pieces)
    exchange.stamps = array("q", (1_000 * index + k for k in range(len(pieces))))
    return exchange


def test_every_exchange_comes_back_as_it_came_whatever_its_shape():
    """Empty, one byte, many small pieces, an empty piece, and one larger than the write
    buffer; read back in another order than written, before and after later writes."""
    shapes = [
        [],
        [b"x"],
        [b"data: %d\n\n" % k for k in range(500)],
        [b"a", b"", b"b"],
        [b"z" * (BUFFER_BYTES + 17)],
    ]
    with Spill() as spill:
        exchanges = []
        for index, pieces in enumerate(shapes):
            exchange = _exchange(index, pieces)
            expected = (array("q", exchange.stamps), list(pieces))
            spill.keep(exchange)
            assert exchange.pieces == [] and len(exchange.stamps) == 0  # left memory
            assert exchange.spilled is not None
            exchanges.append((exchange, expected))
            if index == 2:  # a read between writes flushes what is buffered
                assert spill.account(exchanges[1][0]) == exchanges[1][1]
        for exchange, expected in reversed(exchanges):
            assert spill.account(exchange) == expected
        assert spill.bytes == sum(
            len(p) * 12 + sum(map(len, p)) for p in shapes
        )  # 8 B a stamp, 4 B a length, the bytes


def test_an_exchange_never_spilled_is_read_where_it_is():
    with Spill() as spill:
        exchange = _exchange(0, [b"one", b"two"])
        assert spill.account(exchange) == (exchange.stamps, exchange.pieces)


def test_a_point_run_with_its_spill_parses_as_the_server_sent(sim):
    """Through the runner: every finished exchange is on disk, none keeps its pieces, and each
    parses into the answer the server logged (its token count, its first event's time)."""
    point = LoadPoint("concurrency", concurrency=4, duration_s=None, requests=24)
    endpoint = Endpoint(sim.base_url + "/v1")
    runner = runner_for(endpoint, point, "quick")
    with Spill() as spill:
        runner.spill = spill
        outcome = drive(runner)
        assert_all_ok(outcome.exchanges)
        assert all(e.spilled is not None and not e.pieces for e in outcome.exchanges)
        logs = {str(r["id"]): r for r in sim.requests(since_ns=outcome.start_ns)}
        for exchange in outcome.exchanges:
            raw = _raw_stream(exchange, *spill.account(exchange), 10)
            m = measure(raw, count_tokens, PROMPT_TOKENS)
            assert m.ok, m.error
            log = logs[str(m.response_id)]
            assert m.output_tokens == log["output_tokens"] == 10
            first_sent = log["events"][0]["sent_ns"]
            assert 0 <= m.ttft_ms - (first_sent - exchange.t0_ns) / 1e6 < 25  # delivery only
