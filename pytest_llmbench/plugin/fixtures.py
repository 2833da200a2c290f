"""The public fixtures: ``llm_target``, ``llm_stream``, ``llm_conversation`` and friends.

Any test that asks for ``llm_target`` (directly or through ``llm_stream``) is parametrized by the
plugin over the selected targets and runs; one that also asks for ``llm_tier`` or ``llm_messages``
over the context tiers as well, and one that asks for ``llm_conversation`` over the turns of each
target's conversation::

    @pytest.mark.asyncio
    async def test_json_mode(llm_stream):
        record = await llm_stream([{"role": "user", "content": "Reply in JSON."}],
                                  response_format={"type": "json_object"})
        assert record.output_tokens > 0
"""

from __future__ import annotations

import pytest

from ..conversation.turn import ConversationState, ConversationTurn
from ..matrix import Case, Target
from ..measure.stream import LLMStream
from .stash import SAMPLES_KEY, STATE_KEY

__all__ = [
    "llm_case",
    "llm_conversation",
    "llm_messages",
    "llm_run",
    "llm_stream",
    "llm_target",
    "llm_tier",
    "llm_turn",
]


@pytest.fixture
def llm_case(request: pytest.FixtureRequest) -> Case:
    """The plugin's parametrization of this test (target, tier, run)."""
    param = getattr(request, "param", None)
    if not isinstance(param, Case):
        pytest.fail(
            "llm_case is parametrized by pytest-llmbench; request llm_target instead", pytrace=False
        )
    return param


@pytest.fixture
def llm_target(llm_case: Case) -> Target:
    """The target (provider and model) this test measures."""
    if llm_case.skip_reason:
        pytest.skip(llm_case.skip_reason)
    return llm_case.target


@pytest.fixture
def llm_tier(llm_case: Case) -> int:
    """The context tier of this test, in prompt tokens."""
    return llm_case.tier or 0


@pytest.fixture
def llm_run(llm_case: Case) -> int:
    """The run number (1-based) of this test."""
    return llm_case.run


@pytest.fixture
def llm_turn(llm_case: Case) -> int:
    """The conversation turn (1-based) this test runs."""
    return int(llm_case.turn or 1)


@pytest.fixture
def llm_messages(
    request: pytest.FixtureRequest, llm_target: Target, llm_tier: int
) -> list[dict[str, str]]:
    """The throughput prompt padded with fresh filler to the tier's size (see
    :func:`~pytest_llmbench.measure.filler.tier_messages`)."""
    from ..measure.filler import tier_messages

    bench = request.config.stash[STATE_KEY].bench
    return tier_messages(bench.config().defaults.prompt, llm_tier, llm_target.model.filler_in)


@pytest.fixture
def llm_stream(request: pytest.FixtureRequest, llm_target: Target) -> LLMStream:
    """An async callable that streams messages to ``llm_target`` and records the measurement."""
    bench = request.config.stash[STATE_KEY].bench
    samples = request.node.stash.setdefault(SAMPLES_KEY, [])
    return LLMStream(bench, llm_target, samples)


def _refuse_splitting(config: pytest.Config) -> None:
    if not config.pluginmanager.hasplugin("xdist"):
        return
    from .xdist_hooks import splitting_mode

    mode = splitting_mode(config)
    if mode is not None:
        pytest.fail(
            f"conversation tests cannot run under --dist {mode}: it may split one conversation's "
            "turns across workers. Use -n with the default --dist load (the plugin keeps each "
            "conversation on one worker), or --dist loadfile / loadscope; loadgroup is unreliable "
            "on pytest 9.2 (pytest-xdist issue 1386).",
            pytrace=False,
        )


@pytest.fixture
def llm_conversation(
    request: pytest.FixtureRequest, llm_target: Target, llm_turn: int
) -> ConversationTurn:
    """This test's turn of its target's conversation; await ``.send()`` to run it."""
    _refuse_splitting(request.config)
    state = request.config.stash[STATE_KEY]
    conversation = state.conversations.setdefault(llm_target.key, ConversationState())
    samples = request.node.stash.setdefault(SAMPLES_KEY, [])
    prompts = state.bench.prompts()
    planned = len(prompts.first(state.bench.turns()))
    stream = LLMStream(state.bench, llm_target, samples)
    return ConversationTurn(stream, conversation, prompts, llm_turn, planned)
