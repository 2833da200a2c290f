"""Fixtures shared by every test folder."""

from collections.abc import Iterator

import pytest

from .hostile import HostileServer
from .sessions import BenchProject

pytest_plugins = ["pytester"]


@pytest.fixture
def bench(pytester: pytest.Pytester) -> BenchProject:
    """A pytester project that runs the plugin against the built-in server."""
    return BenchProject(pytester)


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    """The hostile server of :mod:`tests.hostile`, one per test module, on free loopback ports."""
    server = HostileServer().start()
    try:
        yield server
    finally:
        server.stop()
