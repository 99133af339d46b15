"""Background work in short turns: every item comes through, with a pause after each turn."""

from __future__ import annotations

import pytest

from flagpipe.core import turns
from flagpipe.core.turns import take_turns


def test_every_item_comes_through_in_order() -> None:
    assert list(take_turns(range(20), every=8)) == list(range(20))


def test_a_pause_after_each_turn(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    pauses: list[int] = []
    monkeypatch.setattr(turns, "let_others_run", lambda: pauses.append(len(seen)))
    for item in take_turns(range(20), every=8):
        seen.append(item)
    assert pauses == [8, 16]


def test_let_others_run_returns() -> None:
    turns.let_others_run()
