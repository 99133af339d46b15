"""The sql callback on every database: round trips, versions, missing tables, errors that hide passwords."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

import flagpipe
from flagpipe import FieldSpec, FieldValue, FlagEvent, FlagSchema
from flagpipe.core.journal import Journal
from flagpipe.plugins.sql import SQLCallback, SQLSettings
from flagpipe.plugins.sql.migrations import SQL_SCHEMA_VERSION
from flagpipe.plugins.sql.read import read_events

from .conftest import unique

if TYPE_CHECKING:
    from pathlib import Path

    from .conftest import Database

SCHEMA = FlagSchema.of([FieldSpec("text"), FieldSpec("score", kind="number", role="output")])


def make_events(count: int, **extra: object) -> list[FlagEvent]:
    return [
        FlagEvent(
            option=("wrong", "offensive", None)[i % 3],
            username=f"user{i % 2}",
            comment="naïve ünïcode, 'quotes' and \"more\"" if i == 0 else None,
            app="demo",
            session_id="s1",
            metadata={"model": "v2", "nested": {"n": i, "list": [1, 2.5, None, True]}},
            fields=(
                FieldValue(name="text", value=f"sample {i}"),
                FieldValue(name="score", role="output", kind="number", value=i / 3),
            ),
            **extra,  # type: ignore[arg-type]
        )
        for i in range(count)
    ]


def open_callback(database: Database, directory: Path, **settings: object) -> SQLCallback:
    callback = SQLCallback(SQLSettings.model_validate({**database.settings, **settings}))
    callback.setup(SCHEMA, database.directory or directory)
    return callback


def read_back(database: Database, directory: Path, **filters: object) -> list[FlagEvent]:
    schema = database.schema
    return read_events(
        database.url,
        table_prefix=database.prefix,
        schema=schema,
        directory=database.directory or directory,
        **filters,  # type: ignore[arg-type]
    )


def test_events_read_back_equal_to_those_delivered(database: Database, tmp_path: Path) -> None:
    events = make_events(7)
    callback = open_callback(database, tmp_path)
    try:
        callback.deliver(events[:4])
        callback.deliver(events[2:])  # a replay overlapping the first batch
        assert "holds 7 flag(s)" in (callback.healthcheck() or "")
    finally:
        callback.close()
    assert read_back(database, tmp_path) == events
    assert database.ids() == [e.id for e in events]


def test_a_flagger_and_its_journal_agree_with_the_database(database: Database, tmp_path: Path) -> None:
    directory = database.directory or tmp_path / "flagged"
    config = {"dir": str(directory), "app": "demo", "callbacks": [{"type": "sql", **database.settings}]}
    with flagpipe.Flagger(config) as flagger:
        for n in range(5):
            flagger.flag({"text": f"hello {n}", "n": n}, option="bad", comment=f"c{n}")
        assert flagger.flush(30)
    journal = Journal(directory)
    try:
        journaled = [event for _, event in journal.iter_events()]
    finally:
        journal.close()
    assert read_back(database, tmp_path) == journaled


def test_created_at_keeps_microseconds_and_utc(database: Database, tmp_path: Path) -> None:
    event = make_events(1)[0]
    callback = open_callback(database, tmp_path)
    try:
        callback.deliver([event])
    finally:
        callback.close()
    (stored,) = read_back(database, tmp_path)
    assert stored.created_at == event.created_at
    assert stored.created_at.utcoffset() == timedelta(0)


def test_the_version_table_records_the_layout(database: Database, tmp_path: Path) -> None:
    callback = open_callback(database, tmp_path)
    try:
        callback.healthcheck()
    finally:
        callback.close()
    version = database.table("version")
    with database.admin.connect() as conn:
        rows = conn.execute(sa.select(version.c.name, version.c.version, version.c.written_by)).all()
    assert [tuple(r) for r in rows] == [("schema", SQL_SCHEMA_VERSION, flagpipe.__version__)]


def test_tables_from_a_newer_flagpipe_disable_the_lane(database: Database, tmp_path: Path) -> None:
    first = open_callback(database, tmp_path)
    first.healthcheck()
    first.close()
    version = database.table("version")
    with database.admin.begin() as conn:
        conn.execute(sa.update(version).values(version=SQL_SCHEMA_VERSION + 1))
    callback = open_callback(database, tmp_path)
    try:
        with pytest.raises(flagpipe.DestinationDisabledError, match="newer flagpipe") as caught:
            callback.deliver(make_events(1))
    finally:
        callback.close()
    assert f"version {SQL_SCHEMA_VERSION + 1}" in str(caught.value)


def test_without_create_tables_missing_tables_say_to_run_init(database: Database, tmp_path: Path) -> None:
    callback = open_callback(database, tmp_path, create_tables=False)
    try:
        with pytest.raises(flagpipe.DestinationDisabledError, match="flagpipe sql init"):
            callback.deliver(make_events(1))
    finally:
        callback.close()


def test_tables_dropped_under_a_running_callback_are_made_again(database: Database, tmp_path: Path) -> None:
    events = make_events(2)
    callback = open_callback(database, tmp_path)
    try:
        callback.deliver(events[:1])
        for name in ("flags", "blobs", "version"):
            database.table(name).drop(database.admin)
        with pytest.raises(flagpipe.RetryableError, match="missing"):
            callback.deliver(events[1:])
        callback.deliver(events[1:])  # the retry creates them again
    finally:
        callback.close()
    assert database.ids() == [events[1].id]


def test_a_value_the_column_cannot_hold_rejects_the_batch_only(database: Database, tmp_path: Path) -> None:
    if database.kind == "sqlite":
        pytest.skip("SQLite does not enforce VARCHAR lengths")
    callback = open_callback(database, tmp_path)
    try:
        with pytest.raises(flagpipe.PermanentError) as caught:
            callback.deliver([FlagEvent(option="x" * 300)])
        assert not isinstance(caught.value, flagpipe.DestinationDisabledError)
        callback.deliver(make_events(1))  # the next batch goes through
    finally:
        callback.close()


def test_wrong_credentials_disable_the_lane_without_showing_the_password(mysql: Database, tmp_path: Path) -> None:
    user = unique("fp_user_")
    mysql.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'right-password'")
    mysql.cleanups.append(lambda: mysql.execute(f"DROP USER '{user}'@'%'"))
    url = sa.make_url(mysql.url).set(username=user, password="Wrong-Secret-42")
    settings = {"url": url.render_as_string(hide_password=False), "table_prefix": mysql.prefix}
    callback = SQLCallback(SQLSettings.model_validate(settings))
    callback.setup(SCHEMA, tmp_path)
    try:
        with pytest.raises(flagpipe.DestinationDisabledError) as caught:
            callback.deliver(make_events(1))
    finally:
        callback.close()
    text = str(caught.value)
    assert "Access denied" in text
    assert "Wrong-Secret-42" not in text
    assert f"{user}:***@" in text
    assert "Wrong-Secret-42" not in repr(callback) + repr(callback.settings)


def test_an_unknown_role_disables_the_lane(postgres: Database, tmp_path: Path) -> None:
    url = sa.make_url(postgres.url).set(username="fp_nobody", password="Wrong-Secret-42")
    callback = SQLCallback(SQLSettings.model_validate({"url": url.render_as_string(hide_password=False)}))
    callback.setup(SCHEMA, tmp_path)
    try:
        with pytest.raises(flagpipe.DestinationDisabledError, match="fp_nobody") as caught:
            callback.healthcheck()
    finally:
        callback.close()
    assert "Wrong-Secret-42" not in str(caught.value)


def test_a_refused_connection_is_retryable(tmp_path: Path) -> None:
    for url in ("postgresql+psycopg://postgres@127.0.0.1:1/test", "mysql+pymysql://root@127.0.0.1:1/test"):
        callback = SQLCallback(SQLSettings.model_validate({"url": url, "connect_timeout": 2}))
        callback.setup(SCHEMA, tmp_path)
        try:
            with pytest.raises(flagpipe.RetryableError, match="unavailable"):
                callback.deliver(make_events(1))
        finally:
            callback.close()


def test_schema_is_refused_with_sqlite(tmp_path: Path) -> None:
    callback = SQLCallback(SQLSettings.model_validate({"schema": "flags"}))
    callback.setup(SCHEMA, tmp_path)
    with pytest.raises(flagpipe.DestinationDisabledError, match="table_prefix"):
        callback.deliver(make_events(1))
