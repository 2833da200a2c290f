"""The test matrix: which targets run, why the others skip, and the ids and order of the cases."""

import re
import socket
import textwrap
from dataclasses import replace

import pytest

from pytest_llmbench.config import ConfigError, Settings, load_config
from pytest_llmbench.config.load_grammar import parse_load_spec
from pytest_llmbench.config.load_layers import load_settings
from pytest_llmbench.config.load_options import LoadOptions
from pytest_llmbench.config.load_spec import LoadSettings
from pytest_llmbench.matrix import (
    CONTEXT_MARGIN,
    Case,
    LoadCase,
    Secret,
    Target,
    build_cases,
    build_load_cases,
    build_turn_cases,
    headroom_reason,
    safe_id,
    select_targets,
)
from pytest_llmbench.servers.llama_cpp import INSTALL_HINT

KEY_VAR = "LLMBENCH_MATRIX_TEST_KEY"
OTHER_VAR = "LLMBENCH_MATRIX_TEST_OTHER_KEY"
SECRET_VALUE = "sk-matrix-test-0123456789abcdef"

CONFIG = f"""
defaults: {{max_tokens: 64, context_tiers: [0, 100], timeout_s: 30}}
providers:
  Alpha:
    api_base: http://127.0.0.1:9/v1
    api_key_env: {KEY_VAR}
    models:
      - {{id: alpha-small, display_name: Alpha Small}}
      - {{id: alpha-large, display_name: Sonnet Large}}
  beta:
    api_base: http://127.0.0.1:9/v1
    timeout_s: 45
    models:
      - {{id: beta-1}}
"""


def _write(tmp_path, text, name="config.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _settings(path, **kw):
    return Settings(rootdir=path.parent, config_path=path, config_explicit=True, **kw)


def _select(tmp_path, text=CONFIG, **kw):
    path = _write(tmp_path, text)
    return select_targets(load_config(path), _settings(path, **kw))


@pytest.fixture(autouse=True)
def _no_keys(monkeypatch):
    monkeypatch.delenv(KEY_VAR, raising=False)
    monkeypatch.delenv(OTHER_VAR, raising=False)


def _make_target(tmp_path, provider="prov", model="model", display=None, window=None, skip=None):
    window_yaml = f", context_window: {window}" if window is not None else ""
    text = f"""
    providers:
      "{provider}":
        api_base: http://127.0.0.1:9/v1
        models: [{{id: "{model}", display_name: "{display or model}"{window_yaml}}}]
    """
    path = _write(tmp_path, text, name=f"config-{safe_id(provider)}-{safe_id(model)}.yaml")
    config = load_config(path)
    provider_spec = config.providers[0]
    return Target(provider_spec, provider_spec.models[0], None, skip, 120.0)


# --- select_targets: filters --------------------------------------------------------------


@pytest.mark.parametrize("wanted", [("alpha",), ("ALPHA",), ("Alpha",)])
def test_provider_filter_is_case_insensitive(tmp_path, wanted):
    targets = _select(tmp_path, providers=wanted)
    assert {t.provider.name for t in targets} == {"Alpha"}
    assert [t.model.id for t in targets] == ["alpha-small", "alpha-large"]


def test_provider_filter_takes_several_names(tmp_path):
    targets = _select(tmp_path, providers=("BETA", "alpha"))
    assert {t.provider.name for t in targets} == {"Alpha", "beta"}


def test_no_filter_selects_every_model_in_config_order(tmp_path):
    targets = _select(tmp_path)
    assert [t.key for t in targets] == ["Alpha/alpha-small", "Alpha/alpha-large", "beta/beta-1"]


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        ("small", ["Alpha/alpha-small"]),  # in the id and the display name
        ("SONNET", ["Alpha/alpha-large"]),  # only in the display name, other case
        ("large", ["Alpha/alpha-large"]),  # id and display name
        ("beta-1", ["beta/beta-1"]),  # the id (display name defaults to it)
        ("alpha-", ["Alpha/alpha-small", "Alpha/alpha-large"]),  # only in the ids
        ("nothing-matches", []),
    ],
)
def test_model_filter_matches_id_or_display_name(tmp_path, needle, expected):
    targets = _select(tmp_path, model_filter=needle)
    assert [t.key for t in targets] == expected


def test_provider_and_model_filters_combine(tmp_path):
    assert _select(tmp_path, providers=("beta",), model_filter="alpha") == []


# --- select_targets: keys -----------------------------------------------------------------


def test_key_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_VAR, SECRET_VALUE)
    alpha = [t for t in _select(tmp_path) if t.provider.name == "Alpha"]
    assert alpha and all(t.skip_reason is None for t in alpha)
    assert all(t.api_key is not None and t.api_key.reveal() == SECRET_VALUE for t in alpha)


def test_key_from_dotenv_beside_the_config(tmp_path):
    (tmp_path / ".env").write_text(f"{KEY_VAR}={SECRET_VALUE}\n", encoding="utf-8")
    alpha = [t for t in _select(tmp_path) if t.provider.name == "Alpha"]
    assert all(t.skip_reason is None for t in alpha)
    assert all(t.api_key is not None and t.api_key.reveal() == SECRET_VALUE for t in alpha)


def test_dotenv_elsewhere_is_not_read(tmp_path):
    confdir = tmp_path / "conf"
    confdir.mkdir()
    (tmp_path / ".env").write_text(f"{KEY_VAR}={SECRET_VALUE}\n", encoding="utf-8")
    alpha = [t for t in _select(confdir) if t.provider.name == "Alpha"]
    assert all(t.api_key is None and t.skip_reason for t in alpha)


def test_environment_wins_over_dotenv(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text(f"{KEY_VAR}=from-dotenv\n", encoding="utf-8")
    monkeypatch.setenv(KEY_VAR, "from-environment")
    alpha = next(t for t in _select(tmp_path) if t.provider.name == "Alpha")
    assert alpha.api_key is not None and alpha.api_key.reveal() == "from-environment"


def test_missing_key_skips_naming_the_variable_and_the_config(tmp_path):
    path = _write(tmp_path, CONFIG, name="bench.yaml")
    targets = select_targets(load_config(path), _settings(path))
    alpha = [t for t in targets if t.provider.name == "Alpha"]
    assert len(alpha) == 2
    for target in alpha:
        assert target.api_key is None
        assert target.skip_reason is not None
        assert KEY_VAR in target.skip_reason
        assert "not set" in target.skip_reason
        assert "bench.yaml" in target.skip_reason
    beta = next(t for t in targets if t.provider.name == "beta")
    assert beta.skip_reason is None  # no api_key_env: nothing to miss


def test_empty_key_in_the_environment_counts_as_unset(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_VAR, "")
    alpha = next(t for t in _select(tmp_path) if t.provider.name == "Alpha")
    assert alpha.api_key is None
    assert alpha.skip_reason is not None and KEY_VAR in alpha.skip_reason


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (SECRET_VALUE + "\n", "holds a line break"),
        (SECRET_VALUE + "\r\nX-Injected: 1", "holds a line break"),
        (SECRET_VALUE[:8] + "\x1b" + SECRET_VALUE[8:], "holds a control character"),
        (SECRET_VALUE[:8] + "\t" + SECRET_VALUE[8:], "holds a control character"),
        (SECRET_VALUE + "\u2019", "holds a character that is not ASCII"),
    ],
)
def test_a_key_that_cannot_be_a_header_is_refused_naming_the_variable(
    tmp_path, monkeypatch, value, problem
):
    monkeypatch.setenv(KEY_VAR, value)
    with pytest.raises(ConfigError) as info:
        _select(tmp_path)
    error = info.value
    assert (error.path, error.key) == (tmp_path / "config.yaml", "providers.Alpha.api_key_env")
    assert error.problem.startswith(f"the key in {KEY_VAR} (the environment) {problem}")
    assert "the value is not shown" in error.problem
    assert SECRET_VALUE[:8] not in str(error)


def test_a_key_with_a_line_break_in_dotenv_names_the_file(tmp_path):
    (tmp_path / ".env").write_text(f'{KEY_VAR}="{SECRET_VALUE}\nmore"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"the key in {KEY_VAR} \(\.env beside config\.yaml\)"):
        _select(tmp_path)


def test_a_bad_key_of_a_deselected_provider_is_not_looked_at(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_VAR, SECRET_VALUE + "\n")
    assert [t.provider.name for t in _select(tmp_path, providers=("beta",))] == ["beta"]


# --- select_targets: optional and managed providers ----------------------------------------


def _optional_config(port):
    return f"""
    providers:
      local:
        api_base: http://127.0.0.1:{port}/v1
        optional: true
        models: [{{id: m1}}, {{id: m2}}]
    """


def test_optional_provider_with_nothing_listening_is_skipped_naming_the_url(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        port = sock.getsockname()[1]
        targets = _select(tmp_path, _optional_config(port))
    url = f"http://127.0.0.1:{port}/v1"
    assert len(targets) == 2
    for target in targets:
        assert target.skip_reason is not None
        assert url in target.skip_reason
        assert "local" in target.skip_reason  # how to deselect it


def test_optional_provider_with_a_listening_server_runs(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        targets = _select(tmp_path, _optional_config(port))
    assert [t.skip_reason for t in targets] == [None, None]


def test_a_missing_key_is_reported_before_an_unreachable_optional_server(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        text = f"""
        providers:
          local:
            api_base: http://127.0.0.1:{port}/v1
            api_key_env: {KEY_VAR}
            optional: true
            models: [{{id: m1}}]
        """
        (target,) = _select(tmp_path, text)
    assert target.skip_reason is not None and KEY_VAR in target.skip_reason


def _llama_config(block):
    return f"""
    providers:
      gemma:
        managed: llama_cpp
        models:
          - id: tiny
            llama_cpp: {block}
    """


def test_managed_llama_cpp_without_its_model_package_is_skipped_with_the_install_hint(tmp_path):
    package = "llmbench_no_such_model_package_xyz"
    (target,) = _select(tmp_path, _llama_config(f"{{model_package: {package}}}"))
    assert target.skip_reason is not None
    assert package in target.skip_reason
    assert INSTALL_HINT in target.skip_reason


def test_managed_llama_cpp_without_the_server_packages_is_skipped(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    hidden = {"llama_cpp", "uvicorn"}

    def find_spec(name, *args, **kwargs):
        return None if name in hidden else real(name, *args, **kwargs)

    path = _write(tmp_path, _llama_config("{model_path: tiny.gguf}"))
    config = load_config(path)
    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    (target,) = select_targets(config, _settings(path))
    monkeypatch.undo()
    assert target.skip_reason is not None
    assert "llama_cpp" in target.skip_reason and "uvicorn" in target.skip_reason
    assert INSTALL_HINT in target.skip_reason


# --- select_targets: timeouts ---------------------------------------------------------------


def test_timeout_from_defaults_when_nothing_else_sets_it(tmp_path):
    alpha = next(t for t in _select(tmp_path) if t.provider.name == "Alpha")
    assert alpha.timeout_s == 30


def test_provider_timeout_beats_defaults(tmp_path):
    beta = next(t for t in _select(tmp_path) if t.provider.name == "beta")
    assert beta.timeout_s == 45


def test_command_line_timeout_beats_provider_and_defaults(tmp_path):
    targets = _select(tmp_path, timeout_s=7.5)
    assert {t.timeout_s for t in targets} == {7.5}


def test_builtin_timeout_without_any_setting(tmp_path):
    text = """
    providers:
      p: {api_base: http://127.0.0.1:9/v1, models: [{id: m}]}
    """
    (target,) = _select(tmp_path, text)
    assert target.timeout_s == load_config(tmp_path / "config.yaml").defaults.timeout_s


# --- keys never show ------------------------------------------------------------------------


def test_secret_never_shows_in_repr_or_str():
    secret = Secret(SECRET_VALUE)
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret])):
        assert SECRET_VALUE not in shown
    assert secret.reveal() == SECRET_VALUE


def test_target_repr_and_describe_never_hold_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv(KEY_VAR, SECRET_VALUE)
    alpha = next(t for t in _select(tmp_path) if t.provider.name == "Alpha")
    assert alpha.api_key is not None
    assert SECRET_VALUE not in repr(alpha)
    described = alpha.describe()
    assert SECRET_VALUE not in repr(described)
    assert not any("key" in name for name in described if name != "target")
    assert described["target"] == alpha.key == "Alpha/alpha-small"
    assert described["model"] == "alpha-small"
    assert described["display_name"] == "Alpha Small"
    case = Case(alpha, 0, 1)
    assert SECRET_VALUE not in repr(case.describe()) + case.id + repr(case)


def test_targets_compare_equal_whatever_their_key(tmp_path):
    one = _make_target(tmp_path)
    assert replace(one, api_key=Secret("a")) == replace(one, api_key=Secret("b"))


# --- ids --------------------------------------------------------------------------------------


def test_case_id_is_provider_model_tier_run(tmp_path):
    target = _make_target(tmp_path, "prov", "model")
    assert Case(target, 512, 2).id == "prov-model-ctx512-run2"
    assert Case(target, 0, 1).id == "prov-model-ctx0-run1"


def test_case_id_without_a_tier_has_no_ctx_part(tmp_path):
    target = _make_target(tmp_path, "prov", "model")
    assert Case(target, None, 3).id == "prov-model-run3"


@pytest.mark.parametrize(("turn", "suffix"), [(7, "turn007"), (1, "turn001"), (231, "turn231")])
def test_turn_case_id(tmp_path, turn, suffix):
    target = _make_target(tmp_path, "prov", "model")
    assert Case(target, None, 1, turn=turn).id == f"prov-model-{suffix}"


def test_case_id_uses_the_display_name(tmp_path):
    target = _make_target(tmp_path, "zai", "glm-4.6", display="GLM-4.6")
    assert Case(target, 5000, 2).id == "zai-GLM-4.6-ctx5000-run2"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Claude Opus 4.6", "Claude_Opus_4.6"),
        ("meta/llama-3", "meta_llama-3"),
        ("a / b", "a_b"),  # a run of unsafe characters is one _
        ("  padded  ", "padded"),
        ("/lead and trail/", "lead_and_trail"),
        ("x[1]", "x_1"),
        ("!!!", "_"),
        ("ok-name_1.2+3", "ok-name_1.2+3"),
    ],
)
def test_safe_id(text, expected):
    assert safe_id(text) == expected


def test_unsafe_characters_in_names_never_reach_the_id(tmp_path):
    target = _make_target(tmp_path, "my provider", "m", display="Model: v2 [beta]/fast")
    case_id = Case(target, 0, 1).id
    assert re.fullmatch(r"[A-Za-z0-9._+-]+", case_id), case_id
    assert case_id == "my_provider-Model_v2_beta_fast-ctx0-run1"


def test_ids_are_stable_across_loads_and_keys(tmp_path, monkeypatch):
    first = [c.id for c in build_cases(_select(tmp_path), lambda t: (0, 100), 2, lambda t: 64)]
    monkeypatch.setenv(KEY_VAR, SECRET_VALUE)
    second = [c.id for c in build_cases(_select(tmp_path), lambda t: (0, 100), 2, lambda t: 64)]
    assert first == second
    assert len(set(first)) == len(first)


# --- headroom ----------------------------------------------------------------------------------


def test_headroom_without_a_context_window_never_skips(tmp_path):
    target = _make_target(tmp_path)
    assert headroom_reason(target, 10**9, 512) is None


@pytest.mark.parametrize(("window", "max_tokens"), [(1000, 200), (8192, 512)])
def test_headroom_is_window_minus_max_tokens_minus_the_margin(tmp_path, window, max_tokens):
    target = _make_target(tmp_path, display="Tiny Model", window=window)
    headroom = window - max_tokens - CONTEXT_MARGIN
    assert headroom_reason(target, headroom, max_tokens) is None
    assert headroom_reason(target, 0, max_tokens) is None
    reason = headroom_reason(target, headroom + 1, max_tokens)
    assert reason is not None
    for number in (headroom + 1, headroom, window, max_tokens, CONTEXT_MARGIN):
        assert str(number) in reason
    assert "Tiny Model" in reason


# --- build_cases / build_turn_cases -------------------------------------------------------------


def test_build_cases_is_target_major(tmp_path):
    a = _make_target(tmp_path, "a", "m1")
    b = _make_target(tmp_path, "b", "m2")
    tiers = {a.key: (0, 5000), b.key: (100,)}
    cases = build_cases([a, b], lambda t: tiers[t.key], 2, lambda t: 64)
    assert [(c.target.key, c.tier, c.run) for c in cases] == [
        (a.key, 0, 1),
        (a.key, 0, 2),
        (a.key, 5000, 1),
        (a.key, 5000, 2),
        (b.key, 100, 1),
        (b.key, 100, 2),
    ]
    assert all(c.skip_reason is None and c.turn is None for c in cases)


def test_build_cases_carries_the_target_skip_to_every_case(tmp_path):
    skipped = _make_target(tmp_path, "a", "m1", skip="KEY is not set", window=300)
    cases = build_cases([skipped], lambda t: (0, 10_000), 3, lambda t: 64)
    assert len(cases) == 6
    assert {c.skip_reason for c in cases} == {"KEY is not set"}


def test_build_cases_skips_only_the_tiers_past_the_headroom(tmp_path):
    window, max_tokens = 2000, 300
    target = _make_target(tmp_path, "a", "m1", window=window)
    headroom = window - max_tokens - CONTEXT_MARGIN
    cases = build_cases([target], lambda t: (0, headroom, headroom + 1), 1, lambda t: max_tokens)
    reasons = {c.tier: c.skip_reason for c in cases}
    assert reasons[0] is None and reasons[headroom] is None
    assert reasons[headroom + 1] == headroom_reason(target, headroom + 1, max_tokens)
    assert reasons[headroom + 1] is not None


def test_build_cases_uses_each_targets_own_max_tokens(tmp_path):
    a = _make_target(tmp_path, "a", "m1", window=1000)
    b = _make_target(tmp_path, "b", "m2", window=1000)
    own = {a.key: 100, b.key: 600}
    cases = build_cases([a, b], lambda t: (500,), 1, lambda t: own[t.key])
    assert [c.skip_reason is None for c in cases] == [True, False]  # 500 > 1000 - 600 - margin


def test_build_cases_without_tiers(tmp_path):
    target = _make_target(tmp_path, "a", "m1", window=10)
    cases = build_cases([target], lambda t: (None,), 2, lambda t: 10_000)
    assert [(c.tier, c.run, c.skip_reason) for c in cases] == [(None, 1, None), (None, 2, None)]
    assert [c.id for c in cases] == ["a-m1-run1", "a-m1-run2"]


def test_build_turn_cases(tmp_path):
    a = _make_target(tmp_path, "a", "m1")
    b = _make_target(tmp_path, "b", "m2", skip="no server")
    cases = build_turn_cases([a, b], 3)
    assert [(c.target.key, c.turn) for c in cases] == [
        (a.key, 1),
        (a.key, 2),
        (a.key, 3),
        (b.key, 1),
        (b.key, 2),
        (b.key, 3),
    ]
    assert all(c.tier is None and c.run == 1 for c in cases)
    assert [c.skip_reason for c in cases] == [None] * 3 + ["no server"] * 3
    assert [c.id for c in cases[:3]] == ["a-m1-turn001", "a-m1-turn002", "a-m1-turn003"]
    assert all(c.describe()["turn"] == c.turn for c in cases)


def test_build_turn_cases_with_no_turns(tmp_path):
    assert build_turn_cases([_make_target(tmp_path)], 0) == []


def test_the_total_deadline_layers_option_over_provider_over_defaults(tmp_path):
    from pytest_llmbench.config import Settings, load_config
    from pytest_llmbench.matrix import select_targets

    path = tmp_path / "config.yaml"
    path.write_text(
        "defaults: {total_timeout_s: 50}\n"
        "providers:\n"
        "  a: {api_base: 'http://127.0.0.1:9/v1', total_timeout_s: 20, models: [{id: m}]}\n"
        "  b: {api_base: 'http://127.0.0.1:9/v1', models: [{id: m}]}\n"
    )
    config = load_config(path)
    plain = Settings(rootdir=tmp_path, config_path=path, config_explicit=True)
    assert [t.total_timeout_s for t in select_targets(config, plain)] == [20, 50]
    chosen = Settings(rootdir=tmp_path, config_path=path, config_explicit=True, total_timeout_s=7)
    assert [t.total_timeout_s for t in select_targets(config, chosen)] == [7, 7]


# --- load cases: targets × load points ----------------------------------------------------------


def _load(*specs, **kw):
    points = tuple(point for spec in specs for point in parse_load_spec(spec))
    return LoadSettings(points=points, **kw)


def test_load_case_id_is_the_target_then_the_point(tmp_path):
    vllm = _make_target(tmp_path, "vllm", "meta-llama/Llama-3.1-8B", display="Llama-3.1-8B")
    zai = _make_target(tmp_path, "zai", "glm-4.6", display="GLM-4.6")
    (c64,) = _load("concurrency=64").points
    (poisson,) = _load("rate=8:poisson").points
    (capped,) = _load("rate=2.5:gamma=0.5:max=16").points
    assert LoadCase(vllm, c64).id == "vllm-Llama-3.1-8B-c64"
    assert LoadCase(zai, poisson).id == "zai-GLM-4.6-r8poisson"
    assert LoadCase(zai, capped).id == "zai-GLM-4.6-r2.5gamma0.5-m16"
    assert LoadCase(zai, _load("sweep").points[0]).id == "zai-GLM-4.6-sweep"
    described = LoadCase(zai, poisson).describe()
    assert described == {**zai.describe(), "point": "r8poisson"}


def test_build_load_cases_is_target_major_with_each_targets_own_points(tmp_path):
    a = _make_target(tmp_path, "a", "m1")
    b = _make_target(tmp_path, "b", "m2", skip="KEY is not set")
    loads = {a.key: _load("concurrency=1,8", "rate=4:poisson"), b.key: _load("concurrency=2")}
    cases = build_load_cases([a, b], lambda t: loads[t.key])
    assert [c.id for c in cases] == ["a-m1-c1", "a-m1-c8", "a-m1-r4poisson", "b-m2-c2"]
    assert [c.skip_reason for c in cases] == [None, None, None, "KEY is not set"]
    assert all(c.load is loads[c.target.key] for c in cases)


def test_a_sweep_or_a_search_is_one_case_per_target_and_no_points_no_case(tmp_path):
    a = _make_target(tmp_path, "a", "m1")
    b = _make_target(tmp_path, "b", "m2")
    c = _make_target(tmp_path, "c", "m3")
    loads = {a.key: _load("sweep"), b.key: _load("search"), c.key: _load()}
    cases = build_load_cases([a, b, c], lambda t: loads[t.key])
    assert [(case.id, case.load.mode) for case in cases] == [
        ("a-m1-sweep", "sweep"),
        ("b-m2-search", "search"),
    ]


def test_load_cases_from_the_config_and_the_options(tmp_path):
    text = """
    defaults: {load: {points: ['concurrency=1,8'], duration_s: 20}}
    providers:
      vllm:
        api_base: http://127.0.0.1:9/v1
        models:
          - {id: llama, display_name: Llama-3.1-8B, load: {points: ['rate=8:poisson:max=16']}}
          - {id: qwen}
    """
    path = _write(tmp_path, text)
    config = load_config(path)

    def cases(settings):
        targets = select_targets(config, settings)
        return build_load_cases(
            targets, lambda t: load_settings(config, t.provider, t.model, settings)
        )

    plain = cases(_settings(path))
    assert [c.id for c in plain] == [
        "vllm-Llama-3.1-8B-r8poisson-m16",
        "vllm-qwen-c1",
        "vllm-qwen-c8",
    ]
    assert {c.point.duration_s for c in plain} == {20.0}
    swept = cases(_settings(path, load=LoadOptions("sweep", parse_load_spec("sweep"))))
    assert [c.id for c in swept] == ["vllm-Llama-3.1-8B-sweep", "vllm-qwen-sweep"]
