"""Session fixtures: one real benchmark session, its canary copy and a three-run history; one
real load session and its copy with capacities."""

from __future__ import annotations

from typing import Any

import pytest

from .builder import run_session, scaled, with_canaries
from .load_builder import run_load_session, with_capacities


@pytest.fixture(scope="session")
def real_document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_session(tmp_path_factory.mktemp("bench"))


@pytest.fixture(scope="session")
def canary_document(real_document: dict[str, Any]) -> dict[str, Any]:
    return with_canaries(real_document)


@pytest.fixture(scope="session")
def history(canary_document: dict[str, Any]) -> list[dict[str, Any]]:
    """Three runs: the real one, a repeat, and one where sim-a's TTFT fell by 40 % (improved)
    and sim-r's decode speed halved (regressed)."""
    first = scaled(canary_document, "2026-11-01T10:00:00+00:00", {})
    second = scaled(canary_document, "2026-11-02T10:00:00+00:00", {("sim-a", "ttft_ms"): 1.001})
    third = scaled(
        canary_document,
        "2026-11-03T10:00:00+00:00",
        {("sim-a", "ttft_ms"): 0.6, ("sim-r", "decode_tps"): 0.5},
    )
    return [first, second, third]


@pytest.fixture(scope="session")
def real_load_document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return run_load_session(tmp_path_factory.mktemp("load"))


@pytest.fixture(scope="session")
def load_document(real_load_document: dict[str, Any]) -> dict[str, Any]:
    """The real load session with a capacity per target and one point distorted, by hand."""
    return with_capacities(real_load_document)
