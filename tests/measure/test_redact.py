"""The one "sanitize provider text" step: the session's keys redacted in every form a server may
echo, control characters escaped, and the places that apply it (a measurement, a record)."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from pytest_llmbench.config.spec import ModelSpec, ProviderSpec
from pytest_llmbench.matrix import Secret, Target
from pytest_llmbench.measure.metrics import Measurement
from pytest_llmbench.measure.redact import (
    MARK,
    MIN_CUT_CHARS,
    MIN_SECRET_CHARS,
    Redactor,
    escape_controls,
)
from pytest_llmbench.measure.stream import Sample, sanitized
from pytest_llmbench.results.records import sample_records

KEY = "sk-live-Ab3/dE+fG=hI9jK"


@pytest.mark.parametrize(
    "echoed",
    [
        KEY,
        f"Authorization: Bearer {KEY}",
        f"x-api-key: {KEY}",
        f"GET /v1beta/models?key={quote(KEY, safe='')}",
        "GET /v1beta/models?key=sk-live-Ab3%2fdE%2bfG%3dhI9jK",
        json.dumps({"headers": {"authorization": f"Bearer {KEY}"}}),
    ],
    ids=["raw", "bearer", "header", "percent-encoded", "lower-hex", "json"],
)
def test_every_echoed_form_of_a_key_is_replaced(echoed):
    text = f"401 Unauthorized; you sent {echoed} (check the key)"
    clean = Redactor([KEY]).redact(text)
    assert MARK in clean
    assert KEY not in clean and quote(KEY, safe="").lower() not in clean.lower()
    assert "ab3" not in clean.lower() and clean.endswith("(check the key)")


def test_a_key_with_a_quote_is_replaced_inside_json_and_a_key_read_with_a_newline_too():
    quoted = 'sk-"quoted"-key-123'
    body = json.dumps({"error": f"bad key {quoted}"})
    assert quoted not in Redactor([quoted]).redact(body) and MARK in Redactor([quoted]).redact(body)
    # a key file read with its newline: the server echoes the key without it
    assert Redactor([KEY + "\n"]).redact(f"key {KEY}!") == f"key {MARK}!"


def test_a_text_cut_inside_a_key_loses_the_cut_key():
    # The clients keep 500 characters of an error body: the key may be cut at the end.
    redactor = Redactor([KEY])
    cut = "Authorization: Bearer " + KEY[:12]
    assert redactor.redact(cut) == f"Authorization: Bearer {MARK}"
    assert redactor.redact("ends in " + KEY[: MIN_CUT_CHARS - 1]) == "ends in " + KEY[:5]
    # a key's first characters in the middle of a text are no cut key
    assert redactor.redact(f"{KEY[:12]} and more") == f"{KEY[:12]} and more"


def test_short_keys_are_placeholders_not_secrets():
    text = "a test with EMPTY and none and sk-1234 in it"
    redactor = Redactor(["a", "EMPTY", "none", "sk-1234", " " * 20])
    assert not redactor.holds_keys
    assert redactor.redact(text) == text
    assert len("sk-1234") < MIN_SECRET_CHARS <= len("sk-12345")
    assert Redactor(["sk-12345"]).redact("key sk-12345.") == f"key {MARK}."


def test_several_keys_and_the_targets_they_come_from():
    model = ModelSpec(id="m", display_name="m")
    provider = ProviderSpec("p", "p", "http://127.0.0.1:9/v1", "P_KEY", "", "lean", (model,))
    targets = [
        Target(provider, model, Secret("first-key-0123456789")),
        Target(provider, model, None),
        Target(provider, model, Secret("second-key-abcdefghij")),
    ]
    redactor = Redactor.for_targets(targets)
    text = "first-key-0123456789 / second-key-abcdefghij / None"
    assert redactor.redact(text) == f"{MARK} / {MARK} / None"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[2J", r"\x1b[2J"),  # clear the screen
        ("\x1b]0;owned\x07", r"\x1b]0;owned\x07"),  # set the window title (OSC ... BEL)
        ("\x1b[32m1 passed\x1b[0m", r"\x1b[32m1 passed\x1b[0m"),  # a fake green result
        ("ok\rFAILED", r"ok\x0dFAILED"),  # a lone CR rewrites the terminal line
        ("\x9b2J and \x7f and \x00", r"\x9b2J and \x7f and \x00"),  # C1 CSI, DEL, NUL
        ("line\r\nnext\tcolumn\n", "line\nnext\tcolumn\n"),  # newline and tab stay
        ("plain text, ünïcode", "plain text, ünïcode"),
    ],
)
def test_control_characters_are_shown_escaped(raw, shown):
    assert escape_controls(raw) == shown
    assert escape_controls(shown) == shown  # sanitizing twice changes nothing more


def test_sanitize_redacts_then_escapes_and_scrub_walks_plain_data():
    redactor = Redactor([KEY])
    assert redactor.sanitize(f"\x1b[31m{KEY}\x1b[0m") == rf"\x1b[31m{MARK}\x1b[0m"
    data = {"error": f"Bearer {KEY}", "n": 3, "list": [1.5, "\x1b[2J", None], "t": ("\x07",)}
    assert redactor.scrub(data) == {
        "error": f"Bearer {MARK}",
        "n": 3,
        "list": [1.5, r"\x1b[2J", None],
        "t": (r"\x07",),
    }
    assert Redactor().sanitize(f"{KEY}\x1b") == rf"{KEY}\x1b"  # no keys: escaping only


def test_a_measurement_is_sanitized_where_shown_and_redacted_where_read():
    redactor = Redactor([KEY])
    measurement = Measurement(
        ok=False,
        error=f"HTTP 401: echo Bearer {KEY} \x1b[2J",
        answer=f"the key is {KEY}; tab\there \x1b[1m",
        reasoning=f"think {KEY}",
        warnings=[f"odd {KEY}\x1b"],
    )
    assert sanitized(measurement, redactor) is measurement
    assert measurement.error == rf"HTTP 401: echo Bearer {MARK} \x1b[2J"
    assert measurement.warnings == [rf"odd {MARK}\x1b"]
    # the answer is what the test and the next turn read: the key goes, the characters stay
    assert measurement.answer == f"the key is {MARK}; tab\there \x1b[1m"
    assert measurement.reasoning == f"think {MARK}"


def test_records_are_sanitized_extra_fields_and_truth_included():
    redactor = Redactor([KEY])
    measurement = Measurement(ok=False, error=f"Bearer {KEY}", answer=f"\x1b[2J{KEY}")
    sample = Sample(
        measurement,
        truth={"ttft_ms": 1.0},
        extra={"note": f"sent {KEY}", "nested": {"why": ["\x1b]0;t\x07"]}},
    )
    (record,) = sample_records({"target": "p/m"}, [sample], redactor)
    assert KEY not in json.dumps(record) and "\\u001b" not in json.dumps(record)
    assert record["error"] == f"Bearer {MARK}"
    assert record["answer_preview"] == rf"\x1b[2J{MARK}"
    assert dict(record)["note"] == f"sent {MARK}"
    assert dict(record)["nested"] == {"why": [r"\x1b]0;t\x07"]}
    assert record["truth"] == {"ttft_ms": 1.0}
    # without a redactor, control characters are still escaped
    (plain,) = sample_records({"target": "p/m"}, [Sample(Measurement(ok=True, answer="\x1b"))])
    assert plain["answer_preview"] == r"\x1b"
