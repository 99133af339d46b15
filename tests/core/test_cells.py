"""CSV cells: formula neutralizing and the rendering of values, shared by the csv sink and exports."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagpipe.core.cells import FORMULA_TRIGGERS, encode_row, format_cell, neutralize, unneutralize


def test_neutralize_round_trip_and_harmless_text() -> None:
    for text in ["plain", "", "a=b", "1-2", "'"]:
        assert unneutralize(neutralize(text)) == text
    assert neutralize("plain") == "plain"


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_every_trigger_is_prefixed_and_undone(trigger: str) -> None:
    assert neutralize(f"{trigger}x") == f"'{trigger}x"
    assert unneutralize(neutralize(f"{trigger}x")) == f"{trigger}x"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (-12, "-12"),
        (0.5, "0.5"),
        ("-12", "'-12"),
        ("=1+2", "'=1+2"),
        ({"a": [1, "é"]}, '{"a": [1, "é"]}'),
        (["=x"], '["=x"]'),
    ],
)
def test_format_cell(value: object, cell: str) -> None:
    assert format_cell(value) == cell


def _by_csv_module(cells: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue().encode("utf-8")


@pytest.mark.parametrize(
    "cells",
    [
        ["5", "add", "7", "'-12", "wrong sign", "", "2026-12-02T15:00:00+00:00", "0193"],
        ['say "hi"', "x"],
        ["two\nlines", "cr\ronly", "crlf\r\n"],
        ["a,b", "c"],
        [""],
        ["", ""],
        [],
        ["é ü 中文 🙂", "tab\there"],
        [format_cell("=SUM(A1:A9)"), format_cell("+1"), format_cell("@cmd"), format_cell('="x",1')],
        [format_cell("-12"), format_cell({"a": [1, "b,c"]}), format_cell(None), format_cell(True)],
    ],
)
def test_encoded_rows_are_byte_identical_to_the_csv_module(cells: list[str]) -> None:
    assert encode_row(cells) == _by_csv_module(cells)


def test_formula_cells_keep_their_guard_in_encoded_rows() -> None:
    row = encode_row([format_cell("=1+1"), format_cell('=HYPERLINK("x")')])
    assert row == b'\'=1+1,"\'=HYPERLINK(""x"")"\r\n'


@given(st.lists(st.text(alphabet=st.sampled_from("ab ,\"\r\n='-é\t"), max_size=6), max_size=5))
def test_any_row_is_byte_identical_to_the_csv_module(cells: list[str]) -> None:
    assert encode_row(cells) == _by_csv_module(cells)
