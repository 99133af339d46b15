"""CSV cells: formula neutralizing and the rendering of values, shared by the csv sink and exports."""

from __future__ import annotations

import pytest

from flagpipe.core.cells import FORMULA_TRIGGERS, format_cell, neutralize, unneutralize


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
