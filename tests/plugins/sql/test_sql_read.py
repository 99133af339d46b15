"""Reading flags back from the database: filters in SQL, counts in SQL, the same answers everywhere."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from flagpipe import FieldValue, FlagEvent
from flagpipe.core.sources import count_events
from flagpipe.plugins.sql import SQLCallback, SQLSettings
from flagpipe.plugins.sql.read import FlagFilter, flag_stats, read_events

from .test_sql_callback import SCHEMA

if TYPE_CHECKING:
    from pathlib import Path

    from .conftest import Database

START = datetime(2026, 3, 1, 23, 30, tzinfo=timezone.utc)


def history() -> list[FlagEvent]:
    """Twelve flags over three UTC days, two apps, three options (one of them none) and two users."""
    return [
        FlagEvent(
            created_at=START + timedelta(hours=3 * i),
            option=("wrong", "offensive", None)[i % 3],
            app=("demo", "other")[i % 2],
            username=("ana", "bo", "ana", "cy")[i % 4],
            fields=(FieldValue(name="text", value=f"t{i}"),),
            metadata=_redacted(i),
        )
        for i in range(12)
    ]


def _redacted(i: int) -> dict[str, object]:
    """What redaction found in flag ``i``: emails in every fourth, an email and a phone in the sixth."""
    if i % 4 == 0:
        return {"redacted": {"email": 2}, "model": "m1"}
    if i == 5:
        return {"redacted": {"email": 1, "phone": 1}}
    return {"model": "m1"}


def stored(database: Database, tmp_path: Path) -> tuple[list[FlagEvent], dict[str, object]]:
    events = history()
    callback = SQLCallback(SQLSettings.model_validate(database.settings))
    callback.setup(SCHEMA, database.directory or tmp_path)
    try:
        callback.deliver(events)
    finally:
        callback.close()
    where = {"table_prefix": database.prefix, "schema": database.schema, "directory": database.directory or tmp_path}
    return events, where


def test_filters_are_pushed_into_sql(database: Database, tmp_path: Path) -> None:
    events, where = stored(database, tmp_path)
    since = START + timedelta(hours=9)

    def read(**filters: object) -> list[str]:
        return [e.id for e in read_events(database.url, **where, **filters)]  # type: ignore[arg-type]

    assert read() == [e.id for e in events]
    assert read(since=since) == [e.id for e in events if e.created_at >= since]
    assert read(options=["wrong"]) == [e.id for e in events if e.option == "wrong"]
    assert read(options=[None, "offensive"]) == [e.id for e in events if e.option in (None, "offensive")]
    assert read(options=[]) == []
    assert read(apps=["other"], since=since) == [e.id for e in events if e.app == "other" and e.created_at >= since]
    local = since.astimezone(timezone(timedelta(hours=5)))  # the same moment in another zone
    assert read(since=local) == read(since=since)


def test_stats_count_in_sql_like_the_events_say(database: Database, tmp_path: Path) -> None:
    events, where = stored(database, tmp_path)
    result = flag_stats(database.url, **where)  # type: ignore[arg-type]
    assert result["total"] == 12
    by_option = Counter(e.option for e in events)
    assert {(r["option"], r["count"]) for r in result["by_option"]} == set(by_option.items())  # type: ignore[union-attr]
    by_day = Counter(e.created_at.date().isoformat() for e in events)
    assert [(r["day"], r["count"]) for r in result["by_day"]] == sorted(by_day.items())  # type: ignore[union-attr]
    assert result["by_user"][0] == {"username": "ana", "count": 6}  # type: ignore[index]
    assert result["redacted"] == count_events(events)["redacted"]
    assert result["redacted"] == {
        "flags": 4,
        "by_detector": [{"detector": "email", "spans": 7, "flags": 4}, {"detector": "phone", "spans": 1, "flags": 1}],
    }
    only = flag_stats(database.url, options=["wrong"], apps=["demo"], **where)  # type: ignore[arg-type]
    assert only["total"] == sum(1 for e in events if e.option == "wrong" and e.app == "demo")
    chosen = [e for e in events if e.option == "wrong" and e.app == "demo"]
    assert only.get("redacted") == count_events(chosen).get("redacted")


def test_an_empty_filter_matches_nothing() -> None:
    assert FlagFilter.of(options=[]).options == ()
    assert FlagFilter.of().options is None
