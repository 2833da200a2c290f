"""End-to-end runs of the plugin in a pytester project against the built-in server (the
``bench`` fixture of tests/conftest.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

THROUGHPUT = (Path(__file__).resolve().parents[1] / "benchmarks" / "test_throughput.py").read_text()


def sim_config(
    models: dict[str, dict[str, Any]],
    *,
    tiers=(0,),
    max_tokens=256,
    extra_providers=None,
    provider_extra=None,
) -> str:
    """A config.yaml with one simulated provider whose models have the given sim settings."""
    provider = {
        "managed": "simulator",
        "models": [{"id": name, "sim": sim} for name, sim in models.items()],
        **(provider_extra or {}),
    }
    document = {
        "defaults": {
            "max_tokens": max_tokens,
            "context_tiers": list(tiers),
            "timeout_s": 10,
            "prompt": "Explain streaming.",
        },
        "providers": {"embedded": provider, **(extra_providers or {})},
    }
    return yaml.safe_dump(document, sort_keys=False)


class BenchProject:
    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")

    def setup(self, config_text: str, tests: dict[str, str] | None = None) -> None:
        (self.pytester.path / "config.yaml").write_text(config_text)
        files = tests if tests is not None else {"test_throughput": THROUGHPUT}
        self.pytester.makepyfile(**files)

    def run(self, *args: str) -> pytest.RunResult:
        return self.pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)

    @property
    def results_dir(self) -> Path:
        return self.pytester.path / "results"

    def load_jsonl(self) -> list[dict[str, Any]]:
        """The load points' full records (``<stamp>.load.jsonl``)."""
        files = sorted(self.results_dir.glob("*.load.jsonl"))
        assert len(files) == 1, files
        return [json.loads(line) for line in files[0].read_text().splitlines()]

    def results(self) -> dict[str, Any]:
        files = sorted(self.results_dir.glob("*.json"))
        assert len(files) == 1, files
        document: dict[str, Any] = json.loads(files[0].read_text())
        return document

    def jsonl(self) -> list[dict[str, Any]]:
        """The session's per-test records (not a load point's full records file)."""
        files = sorted(f for f in self.results_dir.glob("*.jsonl") if ".load" not in f.name)
        assert len(files) == 1, files
        return [json.loads(line) for line in files[0].read_text().splitlines()]
