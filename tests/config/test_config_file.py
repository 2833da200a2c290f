"""Reading config.yaml itself: encodings, unreadable paths, duplicate keys, aliases, deep nesting,
numbers too large to be numbers, and values too large to quote."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_llmbench.config.loader import load_config
from pytest_llmbench.config.reader import ConfigError
from pytest_llmbench.validation import MAX_VALUE_CHARS, Reader, ValidationError, short_repr

PROVIDER = "providers:\n  a:\n    api_base: http://h\n    models: [{id: m}]\n"


def _write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "config.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _refused(tmp_path: Path, content: str | bytes) -> ConfigError:
    path = _write(tmp_path, content)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    # a quoted key (at most MAX_VALUE_CHARS) and the list of the keys expected, never more
    assert len(message) < len(str(path)) + 2 * MAX_VALUE_CHARS + 200, message[:1000]
    return info.value


# --- the file and its encoding ----------------------------------------------------------------
def test_a_directory_is_named_as_one(tmp_path):
    (tmp_path / "conf").mkdir()
    with pytest.raises(ConfigError, match="is a directory, not a config file"):
        load_config(tmp_path / "conf")


def test_an_unreadable_file_names_the_system_error(tmp_path, monkeypatch):
    path = _write(tmp_path, PROVIDER)

    def denied(self: Path, *args: object, **kwargs: object) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(ConfigError, match="cannot read: Permission denied"):
        load_config(path)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_are_named(tmp_path, codec):
    error = _refused(tmp_path, PROVIDER.encode(codec))
    assert error.key == ""
    assert "UTF-16" in error.problem or "UTF-32" in error.problem, error.problem
    assert error.problem.endswith("save it as UTF-8"), error.problem


def test_bytes_that_are_not_utf8_are_located(tmp_path):
    error = _refused(tmp_path, ("# café\n" + PROVIDER).encode("latin-1"))
    assert error.problem.startswith("not UTF-8 text: line 1, column 6: byte 0xe9"), error.problem


def test_a_utf8_byte_order_mark_is_fine(tmp_path):
    assert load_config(_write(tmp_path, ("\ufeff" + PROVIDER).encode())).providers[0].name == "a"


# --- duplicate keys ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "providers:\n  a:\n    api_base: http://h\n    api_base: http://i\n"
            "    models: [{id: m}]\n",
            "line 4, column 5: duplicate key 'api_base' (first at line 3)",
        ),
        (
            "providers:\n  a:\n    api_base: http://h\n    models: [{id: m, id: n}]\n",
            "line 4, column 22: duplicate key 'id' (first at line 4)",
        ),
        (PROVIDER + PROVIDER, "line 5, column 1: duplicate key 'providers' (first at line 1)"),
    ],
)
def test_duplicate_keys_are_refused_naming_the_lines(tmp_path, text, problem):
    error = _refused(tmp_path, text)
    assert error.problem == f"invalid YAML: {problem}", error.problem


def test_a_merge_key_overridden_is_no_duplicate(tmp_path):
    text = (
        "providers:\n  a: &base\n    api_base: http://h\n    models: [{id: m}]\n"
        "  b:\n    <<: *base\n    api_base: http://i\n"
    )
    b = load_config(_write(tmp_path, text)).providers[1]
    assert (b.api_base, b.models[0].id) == ("http://i", "m")


# --- aliases ----------------------------------------------------------------------------------
def _shared(items: int, copies: int) -> str:
    values = ", ".join(["0"] * items)
    aliases = ", ".join(["*x"] * copies)
    return (
        "providers:\n  a:\n    api_base: http://h\n"
        f"    models: [{{id: m, params: {{x: &x [{values}], y: [{aliases}]}}}}]\n"
    )


def test_aliases_within_the_bound_are_kept(tmp_path):
    params = load_config(_write(tmp_path, _shared(1000, 50))).providers[0].models[0].params
    assert len(params["y"]) == 50 and params["y"][0] is params["x"]


def test_aliases_expanding_beyond_the_bound_are_refused(tmp_path):
    error = _refused(tmp_path, _shared(1000, 120))
    assert "more than 100,000 values with its aliases expanded" in error.problem, error.problem
    assert error.problem.startswith("invalid YAML: line 4, column "), error.problem


def test_an_alias_bomb_is_refused_without_expanding_it(tmp_path):
    levels, item = [], "lol"
    for name in "abcdefg":  # 9 ** 7 strings, were it expanded
        levels.append(f"&{name} [{', '.join([item] * 9)}]")
        item = f"*{name}"
    error = _refused(tmp_path, f"defaults: {{prompt: [{', '.join(levels)}]}}\n{PROVIDER}")
    assert "more than 100,000 values with its aliases expanded" in error.problem


def test_an_alias_to_itself_is_refused(tmp_path):
    text = "providers: &p\n  a:\n    api_base: http://h\n    models: [{id: m, params: {p: *p}}]\n"
    error = _refused(tmp_path, text)
    assert "an alias refers to the value that contains it" in error.problem, error.problem


# --- sizes --------------------------------------------------------------------------------
def test_nesting_too_deep_is_refused(tmp_path):
    depth = 100_000
    error = _refused(tmp_path, f"defaults: {{prompt: {'[' * depth}{']' * depth}}}\n{PROVIDER}")
    assert "nested too deeply" in error.problem, error.problem


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("defaults: {temperature: 1" + "0" * 400 + "}", "defaults.temperature"),
        ("defaults: {timeout_s: 1" + "0" * 400 + "}", "defaults.timeout_s"),
        ("conversation: {knee_factor: 1" + "0" * 400 + "}", "conversation.knee_factor"),
    ],
)
def test_a_whole_number_too_large_for_a_number_is_refused(tmp_path, line, key):
    error = _refused(tmp_path, f"{line}\n{PROVIDER}")
    assert error.key == key
    assert "and at most 1e308, got a whole number of 401 digits" in error.problem, error.problem


def test_a_number_with_too_many_digits_to_read_is_refused(tmp_path):
    error = _refused(tmp_path, f"defaults: {{max_tokens: 1{'0' * 5000}}}\n{PROVIDER}")
    assert error.problem.startswith("invalid YAML: "), error.problem
    assert "digits" in error.problem


@pytest.mark.parametrize(
    "line",
    [
        "defaults: {max_tokens: '" + "x" * 5000 + "'}",
        "defaults: {context_tiers: ['" + "x" * 5000 + "']}",
        "providers: {a: {api_base: http://h, models: [{id: m, filler_in: '" + "y" * 5000 + "'}]}}",
        "providers: {a: {api_base: http://h, models: [{id: m}], '" + "k" * 1000 + "': 1}}",
        "thresholds: {defaults: ['" + "t" * 5000 + "']}",
        "thresholds: {defaults: [[" + ", ".join(["1"] * 5000) + "]]}",
    ],
)
def test_a_long_value_is_quoted_short(tmp_path, line):
    text = line + ("\n" + PROVIDER if line.startswith(("defaults", "thresholds")) else "\n")
    assert "..." in str(_refused(tmp_path, text))


# --- the quoting helper -----------------------------------------------------------------------
def test_short_repr_never_expands_a_shared_structure():
    value: object = "lol"
    for _ in range(30):  # 9 ** 30 strings, were it expanded
        value = [value] * 9
    text = short_repr(value)
    assert len(text) <= MAX_VALUE_CHARS and text.startswith("[[[")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("big", "'big'"), (-1, "-1"), (None, "None"), ([1, 2], "[1, 2]"), ({"a": 1}, "{'a': 1}")],
)
def test_short_repr_of_a_short_value_is_its_repr(value, expected):
    assert short_repr(value) == expected


def test_short_repr_of_a_long_string_keeps_both_ends():
    text = short_repr("a" * 1000 + "z")
    assert len(text) <= MAX_VALUE_CHARS and text.startswith("'aaa") and text.endswith("z'")
    assert "..." in text


def test_short_repr_of_an_integer_too_long_to_print():
    assert short_repr(10**5000) == "a whole number of 5001 digits"


def test_reader_errors_quote_values_short():
    value: object = "lol"
    for _ in range(6):
        value = [value] * 9
    for call in (
        lambda r: r.number("v", None),
        lambda r: r.get("v", str),
        lambda r: r.choice("v", None, ("a", "b")),
    ):
        with pytest.raises(ValidationError) as info:
            call(Reader({"v": value}))
        assert len(str(info.value)) < 300, str(info.value)[:400]
