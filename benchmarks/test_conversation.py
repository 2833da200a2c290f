"""The conversation benchmark: one long technical conversation per target, one test per turn.

The plugin generates ``test_conversation[<target>-turnNNN]`` for the first ``--llm-turns`` prompts
of the built-in conversation (``pytest_llmbench/data/lalm_conversation.json``, shipped in the
package), or of ``--llm-prompts`` or the config's ``conversation.prompts``, in turn order. Each
turn sends the whole history plus its prompt and records TTFT, decode speed, reasoning and the
running context; the session's results carry a per-conversation summary with the degradation
analysis.
"""

import pytest


@pytest.mark.asyncio
async def test_conversation(llm_conversation):
    record = await llm_conversation.send()
    assert record.output_tokens > 0, "the model returned no tokens"
