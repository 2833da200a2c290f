"""The hostile server of :mod:`tests.hostile`, one for the folder, on free loopback ports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..hostile import HostileServer


@pytest.fixture(scope="session")
def hostile() -> Iterator[HostileServer]:
    server = HostileServer().start()
    try:
        yield server
    finally:
        server.stop()
