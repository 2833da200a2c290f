"""Under ``-n``, what runs together: a conversation's turns, and every test of a local server."""

from typing import cast

import pytest

pytest.importorskip("xdist")

from pytest_llmbench.plugin.xdist_scheduling import BenchScheduling

LOCAL = "local-Gemma_3_270M"


class _Config:
    """Just what xdist's scope scheduler reads when it is built: two workers."""

    def getvalue(self, name):
        return ["2*popen"] if name == "tx" else None


def _scope(nodeid: str) -> str:
    config = cast(pytest.Config, _Config())  # a partial stand-in: only getvalue("tx") is read
    return BenchScheduling(config, None, [LOCAL])._split_scope(nodeid)


def test_every_test_of_a_local_server_target_is_one_unit_of_work():
    ids = [
        f"benchmarks/test_throughput.py::test_throughput[{LOCAL}-ctx0-run1]",
        f"benchmarks/test_throughput.py::test_throughput[{LOCAL}-ctx2048-run3]",
        f"benchmarks/test_conversation.py::test_conversation[{LOCAL}-turn001]",
        f"benchmarks/test_conversation.py::test_conversation[{LOCAL}-turn012]",
        f"tests/test_mine.py::test_custom[{LOCAL}-run1]",
    ]
    assert len({_scope(i) for i in ids}) == 1


def test_other_targets_spread_and_keep_only_conversations_whole():
    turns = {
        _scope(f"b/test_conversation.py::test_conversation[zai-GLM_4.6-turn00{n}]") for n in (1, 2)
    }
    runs = {
        _scope(f"b/test_throughput.py::test_throughput[zai-GLM_4.6-ctx0-run{n}]") for n in (1, 2)
    }
    assert len(turns) == 1 and len(runs) == 2
    # A target whose id merely starts with the local one's is not part of its unit.
    other = _scope(f"b/test_throughput.py::test_throughput[{LOCAL}_it-ctx0-run1]")
    assert other != _scope(f"b/test_throughput.py::test_throughput[{LOCAL}-ctx0-run1]")
