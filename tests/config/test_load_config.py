"""Load mode's settings: the ``load:`` sections, layered; the point and SLO grammars; the
``--llm-load*`` options. Every problem names the file (or option), the key and what is wrong."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from pytest_llmbench.config.load_dataset import DatasetEntry, read_load_dataset
from pytest_llmbench.config.load_grammar import parse_load_spec, parse_slo
from pytest_llmbench.config.load_layers import load_settings
from pytest_llmbench.config.load_options import LoadOptions
from pytest_llmbench.config.load_spec import (
    LoadLayer,
    LoadPoint,
    LoadSettings,
    RequestShape,
    Size,
    Slo,
)
from pytest_llmbench.config.loader import load_config
from pytest_llmbench.config.options import Settings
from pytest_llmbench.config.reader import ConfigError

PROVIDER = "providers:\n  p:\n    api_base: http://127.0.0.1:9/v1\n    models: [{id: m}]\n"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _settings_of(tmp_path, text, options=None, provider=0, model=0):
    config = load_config(_write(tmp_path, text))
    spec = config.providers[provider]
    settings = None
    if options is not None:
        path = config.path
        settings = Settings(path.parent, path, True, load=options)
    return load_settings(config, spec, spec.models[model], settings)


def _refused(tmp_path, text, options=None):
    with pytest.raises(ConfigError) as info:
        _settings_of(tmp_path, text, options)
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'config.yaml'}: "), message
    assert "\n" not in message and len(message) < 600, message
    return info.value


# --- the point grammar ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("spec", "ids"),
    [
        ("concurrency=1,8,64", ["c1", "c8", "c64"]),
        ("rate=2,4,8", ["r2", "r4", "r8"]),
        ("rate=2,4,8:poisson", ["r2poisson", "r4poisson", "r8poisson"]),
        ("rate=4:gamma=0.5", ["r4gamma0.5"]),
        ("rate=8:poisson:max=16", ["r8poisson-m16"]),
        ("rate=2.5:gamma=0.5:max=16", ["r2.5gamma0.5-m16"]),
        ("rate=8:max=4:constant", ["r8-m4"]),
        (" Concurrency = 1 , 2 ", ["c1", "c2"]),
        ("sweep", ["sweep"]),
        ("SEARCH", ["search"]),
        ("search=concurrency", ["search"]),
        ("search=rate", ["search-rate"]),
        ("search=rate:constant", ["search-rate"]),
        ("search=rate:gamma=0.5:max=32", ["search-rate"]),
    ],
)
def test_point_specs_and_their_ids(spec, ids):
    points = parse_load_spec(spec)
    assert [point.id for point in points] == ids
    # round trip: each point's own spec reads back as the same point
    for point in points:
        assert parse_load_spec(point.spec) == (point,)


def test_a_search_over_rates_keeps_its_arrivals():
    (poisson,) = parse_load_spec("search=rate")
    assert (poisson.kind, poisson.over, poisson.arrival) == ("search", "rate", "poisson")
    (constant,) = parse_load_spec("search=rate:constant:max=8")
    assert (constant.arrival, constant.max_in_flight) == ("constant", 8)
    assert constant.spec == "search=rate:constant:max=8"
    assert parse_load_spec("search")[0].over == "concurrency"


def test_a_spec_fills_the_fields():
    (point,) = parse_load_spec("rate=4:gamma=0.25:max=16")
    assert point == LoadPoint("rate", rate=4.0, arrival="gamma", burstiness=0.25, max_in_flight=16)
    assert point.spec == "rate=4:gamma=0.25:max=16"
    (closed,) = parse_load_spec("concurrency=64")
    assert (closed.kind, closed.concurrency, closed.spec) == ("concurrency", 64, "concurrency=64")
    assert parse_load_spec("rate=0.1234567")[0].spec == "rate=0.1234567"


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("", "expected 'concurrency=1,8,64'"),
        ("conc=8", "cannot read 'conc=8'"),
        ("concurrency", "cannot read"),
        ("concurrency=", "needs a comma-separated list"),
        ("concurrency=1,,8", "needs a comma-separated list"),
        ("concurrency=0", "from 1 to 10,000, got 0"),
        ("concurrency=100001", "from 1 to 10,000"),
        ("concurrency=1.5", "must be a whole number, got '1.5'"),
        ("concurrency=8:poisson", "takes no ':' modifiers"),
        ("rate=0", "must be a finite number > 0, got '0'"),
        ("rate=-2", "> 0"),
        ("rate=inf", "finite"),
        ("rate=nan", "finite"),
        ("rate=fast", "got 'fast'"),
        ("rate=20000", "at most 10,000"),
        ("rate=8:gamma", "is not a modifier"),
        ("search=tokens", "a search is over 'concurrency' or 'rate'"),
        ("search=concurrency:poisson", "only a rate takes ':' modifiers"),
        ("search=rate:fast", "is not a modifier"),
        ("rate=8:gamma=0", "burstiness must be a finite number > 0"),
        ("rate=8:poisson:gamma=2", "an arrival process given twice"),
        ("rate=8:max=2:max=4", "a max given twice"),
        ("rate=8:max=0", "from 1 to 10,000"),
        ("rate=8:bursty", "'bursty' is not a modifier"),
        ("rate=8:", "is not a modifier"),
        ("rate=" + "9" * 5000, "..."),
    ],
)
def test_bad_point_specs_say_what_is_wrong(spec, problem):
    with pytest.raises(ValueError, match=re.escape(problem)) as info:
        parse_load_spec(spec)
    assert problem in str(info.value), str(info.value)
    assert len(str(info.value)) < 500


# --- the SLO grammar --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "slo"),
    [
        ("ttft_ms.p99 <= 500", Slo("ttft_ms", 500.0, "p99")),
        ("tpot_ms <= 50", Slo("tpot_ms", 50.0, "p99")),
        ("e2e_ms.p50<=2000", Slo("e2e_ms", 2000.0, "p50")),
        ("itl_ms.p95 <= 12.5", Slo("itl_ms", 12.5, "p95")),
        ("sched_ttft_ms.p99.9 <= 900", Slo("sched_ttft_ms", 900.0, "p999")),
        ("ttft_ms.median <= 300", Slo("ttft_ms", 300.0, "p50")),
    ],
)
def test_slos(text, slo):
    assert parse_slo(text) == slo
    assert parse_slo(slo.label) == slo
    assert 0 < slo.quantile < 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("ttft_ms", "expected 'FIELD[.PERCENTILE] <= LIMIT'"),
        ("ttft_ms.p99 >= 500", "an SLO is an upper limit, written with '<=' (got '>=')"),
        ("ttft_ms.p99 < 500", "(got '<')"),
        ("ttft.p99 <= 500", "unknown metric 'ttft'"),
        ("decode_tps.p50 <= 40", "decode_tps is not a metric where lower is better"),
        ("output_tokens <= 100", "not a metric where lower is better"),
        ("ttft_ms.p42 <= 500", "unknown percentile 'p42'"),
        ("ttft_ms.mean <= 500", "unknown percentile 'mean'"),
        ("ttft_ms <= 0", "the limit must be a finite number > 0"),
        ("ttft_ms <= -5", "> 0"),
        ("ttft_ms <= inf", "finite"),
        ("ttft_ms <= fast", "got 'fast'"),
    ],
)
def test_bad_slos_say_what_is_wrong(text, problem):
    with pytest.raises(ValueError, match=re.escape(problem)) as info:
        parse_slo(text)
    assert problem in str(info.value), str(info.value)


def test_an_unknown_slo_metric_lists_the_latencies():
    with pytest.raises(ValueError, match=r"one of: .*ttft_ms.*tpot_ms|one of: .*tpot_ms.*ttft_ms"):
        parse_slo("latency <= 5")


# --- the sections, layered ----------------------------------------------------------------------
LAYERED = """
defaults:
  load:
    points: ['concurrency=1,8']
    duration_s: 30
    warmup_s: 5
    slos: ['ttft_ms.p99 <= 500']
    output_tokens: 64
    max_error_rate: 0.1
providers:
  p:
    api_base: http://127.0.0.1:9/v1
    load:
      points: ['rate=2:poisson', {kind: concurrency, concurrency: 64, duration_s: 120}]
      prompt_tokens: {kind: uniform, low: 100, high: 300}
      seed: 3
    models:
      - id: m1
        load: {seed: 7, cooldown_s: 2, slos: []}
      - id: m2
  q:
    api_base: http://127.0.0.1:9/v1
    models: [{id: q1}]
"""


def test_model_over_provider_over_defaults_key_by_key(tmp_path):
    m1 = _settings_of(tmp_path, LAYERED)
    # the provider's points, each with the defaults' window, the model's cool-down; the point's
    # own duration beats the section's
    assert [(p.id, p.duration_s, p.warmup_s, p.cooldown_s) for p in m1.points] == [
        ("r2poisson", 30.0, 5.0, 2.0),
        ("c64", 120.0, 5.0, 2.0),
    ]
    assert m1.shape.seed == 7  # the model's, over the provider's 3
    assert m1.shape.prompt_tokens == Size("uniform", mean=200, low=100, high=300)
    assert m1.shape.output_tokens == Size("fixed", 64)  # from the defaults
    assert m1.slos == ()  # the model clears the defaults' SLOs
    assert m1.max_error_rate == 0.1
    assert m1.mode == "points"
    m2 = _settings_of(tmp_path, LAYERED, model=1)
    assert (m2.shape.seed, m2.points[0].cooldown_s) == (3, 0.0)
    assert m2.slos == (Slo("ttft_ms", 500.0),)
    q1 = _settings_of(tmp_path, LAYERED, provider=1)
    assert [p.id for p in q1.points] == ["c1", "c8"]
    assert q1.shape == RequestShape(output_tokens=Size("fixed", 64))


def test_without_a_load_section_a_target_has_no_points(tmp_path):
    settings = _settings_of(tmp_path, PROVIDER)
    assert settings == LoadSettings()
    config = load_config(_write(tmp_path, PROVIDER))
    assert config.defaults.load == LoadLayer()
    assert config.providers[0].load is None
    assert config.providers[0].models[0].load is None


def test_every_key_is_read(tmp_path):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "mix.jsonl").write_text(
        '{"messages": [{"role": "user", "content": "hi"}], "weight": 3}\n', encoding="utf-8"
    )
    text = """
    defaults:
      load:
        points:
          - {kind: rate, rate: 8, arrival: gamma, burstiness: 0.5, max_in_flight: 16, requests: 40}
          - {concurrency: 4, warmup_s: 1, cooldown_s: 1}
        duration_s: 20
        requests: 500
        warmup_s: 2
        cooldown_s: 3
        prompt_tokens: 1000
        output_tokens: {kind: normal, mean: 200, stdev: 20, low: 150, high: 250}
        ignore_eos: false
        shared_prefix: 0.5
        dataset: prompts/mix.jsonl
        seed: 11
        slos: ['ttft_ms.p95 <= 800', 'tpot_ms <= 40']
        max_error_rate: 0
    """
    settings = _settings_of(tmp_path, textwrap.dedent(text) + PROVIDER)
    rate, closed = settings.points
    assert rate == LoadPoint(
        "rate",
        rate=8.0,
        arrival="gamma",
        burstiness=0.5,
        max_in_flight=16,
        duration_s=20.0,
        requests=40,
        warmup_s=2.0,
        cooldown_s=3.0,
    )
    assert closed == LoadPoint(
        "concurrency", concurrency=4, duration_s=20.0, requests=500, warmup_s=1.0, cooldown_s=1.0
    )
    assert settings.shape == RequestShape(
        prompt_tokens=Size("fixed", 1000),
        output_tokens=Size("normal", mean=200, low=150, high=250, stdev=20.0),
        ignore_eos=False,
        shared_prefix=0.5,
        dataset=str((tmp_path / "prompts" / "mix.jsonl").resolve()),
        seed=11,
    )
    assert settings.slos == (Slo("ttft_ms", 800.0, "p95"), Slo("tpot_ms", 40.0, "p99"))
    assert settings.max_error_rate == 0.0


def test_a_normal_size_is_clipped_by_default_to_minimum_and_four_deviations(tmp_path):
    text = "defaults:\n  load: {output_tokens: {kind: normal, mean: 100, stdev: 10.5}}\n"
    shape = _settings_of(tmp_path, text + PROVIDER).shape
    assert shape.output_tokens == Size("normal", mean=100, low=1, high=142, stdev=10.5)


@pytest.mark.parametrize(
    ("load", "ends"),
    [
        ("{points: ['concurrency=2']}", (60.0, None)),
        ("{points: ['concurrency=2'], requests: 100}", (None, 100)),
        ("{points: ['concurrency=2'], requests: 100, duration_s: 10}", (10.0, 100)),
        ("{points: [{concurrency: 2, requests: 5}]}", (None, 5)),
    ],
)
def test_a_point_ends_at_60_s_unless_only_requests_are_given(tmp_path, load, ends):
    (point,) = _settings_of(tmp_path, f"defaults:\n  load: {load}\n" + PROVIDER).points
    assert (point.duration_s, point.requests) == ends


def test_a_sweep_or_a_search_is_one_marker_with_the_window(tmp_path):
    text = "defaults:\n  load: {points: [sweep], duration_s: 15, warmup_s: 1}\n" + PROVIDER
    settings = _settings_of(tmp_path, text)
    assert settings.mode == "sweep"
    assert settings.points == (LoadPoint("sweep", duration_s=15.0, warmup_s=1.0),)
    text = "defaults:\n  load: {points: search, slos: 'ttft_ms <= 500'}\n" + PROVIDER
    assert _settings_of(tmp_path, text).mode == "search"


# --- the options over the config ----------------------------------------------------------------
def test_options_replace_points_slos_window_and_seed(tmp_path):
    options = LoadOptions(
        points=parse_load_spec("rate=4:poisson"),
        duration_s=90.0,
        requests=1000,
        warmup_s=10.0,
        slos=(parse_slo("e2e_ms <= 9000"),),
        seed=42,
    )
    settings = _settings_of(tmp_path, LAYERED, options)
    (point,) = settings.points
    assert (point.id, point.duration_s, point.requests, point.warmup_s) == (
        "r4poisson",
        90.0,
        1000,
        10.0,
    )
    assert point.cooldown_s == 2.0  # the model's: no option replaces it
    assert settings.slos == (Slo("e2e_ms", 9000.0),)
    assert settings.shape.seed == 42
    # the window options beat a point's own window, too
    options = LoadOptions(duration_s=45.0)
    assert [p.duration_s for p in _settings_of(tmp_path, LAYERED, options).points] == [45.0, 45.0]


def test_a_search_needs_an_slo_once_the_options_are_known(tmp_path):
    text = "defaults:\n  load: {points: [search]}\n" + PROVIDER
    assert _settings_of(tmp_path, text).mode == "search"  # the config alone: options may bring one
    error = _refused(tmp_path, text, LoadOptions())
    assert error.key == "defaults.load.points[0]"
    assert "needs at least one SLO" in error.problem
    error = _refused(tmp_path, PROVIDER, LoadOptions("search", parse_load_spec("search")))
    assert error.key == "--llm-load"
    slos = (parse_slo("ttft_ms <= 500"),)
    options = LoadOptions("search", parse_load_spec("search"), slos=slos)
    assert _settings_of(tmp_path, text, options).slos == slos


def test_no_steady_state_names_the_most_specific_key(tmp_path):
    text = LAYERED.replace("cooldown_s: 2", "cooldown_s: 25")
    error = _refused(tmp_path, text)
    assert error.key == "providers.p.models[0].load.cooldown_s"
    assert "r2poisson of p/m1: warm-up 5 s + cool-down 25 s leave no steady state" in error.problem
    error = _refused(tmp_path, LAYERED, LoadOptions(duration_s=7.0))
    assert error.key == "--llm-load-duration"


def test_a_rate_that_plans_too_many_requests_is_refused(tmp_path):
    text = "defaults:\n  load: {points: ['rate=10000'], duration_s: 100000}\n" + PROVIDER
    error = _refused(tmp_path, text)
    assert error.key == "defaults.load.duration_s"
    assert "plans 1,000,000,000 requests, more than 10,000,000" in error.problem
    text = text.replace("duration_s: 100000", "duration_s: 100000, requests: 500")
    assert _settings_of(tmp_path, text).points[0].requests == 500


# --- careless sections: file, key, problem, when the config is loaded ------------------------
@pytest.mark.parametrize(
    ("load", "key", "problem"),
    [
        ("[1, 2]", "defaults.load", "must be a mapping"),
        ("{pointz: []}", "defaults.load.pointz", "unknown key"),
        ("{points: []}", "defaults.load.points", "must list one point or more"),
        ("{points: 8}", "defaults.load.points", "must list one point or more"),
        ("{points: ['concurrency=0']}", "defaults.load.points[0]", "from 1 to 10,000"),
        ("{points: ['c8', 'rate=x']}", "defaults.load.points[0]", "cannot read 'c8'"),
        ("{points: [sweep, 'concurrency=2']}", "defaults.load.points[0]", "stands alone"),
        (
            "{points: ['concurrency=1,8', 'concurrency=8']}",
            "defaults.load.points[1]",
            "the point c8 is listed twice",
        ),
        ("{points: [8]}", "defaults.load.points[0]", "must be a spec like 'concurrency=8'"),
        ("{points: [{rate: 2, concurrency: 3}]}", "defaults.load.points[0].kind", "missing"),
        ("{points: [{kind: sweep}]}", "defaults.load.points[0].kind", "the word alone"),
        ("{points: [{kind: closed}]}", "points[0].kind", "'concurrency' or 'rate', got 'closed'"),
        ("{points: [{kind: rate}]}", "defaults.load.points[0].rate", "missing required key"),
        ("{points: [{concurrency: 0}]}", "defaults.load.points[0].concurrency", "from 1"),
        ("{points: [{concurrency: 2, arrival: poisson}]}", "points[0].arrival", "only a rate"),
        ("{points: [{rate: 2, concurrency: 2, kind: rate}]}", "points[0].concurrency", "cap it"),
        ("{points: [{rate: 2, arrival: gamma}]}", "points[0].burstiness", "need it"),
        ("{points: [{rate: 2, burstiness: 2}]}", "points[0].burstiness", "only gamma"),
        ("{points: [{rate: 2, arrival: bursty}]}", "points[0].arrival", "'gamma'"),
        ("{points: [{rate: 20000}]}", "points[0].rate", "at most 10,000"),
        ("{points: [{rate: 2, max_in_flight: 0}]}", "points[0].max_in_flight", "from 1"),
        ("{points: [{rate: 2, speed: 2}]}", "points[0].speed", "unknown key"),
        ("{duration_s: 0}", "defaults.load.duration_s", "must be > 0"),
        ("{duration_s: fast}", "defaults.load.duration_s", "must be a number"),
        ("{requests: 0}", "defaults.load.requests", "from 1 to 10,000,000"),
        ("{requests: 1.5}", "defaults.load.requests", "must be a whole number"),
        ("{warmup_s: -1}", "defaults.load.warmup_s", ">= 0"),
        ("{cooldown_s: .inf}", "defaults.load.cooldown_s", "must be a number"),
        ("{prompt_tokens: -1}", "defaults.load.prompt_tokens", "from 0 to 2,000,000"),
        ("{output_tokens: 0}", "defaults.load.output_tokens", "from 1 to 2,000,000"),
        ("{output_tokens: many}", "defaults.load.output_tokens", "{kind: uniform, low, high}"),
        ("{output_tokens: {low: 1}}", "defaults.load.output_tokens.kind", "'uniform' or"),
        ("{output_tokens: {kind: zipf}}", "defaults.load.output_tokens.kind", "got 'zipf'"),
        ("{output_tokens: {kind: uniform, low: 9}}", "output_tokens.high", "missing"),
        ("{output_tokens: {kind: uniform, low: 9, high: 3}}", "output_tokens.high", ">= low"),
        ("{output_tokens: {kind: uniform, low: 1, high: 3, mean: 2}}", "tokens.mean", "unknown"),
        ("{output_tokens: {kind: normal, mean: 9}}", "output_tokens.stdev", "missing"),
        ("{output_tokens: {kind: normal, mean: 9, stdev: -1}}", "tokens.stdev", ">= 0"),
        (
            "{output_tokens: {kind: normal, mean: 9, stdev: 1, low: 10}}",
            "defaults.load.output_tokens",
            "needs low <= mean <= high, got 10 <= 9 <= 13",
        ),
        ("{ignore_eos: maybe}", "defaults.load.ignore_eos", "true or false"),
        ("{shared_prefix: 1.5}", "defaults.load.shared_prefix", "a share from 0 to 1"),
        ("{shared_prefix: -0.1}", "defaults.load.shared_prefix", ">= 0"),
        ("{max_error_rate: 2}", "defaults.load.max_error_rate", "a share from 0 to 1"),
        ("{seed: -1}", "defaults.load.seed", "from 0 to"),
        ("{seed: 99999999999999999999}", "defaults.load.seed", "from 0 to"),
        ("{slos: 5}", "defaults.load.slos", "must be a list of SLOs"),
        ("{slos: [5]}", "defaults.load.slos[0]", "must be a string"),
        ("{slos: ['ttft_ms >= 5']}", "defaults.load.slos[0]", "upper limit"),
        ("{slos: ['ok', 'decode_tps <= 5']}", "defaults.load.slos[0]", "cannot read 'ok'"),
        ("{dataset: missing.jsonl}", "defaults.load.dataset", "missing.jsonl: no such file"),
        ("{dataset: ' '}", "defaults.load.dataset", "must not be empty"),
        ("{dataset: 5}", "defaults.load.dataset", "must be a string"),
    ],
)
def test_careless_load_sections_are_refused_at_load_time(tmp_path, load, key, problem):
    path = _write(tmp_path, f"defaults:\n  load: {load}\n" + PROVIDER)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    error = info.value
    assert str(error).startswith(f"{path}: "), str(error)
    assert error.key.endswith(key), (error.key, key)
    assert problem in error.problem, error.problem


def test_a_provider_or_model_section_is_named_by_its_key(tmp_path):
    text = PROVIDER.replace(
        "    models: [{id: m}]", "    load: {requests: 0}\n    models: [{id: m}]"
    )
    with pytest.raises(ConfigError, match=r"providers\.p\.load\.requests: must be"):
        load_config(_write(tmp_path, text))
    text = PROVIDER.replace("[{id: m}]", "[{id: m}, {id: n, load: {points: ['rate=0']}}]")
    with pytest.raises(ConfigError, match=r"providers\.p\.models\[1\]\.load\.points\[0\]: "):
        load_config(_write(tmp_path, text))


# --- the dataset --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ("", "holds no request"),
        ("\n\n", "holds no request"),
        ("{oops\n", "line 1: not JSON"),
        ('{"messages": []}\n', "line 1: 'messages' must be a non-empty list"),
        ("[1]\n", 'line 1: must be an object {"messages": [...]}'),
        ('{"messages": [{"role": "user", "content": "a"}]}\n{"prompt": "b"}\n', "line 2: unknown"),
        ('{"messages": [{"content": "a"}]}\n', "line 1: messages[0] needs a 'role'"),
        ('{"messages": [{"role": "user"}]}\n', "messages[0] needs a 'content'"),
        ('{"messages": ["hi"]}\n', "messages[0] must be an object"),
        ('{"messages": [{"role": "user", "content": "a"}], "weight": 0}\n', "'weight' must be"),
        ('{"messages": [{"role": "user", "content": "a"}], "weight": true}\n', "'weight'"),
        ('{"messages": [{"role": "user", "content": "a"}], "weight": NaN}\n', "'weight'"),
        ("[" * 100_000 + "\n", "line 1: not JSON"),
    ],
)
def test_a_careless_dataset_names_the_line(tmp_path, lines, problem):
    path = tmp_path / "d.jsonl"
    path.write_text(lines, encoding="utf-8")
    with pytest.raises(ValueError, match=re.escape(problem)) as info:
        read_load_dataset(path)
    assert str(info.value).startswith(f"{path}: "), str(info.value)
    assert problem in str(info.value), str(info.value)
    assert len(str(info.value)) < 600


def test_a_dataset_that_is_not_utf8_or_a_folder(tmp_path):
    (tmp_path / "latin.jsonl").write_bytes(b'{"messages": "caf\xe9"}\n')
    with pytest.raises(ValueError, match="not UTF-8"):
        read_load_dataset(tmp_path / "latin.jsonl")
    with pytest.raises(ValueError, match="is a directory"):
        read_load_dataset(tmp_path)


def test_a_dataset_is_read_with_its_weights(tmp_path):
    path = tmp_path / "d.jsonl"
    first = [{"role": "system", "content": "x"}, {"role": "user", "content": "a"}]
    second = [{"role": "user", "content": [{"type": "text", "text": "b"}]}]
    lines = [{"messages": first}, {"messages": second, "weight": 2.5}]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n", encoding="utf-8")
    entries = read_load_dataset(path)
    assert entries == (DatasetEntry(tuple(first), 1.0), DatasetEntry(tuple(second), 2.5))


def test_a_broken_dataset_is_a_config_error_naming_the_key_and_the_line(tmp_path):
    (tmp_path / "d.jsonl").write_text('{"messages": [{"role": "user", "content": "a"}]}\n{x\n')
    text = PROVIDER.replace("[{id: m}]", "[{id: m, load: {dataset: d.jsonl}}]")
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    assert info.value.key == "providers.p.models[0].load.dataset"
    assert "d.jsonl: line 2: not JSON" in info.value.problem


# --- the options --------------------------------------------------------------------------------
def _options(pytester, *args):
    return Settings.from_pytest_config(pytester.parseconfig(*args))


def test_load_options_as_given(pytester):
    settings = _options(
        pytester,
        "--llm-load",
        "concurrency=1,8",
        "--llm-load",
        "rate=2:poisson:max=4",
        "--llm-load-duration",
        "30",
        "--llm-load-requests",
        "200",
        "--llm-load-warmup",
        "2",
        "--llm-load-cooldown",
        "1.5",
        "--llm-load-slo",
        "ttft_ms.p99 <= 500",
        "--llm-load-slo",
        "tpot_ms <= 50",
        "--llm-load-seed",
        "9",
    )
    load = settings.load
    assert settings.load_mode == load.mode == "points"
    assert [p.id for p in load.points or ()] == ["c1", "c8", "r2poisson-m4"]
    assert (load.duration_s, load.requests, load.warmup_s, load.cooldown_s, load.seed) == (
        30.0,
        200,
        2.0,
        1.5,
        9,
    )
    assert load.slos == (Slo("ttft_ms", 500.0), Slo("tpot_ms", 50.0))


def test_without_load_options_the_config_decides(pytester):
    settings = _options(pytester)
    assert settings.load == LoadOptions()
    assert settings.load_mode == "points"


@pytest.mark.parametrize("word", ["sweep", "search"])
def test_sweep_and_search_are_modes(pytester, word):
    settings = _options(pytester, "--llm-load", word)
    assert settings.load_mode == word
    assert settings.load.points == (LoadPoint(word),)


def test_load_options_from_ini(pytester):
    pytester.makeini(
        "[pytest]\nllm_load =\n    concurrency=4\n    rate=8\nllm_load_slo = e2e_ms <= 900\n"
        "llm_load_duration = 12\nllm_load_seed = 5\n"
    )
    load = _options(pytester).load
    assert [p.id for p in load.points or ()] == ["c4", "r8"]
    assert load.slos == (Slo("e2e_ms", 900.0),)
    assert (load.duration_s, load.seed) == (12.0, 5)
    # the command line wins
    assert [p.id for p in _options(pytester, "--llm-load", "sweep").load.points or ()] == ["sweep"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--llm-load", "conc=8"], "--llm-load / ini llm_load: cannot read 'conc=8': expected"),
        (["--llm-load", "rate=8:poisson:gamma=1"], "--llm-load / ini llm_load: 'rate=8:poisson"),
        (["--llm-load", ""], "--llm-load: an empty value"),
        (["--llm-load", "sweep", "--llm-load", "concurrency=1"], "'sweep' stands alone"),
        (["--llm-load", "concurrency=8", "--llm-load", "concurrency=8"], "c8 is listed twice"),
        (["--llm-load-duration", "0"], "--llm-load-duration / ini llm_load_duration: expected"),
        (["--llm-load-duration", "inf"], "--llm-load-duration"),
        (["--llm-load-duration", ""], "--llm-load-duration: an empty value"),
        (["--llm-load-requests", "0"], "--llm-load-requests / ini llm_load_requests: expected"),
        (["--llm-load-requests", "20000000"], "from 1 to 10,000,000, got '20000000'"),
        (["--llm-load-warmup", "-1"], "--llm-load-warmup / ini llm_load_warmup: expected"),
        (["--llm-load-cooldown", "nan"], "--llm-load-cooldown"),
        (["--llm-load-seed", "-3"], "--llm-load-seed / ini llm_load_seed: expected a whole"),
        (["--llm-load-slo", "ttft_ms >= 5"], "--llm-load-slo / ini llm_load_slo: 'ttft_ms >= 5'"),
        (["--llm-load-slo", "decode_tps <= 5"], "lower is better"),
        (
            ["--llm-load-duration", "10", "--llm-load-warmup", "6", "--llm-load-cooldown", "4"],
            "--llm-load-warmup / --llm-load-cooldown: warm-up and cool-down (10 s) leave no",
        ),
    ],
)
def test_bad_load_options_are_usage_errors(pytester, args, message):
    with pytest.raises(pytest.UsageError) as info:
        _options(pytester, *args)
    assert message in str(info.value), str(info.value)
    assert "\n" not in str(info.value) and len(str(info.value)) < 500
