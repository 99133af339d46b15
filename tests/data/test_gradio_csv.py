"""CSV files written by the real gradio package: read_flags and import-gradio."""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

pd = pytest.importorskip("pandas")

from flagpipe import read_flags  # noqa: E402
from flagpipe.data.gradio_csv import unescape_gradio  # noqa: E402
from flagpipe.data.read import detect_csv_format  # noqa: E402

from .conftest import png  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Iterator

#: A timezone that is not UTC, so naive local timestamps must be converted.
ZONE = "America/New_York"


def _file_data(path: Path) -> dict[str, Any]:
    return {"path": str(path), "meta": {"_type": "gradio.FileData"}, "orig_name": path.name}


@pytest.fixture(scope="module")
def gradio_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A Gradio flagging folder written by gradio's ClassicCSVLogger (log.csv) and CSVLogger (dataset1.csv).

    The flagging dir is relative to the app's working directory, as Gradio apps usually have it, so
    the CSV's file cells are relative to a directory that is not the CSV's own.
    """
    gr = pytest.importorskip("gradio")
    from gradio.flagging import ClassicCSVLogger, CSVLogger

    root = tmp_path_factory.mktemp("gradio-app")
    sources = root / "uploads"
    sources.mkdir()
    red, blue = sources / "red.png", sources / "blue.png"
    red.write_bytes(png(1))
    blue.write_bytes(png(2))
    old_tz, old_cwd = os.environ.get("TZ"), Path.cwd()
    os.environ["TZ"] = ZONE
    time.tzset()
    os.chdir(root)
    before = datetime.now(timezone.utc)
    try:

        def components() -> list[Any]:
            return [
                gr.Number(label="num"),
                gr.Textbox(label="text"),
                gr.Image(label="image", type="filepath"),
                gr.Checkbox(label="ok"),
            ]

        classic = ClassicCSVLogger()
        classic.setup(components(), "flagged")
        classic.flag([-5, "=SUM(A1)", _file_data(red), True])
        classic.flag([3.5, "-dash", None, False], flag_option="wrong sign", username="alice")
        classic.flag([0, 'hello, "world"\nbye', _file_data(blue), None], username="bob")

        current = CSVLogger(verbose=False)
        current.setup(components(), "flagged")
        current.flag([-12, "a,-b", _file_data(blue), False])  # anonymous, no option: no flag/username columns
        current.flag([7, "x", None, True], flag_option="wrong sign", username="alice")  # two drifted cells
        current.flag([-0.25, "y", _file_data(red), None], username="bob")  # one drifted cell: a user
        current.flag([1, "z", None, None], flag_option="wrong sign")  # one drifted cell, seen as an option
        current.flag([2, "w", None, None], flag_option="off by one")  # one drifted cell, ambiguous
        yield {"dir": root / "flagged", "red": red, "blue": blue, "before": before}
    finally:
        os.chdir(old_cwd)
        if old_tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old_tz
        time.tzset()


@pytest.fixture
def local_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Read in the timezone the Gradio app wrote in."""
    monkeypatch.setenv("TZ", ZONE)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_the_files_gradio_wrote(gradio_dir: dict[str, Any]) -> None:
    directory = gradio_dir["dir"]
    classic = (directory / "log.csv").read_text(encoding="utf-8")
    current = (directory / "dataset1.csv").read_text(encoding="utf-8")
    assert classic.splitlines()[0] == "num,text,image,ok,flag,username,timestamp"
    assert current.splitlines()[0] == "num,text,image,ok,timestamp"
    assert "'-5," in classic and "'=SUM(A1)" in classic and "'-12," in current  # Gradio's escaping
    assert ",flagged/image/" in classic  # relative to the app's working directory
    assert detect_csv_format(directory / "log.csv") == "gradio-classic"
    assert detect_csv_format(directory / "dataset1.csv") == "gradio"


def test_unescape_gradio() -> None:
    assert unescape_gradio("'-5") == "-5"
    assert unescape_gradio("'=SUM(A1)") == "=SUM(A1)"
    assert unescape_gradio("'a,-b") == "a,-b"
    assert unescape_gradio("'quoted") == "'quoted"
    assert unescape_gradio("plain") == "plain"


def test_classic_log(gradio_dir: dict[str, Any], local_zone: None) -> None:
    frame = read_flags(gradio_dir["dir"] / "log.csv")
    assert frame["num"].tolist() == [-5.0, 3.5, 0.0]
    assert frame["num"].dtype == "float64"
    assert frame["text"].tolist() == ["=SUM(A1)", "-dash", 'hello, "world"\nbye']
    assert frame["ok"].dtype == "boolean"
    assert frame["ok"].tolist()[:2] == [True, False] and pd.isna(frame["ok"].iloc[2])
    images = frame["image"].tolist()
    assert Path(images[0]).is_absolute() and Path(images[0]).read_bytes() == png(1)
    assert pd.isna(images[1]) and Path(images[2]).read_bytes() == png(2)
    assert frame["option"].tolist()[1] == "wrong sign"
    assert pd.isna(frame["option"].iloc[0]) and pd.isna(frame["option"].iloc[2])  # written as "None"
    assert frame["username"].fillna("").tolist() == ["", "alice", "bob"]
    stamps = frame["timestamp"]
    assert str(stamps.dtype) == "datetime64[us, UTC]"
    assert all(abs(t.to_pydatetime() - gradio_dir["before"]) < timedelta(minutes=5) for t in stamps)


def test_current_log_with_column_drift(gradio_dir: dict[str, Any], local_zone: None) -> None:
    frame = read_flags(gradio_dir["dir"] / "dataset1.csv")
    assert frame["num"].tolist() == [-12.0, 7.0, -0.25, 1.0, 2.0]
    assert frame["text"].tolist() == ["a,-b", "x", "y", "z", "w"]
    assert frame["option"].fillna("").tolist() == ["", "wrong sign", "", "wrong sign", ""]
    # "off by one" alone cannot be told from a user name without the configured options
    assert frame["username"].fillna("").tolist() == ["", "alice", "bob", "", "off by one"]
    assert Path(frame["image"].iloc[2]).read_bytes() == png(1)
    assert all(abs(t.to_pydatetime() - gradio_dir["before"]) < timedelta(minutes=5) for t in frame["timestamp"])
    assert len(read_flags(gradio_dir["dir"] / "dataset1.csv", options=["wrong sign"])) == 2


def test_a_gradio_folder_reads_every_csv(gradio_dir: dict[str, Any]) -> None:
    assert len(read_flags(gradio_dir["dir"])) == 8


def test_import_gradio_twice(gradio_dir: dict[str, Any], tmp_path: Path, local_zone: None) -> None:
    from click.testing import CliRunner

    from flagpipe.cli import cli

    source = tmp_path / "gradio-copy"
    shutil.copytree(gradio_dir["dir"], source)  # a moved folder: cells still say flagged/image/...
    config = tmp_path / "flagging.yaml"
    config.write_text(
        "version: 1\ndir: flagged\noptions: [wrong sign, off by one]\ncallbacks:\n  - type: csv\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    first = runner.invoke(cli, ["import-gradio", str(source), "--config", str(config)])
    assert first.exit_code == 0, first.output
    assert "imported 8 flags" in first.output
    frame = read_flags(tmp_path / "flagged")
    assert len(frame) == 8
    assert frame["num"].tolist() == [-5, 3.5, 0, -12, 7, -0.25, 1, 2]
    assert frame["option"].fillna("").tolist() == [
        "",
        "wrong sign",
        "",
        "",
        "wrong sign",
        "",
        "wrong sign",
        "off by one",
    ]
    assert frame["username"].fillna("").tolist() == ["", "alice", "bob", "", "alice", "bob", "", ""]
    assert frame["id"].is_unique
    assert set(frame["metadata.imported_from"]) == {str(source / "log.csv"), str(source / "dataset1.csv")}
    # created_at comes from Gradio's timestamps
    gradio_times = pd.concat([read_flags(source / "log.csv"), read_flags(source / "dataset1.csv")])["timestamp"]
    assert frame["timestamp"].tolist() == gradio_times.tolist()
    # files were copied into flagpipe's directory
    images = [Path(p) for p in frame["image"].dropna()]
    assert len(images) == 4
    assert all(p.is_relative_to(tmp_path / "flagged") and p.is_file() for p in images)
    # delivered through the chain: the csv callback wrote every row
    assert len(read_flags(tmp_path / "flagged" / "log.csv")) == 8

    second = runner.invoke(cli, ["import-gradio", str(source), "--config", str(config)])
    assert second.exit_code == 0, second.output
    assert "imported 0 flags, skipped 8" in second.output
    assert read_flags(tmp_path / "flagged")["id"].tolist() == frame["id"].tolist()
    assert len(read_flags(tmp_path / "flagged" / "log.csv")) == 8

    # a row appended to the Gradio file later is imported, the rest is not
    with (source / "dataset1.csv").open("a", encoding="utf-8", newline="") as handle:
        handle.write("5,late,,true,2020-01-02 03:04:05.000001\n")
    third = runner.invoke(cli, ["import-gradio", str(source), "--config", str(config)])
    assert "imported 1 flags, skipped 8" in third.output
    last = read_flags(tmp_path / "flagged").iloc[-1]
    assert last["text"] == "late"
    assert last["timestamp"] == pd.Timestamp(datetime(2020, 1, 2, 8, 4, 5, 1, tzinfo=timezone.utc))
