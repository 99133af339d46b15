"""Reading a parquet dataset back: flagpipe's reader with pushed-down filters, and other libraries."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest

from flagpipe.plugins.parquet.read import read_events

from .helpers import DAY, PNG, image_event, open_callback, text_event

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe import FlagEvent

    from .targets import Target


def _write(target: Target, directory: Path, events: list[FlagEvent], **settings: object) -> None:
    callback = open_callback(directory, **target.settings(**settings))
    for start in range(0, len(events), 3):
        callback.deliver(events[start : start + 3])
    callback.close()


def _mixed() -> list[FlagEvent]:
    events = []
    for n in range(8):
        when = DAY + timedelta(days=n // 3, seconds=n)
        option = [None, "wrong", "offensive"][n % 3]
        events.append(text_event(n, option=option, app="a" if n % 2 else "b", when=when))
    return events


@pytest.mark.parametrize("partition_by", [["date", "app", "option"], []])
def test_round_trip_and_filters(target: Target, tmp_path: Path, partition_by: list[str]) -> None:
    events = _mixed()
    _write(target, tmp_path, list(reversed(events)), partition_by=partition_by)  # delivered out of order

    def read(**query: object) -> list[str]:
        return [e.id for e in read_events(target.url, target.options, **query)]  # type: ignore[arg-type]

    assert list(read_events(target.url, target.options)) == events  # equal events, in flag order
    since = DAY + timedelta(days=1)
    assert read(since=since) == [e.id for e in events if e.created_at >= since]
    assert read(since="2026-12-01") == [
        e.id for e in events if e.created_at >= datetime(2026, 12, 1, tzinfo=timezone.utc)
    ]
    assert read(options=["wrong"]) == [e.id for e in events if e.option == "wrong"]
    assert read(options=[None, "offensive"]) == [e.id for e in events if e.option != "wrong"]
    assert read(options=[]) == []
    assert read(apps=["a"], options=["wrong"]) == [e.id for e in events if e.app == "a" and e.option == "wrong"]


def test_an_empty_dataset_reads_as_nothing(tmp_path: Path) -> None:
    assert list(read_events(str(tmp_path / "nothing-yet"))) == []


def test_files_come_back_by_content(tmp_path: Path) -> None:
    lake, flagged = tmp_path / "lake", tmp_path / "flagged"
    events = [image_event(flagged, n) for n in range(2)]
    open_callback(flagged, url=str(lake)).deliver(events)
    out = tmp_path / "out"
    back = list(read_events(str(lake), files_to=out))
    image, doc = back[0].field("image").file, back[0].field("doc").file
    assert image is not None and doc is not None
    assert image.sha256 == events[0].field("image").file.sha256  # type: ignore[union-attr]
    assert image.original_name == "cat.png" and image.media_type == "image/png"
    assert (out / image.path).read_bytes() == PNG
    assert doc.size == events[0].field("doc").file.size  # type: ignore[union-attr]
    assert (lake / doc.path).is_file()  # a file stored by content is where its path says
    assert [f.role for f in back[0].fields] == [f.role for f in events[0].fields]


def test_datasets_reads_a_typed_image_column(tmp_path: Path) -> None:
    import datasets

    lake, flagged = tmp_path / "lake", tmp_path / "flagged"
    open_callback(flagged, url=str(lake), partition_by=[]).deliver([image_event(flagged, n) for n in range(3)])
    files = sorted(str(p) for p in lake.rglob("part-*.parquet"))
    loaded = datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path / "hf"))
    assert isinstance(loaded.features["image"], datasets.Image)
    assert loaded[0]["image"].size == (1, 1)
    assert loaded["prompt"] == ["a cat 0", "a cat 1", "a cat 2"]


def test_docs_recipes_duckdb_polars_pandas(tmp_path: Path) -> None:
    """The recipes of docs/parquet.md read the same rows from the same folder."""
    import duckdb
    import pandas as pd
    import polars as pl
    import pyarrow as pa
    import pyarrow.dataset as ds

    lake = tmp_path / "lake"
    events = _mixed()
    _write_local(lake, tmp_path, events)
    wrong = sorted(
        e.id for e in events if e.option == "wrong" and e.created_at >= datetime(2026, 12, 1, tzinfo=timezone.utc)
    )
    by_duckdb = duckdb.sql(
        f"""SELECT id FROM read_parquet('{lake}/*/**/*.parquet', hive_partitioning = true)
            WHERE option = 'wrong' AND date >= '2026-12-01'"""
    ).fetchall()
    by_polars = (
        pl.scan_parquet(f"{lake}/*/**/*.parquet", hive_partitioning=True)
        .filter((pl.col("option") == "wrong") & (pl.col("date") >= date(2026, 12, 1)))
        .select("id")
        .collect()
    )
    hive = ds.partitioning(pa.schema([("date", pa.string()), ("option", pa.string())]), flavor="hive")
    by_pandas = pd.read_parquet(
        lake / events_schema(lake), partitioning=hive, filters=[("option", "=", "wrong"), ("date", ">=", "2026-12-01")]
    )
    assert sorted(r[0] for r in by_duckdb) == wrong
    assert sorted(by_polars["id"].to_list()) == wrong
    assert sorted(by_pandas["id"]) == wrong


def _write_local(lake: Path, directory: Path, events: list[FlagEvent]) -> None:
    callback = open_callback(directory, url=str(lake), partition_by=["date", "option"])
    callback.deliver(events)


def events_schema(lake: Path) -> str:
    """The one field-set folder of a dataset."""
    [folder] = [p.name for p in lake.iterdir() if p.name.startswith("schema-")]
    return folder
