"""Short event ids: the shortest unique prefix of 8 characters or more, and resolving a prefix back."""

from __future__ import annotations

import pytest

from flagpipe.cli.ids import SHORT_ID, resolve_id, short_ids

A = "01a236ae-e5a7-7316-b661-4255c60860d2"
B = "01a236ae-e83d-75b5-9716-4ddac3ffd911"
C = "01a236ae-e83f-7000-8000-000000000000"
D = "7f00aa11-0000-7000-8000-000000000000"


def test_ids_that_differ_early_are_cut_to_8_characters() -> None:
    assert SHORT_ID == 8
    assert short_ids([A, D]) == ["01a236ae", "7f00aa11"]
    assert short_ids([D]) == ["7f00aa11"]
    assert short_ids([]) == []


def test_ids_made_within_a_minute_grow_just_enough_to_differ() -> None:
    # UUIDv7: the first 8 characters are the time in units of about 65 seconds
    assert short_ids([A, B, C]) == ["01a236ae-e5", "01a236ae-e83d", "01a236ae-e83f"]
    assert short_ids([C, D, B]) == ["01a236ae-e83f", "7f00aa11", "01a236ae-e83d"]  # any order


def test_a_short_id_never_ends_in_a_dash_and_repeats_share_one() -> None:
    shorts = short_ids([A, "01a236ae-f000-7000-8000-000000000000", A])
    assert shorts == ["01a236ae-e", "01a236ae-f", "01a236ae-e"]
    assert not any(s.endswith("-") for s in shorts)


def test_resolve_a_whole_id_or_a_unique_prefix() -> None:
    assert resolve_id(A, [A, B]) == A
    assert resolve_id("01a236ae-e5", [A, B, C]) == A
    assert resolve_id("01a236ae", [A, D]) == A
    assert resolve_id(D[:8], iter([A, D])) == D  # any iterable, read once


def test_resolve_rejects_a_short_unknown_or_ambiguous_prefix() -> None:
    with pytest.raises(ValueError, match="an event id needs at least 8 characters, got '01a2'"):
        resolve_id("01a2", [A])
    with pytest.raises(ValueError, match="no event id starting with 'ffffffff' among the dead letters"):
        resolve_id("ffffffff", [A, B], among="dead letters")
    with pytest.raises(ValueError) as caught:
        resolve_id("01a236ae-e8", [A, B, C])
    assert str(caught.value) == (
        "event id '01a236ae-e8' is ambiguous: it starts 2 ids (01a236ae-e83d, 01a236ae-e83f); give more characters"
    )


def test_an_ambiguous_prefix_lists_five_ids_at_most() -> None:
    many = [f"01a236ae-{n:04x}-7000-8000-000000000000" for n in range(7)]
    with pytest.raises(ValueError, match=r"it starts 7 ids \((01a236ae-000\d, ){4}01a236ae-0004 and 2 more\)"):
        resolve_id("01a236ae", many)
