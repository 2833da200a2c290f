"""A load point's finished streams, moved out of memory as each request ends.

A 200-token stream arrives as about 200 body pieces of some 250 bytes, each a ``bytes`` object
(33 bytes of header beside its data) with its arrival stamp: about 50 KB a request, so a point of
100,000 requests would hold 5 GB until it is parsed. :class:`Spill` keeps each finished
exchange's account in an unnamed temporary file instead: its stamps (``array('q')``), its
pieces' lengths (``array('I')``) and its body bytes joined, written in that order through a
1 MiB buffer, so the receive loop pays a copy into the buffer per request (a system call per
megabyte) and parses nothing. What stays in memory per request is its :class:`Exchange` with
its scalar times. After the point, :meth:`Spill.account` reads one exchange back at a time for
parsing. The file is gone when closed, or when the process ends however it ends.
"""

from __future__ import annotations

import os
import tempfile
from array import array
from pathlib import Path
from typing import IO

from ..clients.raw_http import Exchange

__all__ = ["Spill"]

#: Bytes gathered before one write to the file.
BUFFER_BYTES = 1 << 20


class Spill:
    """Where a point's finished exchanges keep their stamps and body pieces (see the module)."""

    def __init__(self, directory: Path | None = None) -> None:
        # closed by close(); read back with pread, which leaves the writer's position alone
        self._out: IO[bytes] = tempfile.TemporaryFile(dir=directory, buffering=BUFFER_BYTES)  # noqa: SIM115
        self._fd = self._out.fileno()
        #: Bytes written to the file so far (the offset of the next exchange).
        self.bytes = 0
        self._dirty = False

    def keep(self, exchange: Exchange) -> None:
        """Move ``exchange``'s stamps and pieces to the file; it keeps where they are."""
        pieces = exchange.pieces
        stamps = exchange.stamps
        lengths = array("I", map(len, pieces))
        body = b"".join(pieces)
        write = self._out.write
        at = self.bytes
        write(stamps.tobytes())
        write(lengths.tobytes())
        write(body)
        exchange.spilled = (at, len(stamps), len(body))
        self.bytes = at + len(stamps) * (stamps.itemsize + lengths.itemsize) + len(body)
        exchange.pieces = []
        exchange.stamps = array("q")
        self._dirty = True

    def account(self, exchange: Exchange) -> tuple[array[int], list[bytes]]:
        """``exchange``'s stamps and body pieces, as they came (read back if spilled)."""
        if exchange.spilled is None:
            return exchange.stamps, exchange.pieces
        if self._dirty:
            self._out.flush()
            self._dirty = False
        at, count, size = exchange.spilled
        stamps, lengths = array("q"), array("I")
        data = os.pread(self._fd, count * (stamps.itemsize + lengths.itemsize) + size, at)
        split = count * stamps.itemsize
        stamps.frombytes(data[:split])
        lengths.frombytes(data[split : split + count * lengths.itemsize])
        pieces, offset = [], split + count * lengths.itemsize
        for length in lengths:
            pieces.append(data[offset : offset + length])
            offset += length
        return stamps, pieces

    def close(self) -> None:
        """Drop the file (its space is freed)."""
        self._out.close()

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
