"""Reading one ``--llm-*`` option: the command line's value, else its ini twin's, converted.

Shared by :mod:`.options` and :mod:`.load_options`. A bad value is a :class:`pytest.UsageError`
naming the option and its ini key (exit 4); an empty value given on the command line is one,
where an empty ini value means unset.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from ..validation import short_repr

__all__ = [
    "flag_name",
    "given_option",
    "non_negative_float",
    "non_negative_int",
    "option_or_ini",
    "parse_option",
    "positive_float",
    "positive_int",
]

T = TypeVar("T")


def flag_name(name: str) -> str:
    """``llm_load_seed`` → ``--llm-load-seed``."""
    return "--" + name.replace("_", "-")


def given_option(config: pytest.Config, name: str) -> Any:
    """The command line's value; an empty one given explicitly is a usage error."""
    value = config.getoption(name)
    if isinstance(value, str) and not value.strip():
        raise pytest.UsageError(
            f"{flag_name(name)}: an empty value (leave the option out for the default)"
        )
    return value


def option_or_ini(config: pytest.Config, name: str) -> Any:
    """The command line's value, else the ini file's; ``None`` when neither sets it."""
    value = given_option(config, name)
    if value is None:
        value = config.getini(name)
    return None if value in (None, "") else value


def parse_option(
    config: pytest.Config, name: str, convert: Callable[[str], T], what: str
) -> T | None:
    """The option converted by ``convert`` (which raises :class:`ValueError` on a bad value)."""
    value = option_or_ini(config, name)
    if value is None:
        return None
    try:
        return convert(str(value).strip())
    except ValueError:
        raise pytest.UsageError(
            f"{flag_name(name)} / ini {name}: expected {what}, got {short_repr(value)}"
        ) from None


def positive_int(text: str) -> int:
    """A whole number >= 1 (:class:`ValueError` otherwise)."""
    number = int(text)
    if number < 1:
        raise ValueError(text)
    return number


def non_negative_int(text: str) -> int:
    """A whole number >= 0."""
    number = int(text)
    if number < 0:
        raise ValueError(text)
    return number


def non_negative_float(text: str) -> float:
    """A finite number >= 0."""
    number = float(text)
    if not (math.isfinite(number) and number >= 0):
        raise ValueError(text)
    return number


def positive_float(text: str) -> float:
    """A finite number > 0."""
    number = float(text)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(text)
    return number
