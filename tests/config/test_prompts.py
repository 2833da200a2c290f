"""The conversation's prompts file: the built-in one (package data), where a config's own set is
looked for, and malformed ones named by key."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

import pytest_llmbench
from pytest_llmbench.config.loader import load_config
from pytest_llmbench.config.prompts import builtin_prompts, load_prompts, resolve_prompts
from pytest_llmbench.config.reader import ConfigError

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "pytest_llmbench" / "data" / "lalm_conversation.json"
SIM_PROVIDER = {"managed": "simulator", "models": [{"id": "sim-fast", "sim": {"ttft_ms": 5}}]}


def _config(directory: Path, conversation: dict[str, Any] | None = None) -> Path:
    document: dict[str, Any] = {"providers": {"embedded": SIM_PROVIDER}}
    if conversation is not None:
        document["conversation"] = conversation
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_shipped_prompts_have_231_turns_in_six_tiers():
    prompts = load_prompts(SHIPPED).prompts
    assert len(prompts) == 231
    ranges: dict[str, tuple[int, int]] = {}
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


@pytest.mark.parametrize("conversation", [None, {}, {"turns": 3}, {"prompts": None}])
def test_default_is_the_packaged_conversation_wherever_the_config_lies(tmp_path, conversation):
    config = load_config(_config(tmp_path / "unrelated" / "dir", conversation))
    assert config.conversation.prompts is None
    path = resolve_prompts(config)
    assert path == builtin_prompts()
    assert path.is_relative_to(Path(pytest_llmbench.__file__).parent / "data")
    assert not path.is_relative_to(tmp_path)
    prompts = load_prompts(path)
    assert len(prompts.prompts) == 231
    assert prompts.title.startswith("LALM and music production")


def test_builtin_prompts_are_the_shipped_file():
    assert builtin_prompts().read_bytes() == SHIPPED.read_bytes()
    schema = json.loads((SHIPPED.parent / "lalm_conversation.schema.json").read_text())
    assert schema["properties"]["schema_version"] == {"const": 1}


def test_a_named_prompts_file_is_relative_to_the_config(tmp_path):
    document = json.loads(SHIPPED.read_text())
    document["prompts"] = document["prompts"][:4]
    own = tmp_path / "project" / "prompts" / "mine.json"
    own.parent.mkdir(parents=True)
    own.write_text(json.dumps(document))
    config = load_config(_config(tmp_path / "project", {"prompts": "prompts/mine.json"}))
    assert resolve_prompts(config) == own
    assert len(load_prompts(resolve_prompts(config)).prompts) == 4
    elsewhere = load_config(_config(tmp_path / "other", {"prompts": "prompts/mine.json"}))
    with pytest.raises(ConfigError, match="prompts file not found") as info:
        resolve_prompts(elsewhere)
    assert info.value.key == "conversation.prompts"  # the config's key, and what to do instead
    assert "config.yaml" in str(info.value) and "built-in" in str(info.value)


def test_the_repository_holds_exactly_one_copy_of_the_default_conversation():
    git = shutil.which("git")
    if git is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run([git, "ls-files", "-z"], cwd=REPO, capture_output=True, check=False)
    if listed.returncode != 0:
        pytest.skip(f"git ls-files failed: {listed.stderr.decode(errors='replace').strip()}")
    expected = SHIPPED.read_bytes()
    document = json.loads(expected)
    copies = []
    for name in listed.stdout.decode().split("\0"):
        path = REPO / name
        if not name or not path.is_file():
            continue  # deleted in the work tree, not yet in the index
        data = path.read_bytes()
        if data == expected:
            copies.append(name)
        elif path.suffix == ".json" and len(data) > len(expected) // 2:
            try:
                same = json.loads(data) == document  # a reformatted copy counts too
            except ValueError:
                same = False
            if same:
                copies.append(name)
    assert copies == ["pytest_llmbench/data/lalm_conversation.json"]


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
        (lambda d: d["prompts"][0].update(tier=["a"]), "prompts[0].tier", "unknown tier ['a']"),
        (
            lambda d: d["prompts"][0].update(tier="x" * 5000),
            "prompts[0].tier",
            "unknown tier 'xxx",
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
    assert len(str(info.value)) < 600


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "is a directory, not a prompts file"),
        ("[" * 100_000 + "]" * 100_000, "invalid JSON: nested too deeply"),
        ('{"tiers": 1' + "0" * 5000 + "}", "invalid JSON: Exceeds the limit (4300 digits)"),
    ],
)
def test_unreadable_prompts_files_are_named(tmp_path, content, problem):
    path = tmp_path / "prompts.json"
    if content is None:
        path.mkdir()
    else:
        path.write_text(content)
    with pytest.raises(ConfigError) as info:
        load_prompts(path)
    assert str(info.value).startswith(f"{path}: {problem}"), str(info.value)[:300]
