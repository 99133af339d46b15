"""read_flags on a journal: columns, dtypes, values, filters; and export to each format and back."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")

from flagpipe import read_flags  # noqa: E402
from flagpipe.data.export import export_flags  # noqa: E402

from .conftest import OPTIONS, build_journal, png  # noqa: E402


def test_import_flagpipe_does_not_import_pandas() -> None:
    code = "import sys, flagpipe; flagpipe.read_flags; assert 'pandas' not in sys.modules, 'pandas imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_columns_dtypes_and_values(small_journal: Path) -> None:
    frame = read_flags(small_journal)
    assert len(frame) == 200
    assert list(frame.columns[:6]) == ["num", "prompt", "ok", "data", "image", "score"]
    assert list(frame.columns[6:14]) == [
        "option",
        "username",
        "comment",
        "timestamp",
        "id",
        "mode",
        "session_id",
        "app",
    ]
    assert set(frame.columns[14:]) == {"metadata.model.name", "metadata.model.version", "metadata.latency"}
    assert frame["num"].dtype == "int64"
    assert frame["score"].dtype == "float64"
    assert frame["ok"].dtype == "boolean"
    assert frame["prompt"].dtype == "string"
    assert frame["data"].dtype == object
    assert str(frame["timestamp"].dtype) == "datetime64[us, UTC]"
    assert frame["metadata.model.version"].dtype == "int64"
    assert frame["metadata.latency"].dtype == "float64"
    row = frame.iloc[7]
    assert row["num"] == -7
    assert row["prompt"] == "-prompt 7"
    assert row["data"] == {"i": 7, "tags": ["a", "b"]}
    assert row["option"] == OPTIONS[7 % 3]
    assert row["username"] == "user3"
    assert row["mode"] == "manual" and row["app"] == "calc" and row["session_id"] == "s7"
    assert frame.iloc[3]["comment"] == "=cmd"
    assert pd.isna(frame.iloc[0]["option"]) and pd.isna(frame.iloc[0]["username"])
    assert frame.iloc[5]["data"] is None
    image = Path(frame.iloc[1]["image"])
    assert image.is_absolute() and image.read_bytes() == png(1)
    assert pd.isna(frame.iloc[4]["image"])
    assert frame["timestamp"].is_monotonic_increasing
    assert frame["id"].is_unique


def test_config_file_source(small_journal: Path) -> None:
    config = small_journal.parent / "flagging.yaml"
    config.write_text("version: 1\ndir: flagged\ncallbacks: []\n", encoding="utf-8")
    assert len(read_flags(config)) == 200


def test_config_file_source_reads_only_the_dir(
    small_journal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("FLAGS_HOME", str(small_journal.parent))
    config = tmp_path / "elsewhere" / "flagging.yaml"
    config.parent.mkdir()
    config.write_text(
        "version: 1\n"
        "dir: ${FLAGS_HOME}/flagged\n"
        "plugins: {require: [not-installed>=9]}\n"
        "callbacks:\n"
        "  - type: webhook\n"
        "    url: ${SLACK_WEBHOOK_URL}\n"
        "    format: slack\n"
        "  - type: not_a_callback_type\n",
        encoding="utf-8",
    )
    assert len(read_flags(config)) == 200  # the unset variable and the chain are never looked at


def test_filters(small_journal: Path) -> None:
    frame = read_flags(small_journal)
    middle = frame["timestamp"].iloc[100].to_pydatetime()
    since = read_flags(small_journal, since=middle)
    assert len(since) == 100 and since["id"].iloc[0] == frame["id"].iloc[100]
    assert len(read_flags(small_journal, since=middle.isoformat())) == 100
    naive_local = middle.astimezone().replace(tzinfo=None)  # naive values are local time
    assert len(read_flags(small_journal, since=naive_local)) == 100
    only = read_flags(small_journal, options=["off by one"])
    assert set(only["option"]) == {"off by one"}
    assert len(only) == sum(1 for i in range(200) if i % 10 and i % 3 == 1)
    none = read_flags(small_journal, options=[None])
    assert len(none) == 20 and none["option"].isna().all()
    assert len(read_flags(small_journal, since=datetime.now(timezone.utc) + timedelta(days=1))) == 0


def test_missing_source(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_flags(tmp_path / "nope")
    with pytest.raises(ValueError, match="no flags"):
        read_flags(tmp_path)


def _compare(back: pd.DataFrame, frame: pd.DataFrame, *, exact_dtypes: bool) -> None:
    assert list(back.columns) == list(frame.columns)
    if exact_dtypes:
        pd.testing.assert_frame_equal(back, frame, check_like=False)
        return

    def plain(values: list[object]) -> list[object]:
        return [None if v is pd.NA or (isinstance(v, float) and math.isnan(v)) else v for v in values]

    for column in frame.columns:
        assert plain(back[column].tolist()) == plain(frame[column].tolist()), column


def _roundtrip(directory: Path, tmp_path: Path) -> None:
    frame = read_flags(directory)
    for fmt in ("parquet", "csv", "jsonl"):
        out = tmp_path / "exports" / f"flags.{fmt}"
        report = export_flags(directory, out, fmt)
        assert report.count == len(frame) and out.is_file()
        back = read_flags(out)
        _compare(back, frame, exact_dtypes=fmt in ("parquet", "csv"))
        # filters apply to exported files too
        assert len(read_flags(out, options=["other"])) == int((frame["option"] == "other").sum())
    filtered = tmp_path / "exports" / "other.parquet"
    export_flags(directory, filtered, "parquet", options=["other"], since=frame["timestamp"].iloc[10].isoformat())
    expected = frame[(frame["option"] == "other") & (frame["timestamp"] >= frame["timestamp"].iloc[10])]
    assert read_flags(filtered)["id"].tolist() == expected["id"].tolist()


def test_roundtrip_small(small_journal: Path, tmp_path: Path) -> None:
    _roundtrip(small_journal, tmp_path)


@pytest.mark.slow
def test_roundtrip_10000_events_with_files(tmp_path: Path) -> None:
    directory = build_journal(tmp_path / "flagged", 10_000)
    frame = read_flags(directory)
    assert len(frame) == 10_000
    assert frame["image"].notna().sum() == 7500
    assert all(Path(p).is_file() for p in frame["image"].dropna().unique())
    _roundtrip(directory, tmp_path)


def test_csv_callback_log_reads_back(tmp_path: Path) -> None:
    directory = build_journal(tmp_path / "flagged", 300, callbacks=[{"type": "csv"}])
    frame = read_flags(directory)
    log = read_flags(directory / "log.csv")
    assert log["id"].tolist() == frame["id"].tolist()
    for column in ("num", "prompt", "ok", "data", "score", "option", "username", "timestamp"):
        assert log[column].tolist() == frame[column].tolist(), column
    assert log["image"].fillna("").tolist() == frame["image"].fillna("").tolist()


def test_parquet_embeds_files(small_journal: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "embedded.parquet"
    export_flags(small_journal, out, "parquet", embed_files=True)
    table = pq.read_table(out)
    images = table.column("image").to_pylist()
    assert images[1]["bytes"] == png(1) and images[1]["path"].endswith("image.png")
    assert images[4] is None
    assert json.loads(table.schema.metadata[b"flagpipe"])["columns"]["image"] == "file"
    back = read_flags(out)
    assert back["image"].tolist()[:2] == read_flags(small_journal)["image"].tolist()[:2]
    with pytest.raises(ValueError, match="parquet"):
        export_flags(small_journal, tmp_path / "x.csv", "csv", embed_files=True)
