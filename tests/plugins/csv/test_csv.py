"""The csv callback: Gradio's layout, spreadsheet safety, exact round trips, threads, replays."""

from __future__ import annotations

import csv
import threading
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from tests.csv_log import read_rows

from flagpipe import FieldSpec, FieldValue, FlagEvent, Flagger, FlagSchema
from flagpipe.plugins.csv import CSVCallback, CSVSettings

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe.core.host import PluginHost


def text_event(**values: str | None) -> FlagEvent:
    return FlagEvent(fields=tuple(FieldValue(name=k, value=v) for k, v in values.items()))


def open_callback(directory: Path, names: tuple[str, ...] = ("text",), **settings: object) -> CSVCallback:
    callback = CSVCallback(CSVSettings.model_validate(settings))
    callback.setup(FlagSchema.of(FieldSpec(n) for n in names), directory)
    return callback


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\nx", "'=x", "'plain"])
def test_formula_cells_are_neutralised_and_read_back(tmp_path: Path, text: str) -> None:
    callback = open_callback(tmp_path)
    callback.deliver([text_event(text=text)])
    callback.close()
    with (tmp_path / "log.csv").open(newline="", encoding="utf-8") as handle:
        raw = list(csv.reader(handle))[1][0]
    assert raw == "'" + text
    assert read_rows(tmp_path / "log.csv")[0]["text"] == text


def test_numbers_stay_numbers_but_text_that_looks_negative_is_escaped(tmp_path: Path, plugins: PluginHost) -> None:
    with Flagger(dir=tmp_path, plugins=plugins) as flagger:
        flagger.flag({"n": -5, "f": -0.25, "t": "-5", "big": 10**20})
    lines = (tmp_path / "log.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("-5,-0.25,'-5,100000000000000000000,")


def test_header_and_labels_are_neutralised_too(tmp_path: Path, plugins: PluginHost) -> None:
    with Flagger(dir=tmp_path, plugins=plugins) as flagger:
        flagger.flag({"=danger": "x", "-minus": 1})
    header = (tmp_path / "log.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("'=danger,'-minus,flag")
    assert list(read_rows(tmp_path / "log.csv")[0])[:2] == ["=danger", "-minus"]


def test_quoting_of_commas_quotes_newlines_and_unicode(tmp_path: Path) -> None:
    values = ["a,b", 'say "hi"', "line1\nline2", "crlf\r\nend", "émoji 🚩 中文", " spaced ", "\x00nul"]
    callback = open_callback(tmp_path)
    callback.deliver([text_event(text=v) for v in values])
    callback.close()
    assert [r["text"] for r in read_rows(tmp_path / "log.csv")] == values


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(st.text(), min_size=100, max_size=100))
def test_ten_thousand_random_strings_round_trip(tmp_path_factory: pytest.TempPathFactory, batch: list[str]) -> None:
    directory = tmp_path_factory.mktemp("roundtrip")
    callback = open_callback(directory, ("text", "other"))
    events = [
        FlagEvent(fields=(FieldValue(name="text", value=s), FieldValue(name="other", value=s[::-1]))) for s in batch
    ]
    callback.deliver(events)
    callback.close()
    rows = read_rows(directory / "log.csv")
    assert [r["text"] for r in rows] == batch
    assert [r["other"] for r in rows] == [s[::-1] for s in batch]
    assert [r["id"] for r in rows] == [e.id for e in events]


def test_threads_never_interleave_rows(tmp_path: Path, plugins: PluginHost) -> None:
    threads, per_thread = 8, 500
    errors: list[BaseException] = []
    with Flagger(
        dir=tmp_path,
        plugins=plugins,
        fields=[FieldSpec("worker", kind="number"), FieldSpec("n", kind="number"), FieldSpec("text")],
    ) as flagger:

        def work(worker: int) -> None:
            try:
                for n in range(per_thread):
                    flagger.flag({"worker": worker, "n": n, "text": f'w{worker},"n"\n{n}'})
            except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
                errors.append(exc)

        pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
    assert errors == []
    rows = read_rows(tmp_path / "log.csv")
    assert len(rows) == threads * per_thread
    assert all(len(r) == 7 for r in rows)
    for worker in range(threads):
        mine = [int(r["n"]) for r in rows if r["worker"] == str(worker)]
        assert mine == list(range(per_thread))
    assert all(r["text"] == f'w{r["worker"]},"n"\n{r["n"]}' for r in rows)
    assert len({r["id"] for r in rows}) == threads * per_thread


def test_replayed_batch_adds_no_duplicate_rows(tmp_path: Path) -> None:
    events = [text_event(text=str(n)) for n in range(5)]
    callback = open_callback(tmp_path)
    callback.deliver(events[:3])
    callback.deliver(events)  # a replay after a crash offers some events again
    callback.close()
    again = open_callback(tmp_path)  # a restart reads the ids already in the file
    again.deliver(events)
    again.close()
    assert [r["text"] for r in read_rows(tmp_path / "log.csv")] == ["0", "1", "2", "3", "4"]


def test_a_torn_last_row_is_closed_before_appending(tmp_path: Path) -> None:
    callback = open_callback(tmp_path)
    callback.deliver([text_event(text="whole")])
    callback.close()
    with (tmp_path / "log.csv").open("ab") as handle:
        handle.write(b"torn,partial")  # a crash cut this row short
    again = open_callback(tmp_path)
    again.deliver([text_event(text="next")])
    again.close()
    rows = read_rows(tmp_path / "log.csv")
    assert rows[0]["text"] == "whole"
    assert rows[-1]["text"] == "next"


def test_settings_file_name_extra_columns_and_no_id(tmp_path: Path) -> None:
    callback = open_callback(
        tmp_path, ("text",), file_name="flags.csv", extra_columns=["comment", "app"], id_column=False
    )
    event = FlagEvent(fields=(FieldValue(name="text", value="x"),), comment="=bad idea", app="calc", option="o")
    callback.deliver([event])
    callback.close()
    rows = read_rows(tmp_path / "flags.csv")
    assert rows == [
        {
            "text": "x",
            "flag": "o",
            "username": "",
            "timestamp": event.created_at.isoformat(),
            "comment": "=bad idea",
            "app": "calc",
        }
    ]


@pytest.mark.parametrize("bad", ["../log.csv", "sub/log.csv", "log.txt", "", ".."])
def test_file_name_must_be_a_plain_csv_name(bad: str) -> None:
    with pytest.raises(ValidationError, match="file_name"):
        CSVSettings(file_name=bad)


def test_settings_reject_unknown_keys() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        CSVSettings.model_validate({"filename": "x.csv"})


def test_files_are_written_as_relative_paths(tmp_path: Path, plugins: PluginHost) -> None:
    with Flagger(dir=tmp_path, plugins=plugins) as flagger:
        flagger.flag({"image": b"\x89PNG\r\n\x1a\nxx"})
    (row,) = read_rows(tmp_path / "log.csv")
    assert row["image"].startswith("image/") and row["image"].endswith("/image.png")
    assert (tmp_path / row["image"]).is_file()


def test_deliver_before_setup_is_a_permanent_error() -> None:
    from flagpipe import PermanentError

    with pytest.raises(PermanentError, match="before setup"):
        CSVCallback(CSVSettings()).deliver([text_event(text="x")])


def test_recent_ids_stay_bounded() -> None:
    from flagpipe.plugins.csv import RecentIds

    ids = RecentIds(limit=3)
    for n in range(10):
        ids.add(str(n))
    ids.add("9")
    assert len(ids) == 3
    assert [str(n) in ids for n in range(10)] == [False] * 7 + [True] * 3


def test_extra_columns_are_the_extra_columns_of_the_meta_table() -> None:
    from typing import get_args

    from flagpipe.core.columns import CSV_EXTRAS, names
    from flagpipe.plugins.csv import ExtraColumn

    assert get_args(ExtraColumn) == names(CSV_EXTRAS, csv=True)
