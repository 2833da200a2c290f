"""The conversation's prompts file: the shipped one, and malformed ones named by key."""

import json
from pathlib import Path

import pytest

from pytest_llmbench.config.prompts import load_prompts
from pytest_llmbench.config.reader import ConfigError

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "prompts" / "lalm_conversation.json"


def test_shipped_prompts_have_231_turns_in_six_tiers():
    prompts = load_prompts(SHIPPED).prompts
    assert len(prompts) == 231
    ranges = {}
    for prompt in prompts:
        low, high = ranges.get(prompt.tier, (prompt.number, prompt.number))
        ranges[prompt.tier] = (min(low, prompt.number), max(high, prompt.number))
    assert ranges == {
        "Foundations": (1, 40),
        "Intermediate": (41, 80),
        "Advanced": (81, 120),
        "Expert": (121, 160),
        "Obscure": (161, 200),
        "Ultra-deep": (201, 231),
    }
    assert len({p.text for p in prompts}) == 231


def _write(tmp_path, document):
    path = tmp_path / "prompts.json"
    path.write_text(json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("mutate", "key", "problem"),
    [
        (lambda d: d["prompts"][2].update(number=7), "prompts[2].number", "must be 3"),
        (lambda d: d["prompts"][0].update(tier="Basics"), "prompts[0].tier", "unknown tier"),
        (lambda d: d["prompts"][1].update(text=" "), "prompts[1].text", "non-empty"),
        (lambda d: d["prompts"][1].pop("text"), "prompts[1]", "exactly the keys"),
        (lambda d: d.update(tiers=[]), "tiers", "non-empty"),
        (
            lambda d: d["prompts"][1].update(text=d["prompts"][0]["text"]),
            "prompts[1].text",
            "repeats",
        ),
    ],
)
def test_malformed_prompts_name_the_key(tmp_path, mutate, key, problem):
    document = json.loads(SHIPPED.read_text())
    document["prompts"] = document["prompts"][:5]
    mutate(document)
    with pytest.raises(ConfigError) as info:
        load_prompts(_write(tmp_path, document))
    assert info.value.key == key
    assert problem in str(info.value)
    assert "prompts.json" in str(info.value)
