"""The flag-source contract in core: the filter, and the answers a source gets from its events alone."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest

from flagpipe import FlagEvent, FlagFilter, FlagSource
from flagpipe.core.sources import count_events, ranked

if TYPE_CHECKING:
    from collections.abc import Iterator

START = datetime(2026, 3, 1, 22, 0, tzinfo=timezone.utc)


#: (hours after START, option, app, username) of seven flags.
ROWS = [
    (0, "wrong", "demo", "ana"),
    (2, "other", None, "bo"),
    (4, None, "demo", None),
    (6, "wrong", None, "ana"),
    (8, "other", "demo", "bo"),
    (10, None, None, None),
    (12, "wrong", "demo", "ana"),
]


def history() -> list[FlagEvent]:
    events = []
    for hours, option, app, username in ROWS:
        events.append(FlagEvent(created_at=START + timedelta(hours=hours), option=option, app=app, username=username))
    return events


class Listed(FlagSource):
    """Only ``events``: everything else comes from the base class."""

    def __init__(self, events: list[FlagEvent]) -> None:
        self._events = events
        self.reads = 0

    def events(self, flag_filter: FlagFilter | None = None) -> Iterator[FlagEvent]:
        self.reads += 1
        wanted = flag_filter or FlagFilter()
        return (e for e in self._events if wanted.matches(e))


def test_a_filter_matches_like_its_fields_say() -> None:
    events = history()
    local = timezone(timedelta(hours=-5))
    since = FlagFilter.of(since=(START + timedelta(hours=4)).astimezone(local))
    assert since.since == START + timedelta(hours=4)
    assert since.since.tzinfo == timezone.utc
    assert [e.created_at for e in events if since.matches(e)] == [e.created_at for e in events[2:]]
    assert [e.option for e in events if FlagFilter.of(options=[None]).matches(e)] == [None, None]
    assert not any(FlagFilter.of(options=[]).matches(e) for e in events)
    assert sum(FlagFilter.of(options=["wrong"], apps=["demo"]).matches(e) for e in events) == 2  # n = 0, 6
    assert not FlagFilter().active
    assert FlagFilter.of(apps=[]).active


def test_a_source_with_only_events_answers_latest_count_and_stats() -> None:
    events = history()
    with Listed(events) as source:
        assert source.latest(3) == events[-3:]
        assert source.latest(0) == []
        assert source.latest(2, FlagFilter.of(options=["other"])) == [events[1], events[4]]
        assert source.count() == 7
        assert source.count(FlagFilter.of(apps=[None])) == 3
        stats = source.stats()
    assert stats == count_events(events)
    assert stats["total"] == 7
    assert stats["by_option"] == [
        {"option": "wrong", "count": 3},
        {"option": "other", "count": 2},
        {"option": None, "count": 2},
    ]
    assert stats["by_day"] == [{"day": "2026-03-01", "count": 1}, {"day": "2026-03-02", "count": 6}]
    assert stats["by_user"][0] == {"username": "ana", "count": 3}


def test_ranked_orders_ties_by_value_and_none_last() -> None:
    assert ranked([(None, 2), ("b", 2), ("a", 2), ("c", 5)]) == [("c", 5), ("a", 2), ("b", 2), (None, 2)]


def test_a_source_must_implement_events() -> None:
    class Nothing(FlagSource):
        pass

    with pytest.raises(TypeError, match="abstract"):
        Nothing()  # type: ignore[abstract]
