"""Helpers of perf/load_accuracy.py: truth comparison, a raw-socket reference, CPU, table rows.

* :func:`analyse` parses a load point's exchanges after the point (as the plugin does) and sets
  each request beside the built-in server's truth log: TTFT error, trip, delivery, TPOT error,
  send lateness, and the server's own lateness (``sent_ns - due_ns``).
* :class:`RawSocketClient` is the reference the engine is held to at one stream: a blocking
  socket connected ahead, one ``sendall`` of pre-built request bytes, ``perf_counter_ns`` after
  every ``recv``; the first token event is found in the bytes after the response has ended.
* :func:`proc_times` reads a process's CPU time and its time waiting for a CPU (run queue) from
  ``/proc/<pid>/stat`` and ``/proc/<pid>/schedstat``: the simulator's, and this process's.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pytest_llmbench.clients.raw_http import Exchange
from pytest_llmbench.clients.sse import parse_openai_stream

__all__ = [
    "VERDICTS",
    "Analysis",
    "RawSocketClient",
    "analyse",
    "by_wave",
    "p50_p99",
    "pct",
    "proc_times",
    "row",
    "table",
]

_clock = time.perf_counter_ns
# The first event whose delta carries text (the role chunk's "content" is empty).
_TOKEN = re.compile(rb'"content":\s*"(?!")')
_ID = re.compile(rb'"id":\s*"([^"]+)"')
_CHUNKED_END = b"\r\n0\r\n\r\n"
#: Every judged figure so far, with its verdict (the script's summary).
VERDICTS: list[tuple[str, str]] = []


def pct(data: Sequence[float], q: float) -> float:
    """The ``q``-th percentile of ``data`` (nearest rank; NaN for no data)."""
    if not data:
        return float("nan")
    ordered = sorted(data)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def by_wave(indexes: Sequence[int], values: Sequence[float], size: int) -> str:
    """The p50 of ``values`` per wave of ``size`` requests (by request index), as ``a / b / c``."""
    waves: dict[int, list[float]] = {}
    for index, value in zip(indexes, values, strict=True):
        waves.setdefault(index // size, []).append(value)
    return " / ".join(f"{pct(waves[w], 50):+.1f}" for w in sorted(waves))


def table(title: str) -> None:
    print(f"\n### {title}\n\n| figure | measured | goal | verdict |\n|---|---|---|---|")


def row(figure: str, value: str, goal: str = "", ok: bool | None = None, name: str = "") -> None:
    verdict = "" if ok is None else "pass" if ok else "**FAIL**"
    if ok is not None:
        VERDICTS.append((name or figure, verdict))
    print(f"| {figure} | {value} | {goal} | {verdict} |", flush=True)


def p50_p99(data: Sequence[float], unit: str = " ms", digits: int = 3) -> str:
    return f"{pct(data, 50):+.{digits}f} / {pct(data, 99):+.{digits}f}{unit}"


@dataclass
class Analysis:
    """Per-request figures of one point against the truth log (ms unless named otherwise)."""

    #: the index of each request compared (the lists below are in this order)
    compared: list[int] = field(default_factory=list)
    true_ttft: list[float] = field(default_factory=list)
    ttft_err: list[float] = field(default_factory=list)
    ttft_err_pct: list[float] = field(default_factory=list)
    trip: list[float] = field(default_factory=list)
    delivery: list[float] = field(default_factory=list)
    tpot_err_pct: list[float] = field(default_factory=list)
    late: list[float] = field(default_factory=list)
    written_late: list[float] = field(default_factory=list)
    server_late: list[float] = field(default_factory=list)
    t0s: list[int] = field(default_factory=list)
    #: the client's own part of the trip: written_ns - t0 (ms)
    write: list[float] = field(default_factory=list)
    #: the server's receipt of each request, by index
    recv: dict[int, int] = field(default_factory=dict)
    tokens: int = 0
    pieces: int = 0
    errors: list[str] = field(default_factory=list)
    parse_cpu_s: float = 0.0


def analyse(
    exchanges: Iterable[Exchange],
    logs: Mapping[str, Mapping[str, Any]],
    account: Callable[[Exchange], tuple[Sequence[int], list[bytes]]] | None = None,
) -> Analysis:
    """Every exchange parsed and compared with its record in ``logs`` (by response id);
    ``account`` gives an exchange's stamps and pieces (the point's spill file's, as the plugin
    reads them)."""
    out = Analysis()
    cpu0 = time.process_time()
    for ex in sorted(exchanges, key=lambda e: e.index):
        out.late.append((ex.t0_ns - ex.sched_ns) / 1e6)
        if ex.written_ns:
            out.written_late.append((ex.written_ns - ex.sched_ns) / 1e6)
            out.write.append((ex.written_ns - ex.t0_ns) / 1e6)
        out.t0s.append(ex.t0_ns)
        stamps_in, pieces = account(ex) if account is not None else (ex.stamps, ex.pieces)
        out.pieces += len(pieces)
        if ex.error is not None or ex.status != 200:
            out.errors.append(ex.error or f"HTTP {ex.status}")
            continue
        deltas, _ = parse_openai_stream(zip(stamps_in, pieces, strict=True))
        stamps = [d.t_ns for d in deltas if d.is_token_event]
        out.tokens += len(stamps)
        rid = next((d.response_id for d in deltas if d.response_id), None)
        log = logs.get(rid or "")
        if log is None or not stamps:
            out.errors.append(f"no truth for request {ex.index} ({rid})")
            continue
        out.recv[ex.index] = int(log["recv_ns"])
        _compare(out, ex.index, ex.t0_ns, stamps, log)
    out.parse_cpu_s = time.process_time() - cpu0
    return out


def _compare(out: Analysis, index: int, t0: int, stamps: list[int], log: Mapping[str, Any]) -> None:
    events = log["events"]
    sent = [int(e["sent_ns"]) for e in events]
    if len(sent) != len(stamps):
        out.errors.append(f"{len(stamps)} token events read, {len(sent)} sent")
        return
    recv = int(log["recv_ns"])
    true_ttft = (sent[0] - recv) / 1e6
    err = (stamps[0] - t0) / 1e6 - true_ttft
    out.compared.append(index)
    out.true_ttft.append(true_ttft)
    out.ttft_err.append(err)
    out.ttft_err_pct.append(err / true_ttft * 100)
    out.trip.append((recv - t0) / 1e6)
    out.delivery.append((stamps[0] - sent[0]) / 1e6)
    out.server_late.extend((int(e["sent_ns"]) - int(e["due_ns"])) / 1e6 for e in events)
    if len(sent) > 1:
        true_tpot = (sent[-1] - sent[0]) / (len(sent) - 1)
        tpot = (stamps[-1] - stamps[0]) / (len(stamps) - 1)
        out.tpot_err_pct.append((tpot - true_tpot) / true_tpot * 100)


def proc_times(pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) of process ``pid`` so far, and seconds its main thread spent
    runnable but waiting for a CPU (Linux ``/proc``); NaN elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{pid}/schedstat", encoding="ascii") as fh:
            waited_ns = int(fh.read().split()[1])
    except (OSError, IndexError, ValueError):
        return float("nan"), float("nan")
    # after the command's ")": state is field 3, so utime (14) and stime (15) are [11] and [12]
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return cpu, waited_ns / 1e9


@dataclass
class RawReading:
    """One reference request: its TTFT from ``t0`` to the recv that completed the first token
    event, and the response id (for the truth log)."""

    t0_ns: int
    ttft_ms: float
    response_id: str


class RawSocketClient:
    """The simplest client there is: a blocking socket, one write, a stamp after every read."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.sock: socket.socket | None = None

    def connect(self, warm: bytes) -> None:
        """Connect (ahead of the request) and send one warm-up request on the connection."""
        self.close()
        self.sock = socket.create_connection((self.host, self.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._exchange(warm)

    def request(self, data: bytes) -> RawReading:
        """Send ``data`` and read the whole response; the first token event is found afterwards."""
        t0, reads = self._exchange(data)
        body = b"".join(piece for _, piece in reads)
        match = _TOKEN.search(body)
        ident = _ID.search(body)
        if match is None or ident is None:
            raise RuntimeError(f"no token event in the response: {body[:300]!r}")
        end = body.find(b"\n\n", match.end()) + 2  # the blank line that completes the event
        seen = 0
        for stamp, piece in reads:
            seen += len(piece)
            if seen >= end:
                return RawReading(t0, (stamp - t0) / 1e6, ident.group(1).decode())
        raise RuntimeError("the first token event never ended")

    def _exchange(self, data: bytes) -> tuple[int, list[tuple[int, bytes]]]:
        sock = self.sock
        assert sock is not None
        reads: list[tuple[int, bytes]] = []
        t0 = _clock()
        sock.sendall(data)
        tail = b""
        while True:
            piece = sock.recv(65536)
            stamp = _clock()
            if not piece:
                break
            reads.append((stamp, piece))
            tail = (tail + piece)[-len(_CHUNKED_END) :]
            if tail == _CHUNKED_END:  # the last chunk of a chunked body
                break
        return t0, reads

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
