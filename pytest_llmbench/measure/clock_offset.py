"""A remote clock's offset to ours, from ping/pong exchanges (for load spread over workers).

Each exchange is ``(sent_ns, remote_ns, received_ns)``: our clock when the ping left, the remote
clock when it answered, ours when the answer came back. The exchange with the smallest round trip
is the least delayed: the remote reading lies somewhere inside it, so
``offset = remote − (sent + rtt / 2)`` with an uncertainty of ``rtt / 2`` either way (the
remote clock reads ``our clock + offset``). Many exchanges, the minimum round trip: the usual
NTP-style estimate, without its filters (one process pair, one session).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["ClockOffset", "estimate_offset"]


@dataclass(frozen=True)
class ClockOffset:
    """A remote clock minus ours (ns), how sure (± ns), and from how many exchanges."""

    offset_ns: int
    uncertainty_ns: int
    rtt_ns: int
    exchanges: int

    def as_dict(self) -> dict[str, float | int]:
        """JSON-ready, in ms (``exchanges`` a count)."""
        return {
            "offset_ms": self.offset_ns / 1e6,
            "uncertainty_ms": self.uncertainty_ns / 1e6,
            "rtt_ms": self.rtt_ns / 1e6,
            "exchanges": self.exchanges,
        }


def estimate_offset(exchanges: Iterable[tuple[int, int, int]]) -> ClockOffset:
    """The offset from the exchange of the smallest round trip (see the module);
    :class:`ValueError` without any exchange, or one whose answer came before its ping."""
    best: tuple[int, int] | None = None
    count = 0
    for sent, remote, received in exchanges:
        rtt = received - sent
        if rtt < 0:
            raise ValueError(f"an exchange came back before it left ({sent} > {received})")
        count += 1
        if best is None or rtt < best[0]:
            best = (rtt, remote - (sent + rtt // 2))
    if best is None:
        raise ValueError("no exchange to estimate a clock offset from")
    rtt, offset = best
    return ClockOffset(offset, (rtt + 1) // 2, rtt, count)
