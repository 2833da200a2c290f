"""config.yaml validation: every problem names the file, the key and what is wrong."""

from pathlib import Path

import pytest

from pytest_llmbench.config.loader import load_config
from pytest_llmbench.config.reader import ConfigError

REPO = Path(__file__).resolve().parents[2]

GOOD = """
defaults: {max_tokens: 64, context_tiers: [0, 100]}
providers:
  zai:
    api_base: https://api.z.ai/api/paas/v4
    api_key_env: ZAI_API_KEY
    models: [{id: glm-4.6, display_name: GLM-4.6}]
  anthropic:
    api_key_env: ANTHROPIC_API_KEY
    model_prefix: anthropic/
    models: [{id: claude-x}]
"""


PROVIDER = "providers: {a: {api_base: http://h, models: [{id: m}]}}"


def _load(tmp_path, text):
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return load_config(path)


def test_shipped_config_is_valid_and_has_the_promised_providers():
    config = load_config(REPO / "config.yaml")
    names = {p.name for p in config.providers}
    assert {"openai", "anthropic", "gemini", "zai", "lm_studio", "embedded"} <= names
    zai = next(p for p in config.providers if p.name == "zai")
    assert any("GLM" in m.display_name for m in zai.models)


def test_client_defaults_follow_the_model_prefix(tmp_path):
    config = _load(tmp_path, GOOD)
    clients = {p.name: p.client for p in config.providers}
    assert clients == {"zai": "lean", "anthropic": "litellm"}
    assert config.defaults.context_tiers == (0, 100)


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("providers: {}", "providers", "at least one provider"),
        (
            "defaults: {max_tokens: 0}\nproviders: {a: {api_base: http://h, models: [{id: m}]}}",
            "defaults.max_tokens",
            ">= 1",
        ),
        (
            "defaults: {context_tiers: [0, -5]}\n" + PROVIDER,
            "defaults.context_tiers[1]",
            "must be a whole number of tokens from 0 to 2,000,000, got -5",
        ),
        (
            "providers: {a: {api_base: http://h, models: [{display_name: m}]}}",
            "providers.a.models[0].id",
            "missing required key",
        ),
        ("providers: {a: {api_base: http://h, moddels: []}}", "providers.a.moddels", "unknown key"),
        ("providers: {a: {models: [{id: m}]}}", "providers.a.api_base", "required"),
        (
            "providers: {a: {api_base: http://h, client: fast, models: [{id: m}]}}",
            "providers.a.client",
            "'lean' or 'litellm'",
        ),
        (
            "providers: {a: {managed: docker, models: [{id: m}]}}",
            "providers.a.managed",
            "must be 'simulator' or 'llama_cpp', got 'docker'",
        ),
        (
            "providers: {a: {api_base: http://h, models: [{id: m, filler_in: both}]}}",
            "providers.a.models[0].filler_in",
            "must be 'system' or 'user', got 'both'",
        ),
        (
            "providers: {a: {api_base: http://h, models: [{id: m, context_window: big}]}}",
            "providers.a.models[0].context_window",
            "must be a whole number >= 1, got 'big'",
        ),
        (
            "providers: {a: {api_base: http://h, models: [{id: m, sim: {itl_ms: 1}}]}}",
            "providers.a.models[0].sim",
            "simulator",
        ),
        (
            "providers: {a: {api_base: http://h, models: [{id: m}, {id: n}, {id: m}]}}",
            "providers.a.models[2].id",
            "duplicate model id 'm' (also models[0])",
        ),
        (
            "providers: {a: {api_base: 'localhost:8080/v1', models: [{id: m}]}}",
            "providers.a.api_base",
            "must be an http:// or https:// URL, got 'localhost:8080/v1'",
        ),
        (
            "providers: {a: {api_base: 'file:///etc/passwd', models: [{id: m}]}}",
            "providers.a.api_base",
            "must be an http:// or https:// URL",
        ),
        (
            "providers: {a: {api_base: 'http://h:99999/v1', models: [{id: m}]}}",
            "providers.a.api_base",
            "the port must be 1-65535",
        ),
        (
            "providers: {a: {api_base: 'http://h/v1 x', models: [{id: m}]}}",
            "providers.a.api_base",
            "must not hold spaces or control characters",
        ),
        (
            "defaults: {context_tiers: [0, 2000001]}\n" + PROVIDER,
            "defaults.context_tiers[1]",
            "must be a whole number of tokens from 0 to 2,000,000, got 2000001",
        ),
        (
            "providers: {a: {api_base: http://h, context_tiers: [3000000], models: [{id: m}]}}",
            "providers.a.context_tiers[0]",
            "from 0 to 2,000,000",
        ),
        (
            "thresholds: {defaults: [[1, 2]]}\n" + PROVIDER,
            "thresholds.defaults[0]",
            "must be a string like 'ttft_ms.p90 <= 800', got [1, 2]",
        ),
        (
            "thresholds: {defaults: ['decode_tps.median: -100%']}\n" + PROVIDER,
            "thresholds.defaults[0]",
            "above -100%",
        ),
    ],
)
def test_errors_name_file_key_and_problem(tmp_path, text, key, problem):
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, text)
    message = str(info.value)
    assert str(tmp_path / "config.yaml") in message
    assert info.value.key == key
    assert problem in message


SERVER_BLOCKS = """
providers:
  embedded:
    managed: simulator
    models:
      - {{id: sim-a, sim: {{itl_ms: 1}}}}
      - {{id: sim-b, sim: {sim}}}
  local:
    managed: llama_cpp
    models:
      - {{id: gemma, llama_cpp: {llama_cpp}}}
"""


@pytest.mark.parametrize(
    ("sim", "llama_cpp", "key", "problem"),
    [
        (
            "{ttft_ms: -1}",
            "{model_package: p}",
            "providers.embedded.models[1].sim.ttft_ms",
            "must be >= 0, got -1",
        ),
        (
            "{fault: explode}",
            "{model_package: p}",
            "providers.embedded.models[1].sim.fault",
            "must be one of 'none', 'http_429'",
        ),
        (
            "{}",
            "{model_package: p, n_ctx: 0}",
            "providers.local.models[0].llama_cpp.n_ctx",
            "must be >= 1, got 0",
        ),
        (
            "{}",
            "{model_package: p, n_ctxx: 8}",
            "providers.local.models[0].llama_cpp.n_ctxx",
            "unknown key (expected: args, chat_format,",
        ),
        (
            "{}",
            "{n_ctx: 8}",
            "providers.local.models[0].llama_cpp",
            "give exactly one of model_path",
        ),
    ],
)
def test_bad_server_blocks_name_file_full_key_and_problem(tmp_path, sim, llama_cpp, key, problem):
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, SERVER_BLOCKS.format(sim=sim, llama_cpp=llama_cpp))
    error = info.value
    assert (error.path, error.key) == (tmp_path / "config.yaml", key)
    assert error.problem.startswith(problem)
    assert str(error) == f"{tmp_path / 'config.yaml'}: {key}: {error.problem}"


def test_good_server_blocks_load(tmp_path):
    config = _load(tmp_path, SERVER_BLOCKS.format(sim="{}", llama_cpp="{model_package: p}"))
    local = next(p for p in config.providers if p.name == "local")
    assert local.models[0].context_window == 4096  # llama.cpp's n_ctx by default


def test_invalid_yaml_names_line(tmp_path):
    with pytest.raises(ConfigError, match=r"invalid YAML: line \d+, column \d+"):
        _load(tmp_path, "providers:\n  a: [unclosed\n")


def test_duplicate_model_ids_in_two_providers_are_fine(tmp_path):
    text = "providers:\n  a: {api_base: http://h, models: [{id: m}]}\n"
    text += "  b: {api_base: http://i, models: [{id: m}]}\n"
    assert [p.models[0].id for p in _load(tmp_path, text).providers] == ["m", "m"]


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")


def test_redacted_config_has_key_names_not_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("ZAI_API_KEY", "sk-secret-value")
    data = _load(tmp_path, GOOD).redacted()
    assert data["providers"]["zai"]["api_key_env"] == "ZAI_API_KEY"
    assert "sk-secret-value" not in repr(data)
