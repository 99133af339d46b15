"""The database as a flag source: ``read_flags(URL)`` equals ``read_flags(dir)``, filters and counts run in SQL."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest

import flagpipe
from flagpipe.plugins.sql.source import SQLFlagSource, open_source, recognises

from .conftest import statements

if TYPE_CHECKING:
    from pathlib import Path

    from .conftest import Database

OPTIONS = ("wrong sign", "off by one", None)


def flag_some(database: Database, tmp_path: Path, count: int = 9) -> Path:
    """``count`` flags through a Flagger with a csv + sql chain (two apps, three options, a file); its dir."""
    directory = database.directory or tmp_path / "flagged"
    picture = tmp_path / "photo.txt"
    picture.write_text("not really a photo", encoding="utf-8")
    for app in ("calculator", "sepia"):
        config = {
            "dir": str(directory),
            "app": app,
            "delivery": {"mode": "inline"},
            "callbacks": [{"type": "csv"}, {"type": "sql", **database.settings}],
        }
        with flagpipe.Flagger(config) as flagger:
            for n in range(count):
                receipt = flagger.flag(
                    {
                        "num": n,
                        "ratio": n / 4,
                        "ok": n % 2 == 0,
                        "text": f"sum {n}",
                        "photo": picture if n == 3 else None,
                    },
                    option=OPTIONS[n % 3],
                    username=("ana", "bo")[n % 2],
                    metadata={"model": {"version": f"v{n % 2}"}, "score": n},
                )
                assert receipt.delivered == ("csv", "sql"), receipt
    return directory


def where(database: Database, directory: Path) -> dict[str, Any]:
    """The storage options that say where this test's tables are and where the flagging dir is."""
    options: dict[str, Any] = {"table_prefix": database.prefix, "directory": directory}
    if database.schema:
        options["schema"] = database.schema
    return options


def test_read_flags_from_the_database_equals_the_journal(database: Database, tmp_path: Path) -> None:
    directory = flag_some(database, tmp_path)
    options = where(database, directory)
    journal = flagpipe.read_flags(directory)
    assert len(journal) == 18
    assert journal["photo"].notna().sum() == 2
    pd.testing.assert_frame_equal(flagpipe.read_flags(database.url, storage_options=options), journal)
    since = journal["timestamp"].iloc[5].to_pydatetime()
    for filters in (
        {"since": since},
        {"options": ["wrong sign", None]},
        {"apps": ["sepia"]},
        {"since": since.isoformat(), "options": ["off by one"], "apps": ["calculator"]},
        {"options": []},
    ):
        expected = flagpipe.read_flags(directory, **filters)  # type: ignore[arg-type]
        read = flagpipe.read_flags(database.url, storage_options=options, **filters)  # type: ignore[arg-type]
        pd.testing.assert_frame_equal(read, expected)
    assert len(flagpipe.read_flags(directory, options=["off by one"], apps=["calculator"])) == 3


def test_the_filters_are_in_the_sql(database: Database, tmp_path: Path) -> None:
    directory = flag_some(database, tmp_path, count=3)
    with statements() as seen:
        frame = flagpipe.read_flags(
            database.url, storage_options=where(database, directory), options=["off by one"], apps=["sepia"]
        )
    assert frame["num"].tolist() == [1]
    (query,) = [s for s in seen if "ORDER BY" in s]
    assert "WHERE" in query
    assert "created_at" in query.split("WHERE")[0]
    assert "option" in query.split("WHERE")[1]
    assert "app" in query.split("WHERE")[1]


def test_stats_latest_and_count_run_in_sql(database: Database, tmp_path: Path) -> None:
    directory = flag_some(database, tmp_path)
    from flagpipe.data.sources import JournalSource

    with statements() as seen, open_source(database.url, where(database, directory)) as source:
        counts = source.stats()
        newest = source.latest(4)
        assert source.count(flagpipe.FlagFilter.of(apps=["sepia"])) == 9
    with JournalSource(directory) as journal:
        assert counts == journal.stats()
        assert newest == journal.latest(4)
    assert counts["total"] == 18
    assert counts["by_option"][-1] == {"option": None, "count": 6}  # ties by name, no option last
    grouped = [s for s in seen if "GROUP BY" in s]
    assert len(grouped) == 3  # by option, by day, by user: each one aggregate query
    assert not any(" fields" in s.split("FROM")[0] for s in grouped)  # no flag is fetched to be counted
    assert any(" LIMIT " in s and "DESC" in s for s in seen)


def test_tables_from_the_url_query_and_clear_errors(database: Database, tmp_path: Path) -> None:
    directory = flag_some(database, tmp_path, count=2)
    query = f"table_prefix={database.prefix}" + (f"&schema={database.schema}" if database.schema else "")
    url = database.url if database.kind != "sqlite" else f"sqlite:///{directory / 'flags.db'}"
    frame = flagpipe.read_flags(f"{url}?{query}")
    assert len(frame) == 4
    if database.kind == "sqlite":  # the SQLite file's folder is the flagging dir: file paths are whole
        assert frame["num"].tolist() == [0, 1, 0, 1]
    with pytest.raises(ValueError, match=r"no table .*nothere_flags \(wrong table_prefix or schema\?\)"):
        flagpipe.read_flags(url, storage_options={**where(database, directory), "table_prefix": "nothere_"})


def test_only_database_urls_are_recognised() -> None:
    for url in ("sqlite:///flags.db", "postgresql+psycopg://u@h/db", "mysql+pymysql://root@h/test", "MARIADB://h/x"):
        assert recognises(url), url
    for other in ("s3://bucket/flags/", "flags.db", "https://example.org/flags", "file:///tmp/x"):
        assert not recognises(other), other
        assert open_source(other, {}) is None


def test_the_password_never_shows(tmp_path: Path) -> None:
    source = open_source("postgresql+psycopg://flagger:s3cret-pw@127.0.0.1:9/nowhere", {})
    assert isinstance(source, SQLFlagSource)
    assert "s3cret-pw" not in source.description
    assert source.description == "postgresql+psycopg://flagger:***@127.0.0.1:9/nowhere"
    with pytest.raises(ValueError, match=r"cannot read flags from postgresql\+psycopg://flagger:\*\*\*@") as error:
        source.count()
    assert "s3cret-pw" not in str(error.value)
    source.close()


def test_a_naive_since_is_local_time(sqlite: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = flag_some(sqlite, tmp_path, count=3)
    frame = flagpipe.read_flags(directory)
    moment = frame["timestamp"].iloc[2].to_pydatetime()
    local = moment.astimezone().replace(tzinfo=None)
    url = f"sqlite:///{directory / 'flags.db'}"
    assert len(flagpipe.read_flags(url, since=local)) == len(frame) - 2
    assert len(flagpipe.read_flags(url, since=moment + timedelta(days=1))) == 0


def test_reading_a_missing_sqlite_file_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    with pytest.raises(ValueError, match=r"cannot read flags from sqlite:///.*typo.db: no such SQLite file"):
        flagpipe.read_flags(f"sqlite:///{missing}")
    assert not missing.exists()
    with pytest.raises(ValueError, match="no such directory"):
        flagpipe.read_flags("sqlite:///flags.db", storage_options={"directory": tmp_path / "nowhere"})
    assert not (tmp_path / "nowhere").exists()
    with pytest.raises(ValueError, match="no such SQLite file"):
        flagpipe.read_flags("sqlite:///flags.db", storage_options={"directory": tmp_path})
