"""Stash keys shared by the hooks and the fixtures."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .fixtures import Sample
    from .recorder import Recorder
    from .runtime import BenchSession

__all__ = ["BENCH_KEY", "RECORDER_KEY", "RECORDS_KEY"]

BENCH_KEY: pytest.StashKey[BenchSession] = pytest.StashKey()
RECORDER_KEY: pytest.StashKey[Recorder] = pytest.StashKey()
RECORDS_KEY: pytest.StashKey[list[Sample]] = pytest.StashKey()
