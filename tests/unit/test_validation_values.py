"""Number and code reading (grassroots.validation.values)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from grassroots.validation.values import (
    INT_REGEX,
    NUMBER_REGEX,
    normalize_code,
    parse_int,
    parse_ints,
    parse_number,
    parse_numbers,
    parse_term,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("61491", 61491),
        ("61.491", 61491),
        ("61,491", 61491),  # comma + exactly three digits in an int column: thousands
        ("61 491", 61491),
        ("61\u00a0491", 61491),
        ("1.234.567", 1234567),
        ("12.000", 12000),
        ("12,0", 12),  # a zero fraction (Excel output) is still a whole number
        ("12.00", 12),
        (" 7 ", 7),
        ("0", 0),
    ],
)
def test_parse_int_accepts_vietnamese_formats(text, expected):
    assert parse_int(text) == expected


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_is_missing_not_zero(text):
    assert parse_int(text) is None
    assert parse_number(text) is None


@pytest.mark.parametrize(
    "text", ["abc", "87,8", "1.5", "-3", "12%", "1.234,567", "1.23.456", "6.1491"]
)
def test_parse_int_rejects_non_integers(text):
    with pytest.raises(ValueError):
        parse_int(text)


def test_signed_int():
    assert parse_int("-3", signed=True) == -3
    assert parse_int("\u22123", signed=True) == -3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("87,8", 87.8),
        ("87.8", 87.8),
        ("61.491,5", 61491.5),
        ("61,491.5", 61491.5),
        ("61.491", 61491.0),
        ("12%", 12.0),  # stays in percent units
        ("12,5 %", 12.5),
        ("0,125", 0.125),  # a leading 0 never starts a thousands group
        ("100", 100.0),
    ],
)
def test_parse_number(text, expected):
    assert parse_number(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["abc", "1,2,3", "87,8,1", "--1", "1.2.3", "%"])
def test_parse_number_rejects_garbage(text):
    with pytest.raises(ValueError):
        parse_number(text)


def test_regexes_are_what_gx_checks():
    # The suites check raw cells with these regexes: they must agree with the parsers.
    for text in ["61.491", "12,0", "7"]:
        assert re.search(INT_REGEX, text)
    for text in ["87,8", "12%", "61.491,5"]:
        assert re.search(NUMBER_REGEX, text)
    for text in ["abc", "87,8"]:
        assert not re.search(INT_REGEX, text)


def test_vectorized_parsers():
    ints = parse_ints(pd.Series(["61.491", None, "abc", "3"], dtype=object))
    assert str(ints.dtype) == "Int64"
    assert ints.tolist()[0] == 61491 and ints.tolist()[3] == 3
    assert ints.isna().tolist() == [False, True, True, False]
    numbers = parse_numbers(pd.Series(["87,8", "", "x"], dtype=object))
    assert numbers.tolist()[0] == pytest.approx(87.8)
    assert numbers.isna().tolist() == [False, True, True]


@pytest.mark.parametrize(
    ("text", "widths", "expected"),
    [
        ("06253", (5,), ("06253", False)),  # leading zeros kept
        ("00001", (5,), ("00001", False)),
        ("6253", (5,), ("06253", True)),  # Excel dropped the zero: padded, reported
        ("6253.0", (5,), ("06253", True)),
        ("1", (3,), ("001", True)),
        ("12", (3, 5), ("012", True)),
        ("1234", (3, 5), ("01234", True)),
        ("178-Q01", (5,), ("178-Q01", False)),  # codes with a dash are never padded
        ("06253-004", (), ("06253-004", False)),
        ("abc", (5,), ("abc", False)),
        (None, (5,), (None, False)),
    ],
)
def test_codes_keep_text_and_leading_zeros(text, widths, expected):
    assert normalize_code(text, widths) == expected


def test_parse_term():
    assert parse_term("2020-2025") == (2020, 2025)
    assert parse_term("2020 - 2025") is None
    assert parse_term(None) is None
