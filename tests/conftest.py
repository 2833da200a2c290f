"""Fixtures shared by every test folder."""

import pytest

from .sessions import BenchProject

pytest_plugins = ["pytester"]


@pytest.fixture
def bench(pytester: pytest.Pytester) -> BenchProject:
    """A pytester project that runs the plugin against the built-in server."""
    return BenchProject(pytester)
