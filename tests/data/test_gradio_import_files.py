"""``import-gradio`` takes in only files inside the imported folder; cells naming others stay text.

A crafted ``log.csv`` whose cells all name existing files is otherwise read as a file column, and
those files would be copied into the flagging directory and on to every sink.
"""

from __future__ import annotations

import csv
import json
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flagpipe.config.loader import load_config
from flagpipe.data.csv_cells import file_inside
from flagpipe.data.gradio_import import import_gradio

if TYPE_CHECKING:
    from pathlib import Path

SECRET = "TOP-SECRET-CONTENT-42"


def _gradio(folder: Path, cells: list[str], *, header: str = "img") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "log.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([header, "flag", "username", "timestamp"])
        for n, cell in enumerate(cells):
            writer.writerow([cell, "", "", f"2024-01-01 10:00:{n:02d}"])
    return folder


def _import(tmp_path: Path, folder: Path, fields: str = "") -> tuple[list[str], list[dict[str, object]], Path]:
    flagged = tmp_path / "flagged"
    loaded = load_config(data={"dir": str(flagged), "callbacks": ["csv"], **json.loads(fields or "{}")})
    report = import_gradio(folder, loaded)
    events = [json.loads(line) for line in _events(flagged)]
    return report.warnings, events, flagged


def _events(flagged: Path) -> list[str]:
    from flagpipe.core.journal import Journal

    journal = Journal(flagged)
    try:
        return [event.model_dump_json() for _, event in journal.iter_events()]
    finally:
        journal.close()


def _copied_secret(flagged: Path) -> bool:
    return any(
        SECRET in p.read_text(errors="replace") for p in flagged.rglob("*") if p.is_file() and p.suffix != ".sqlite3"
    )


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "private" / "passwd"
    secret.parent.mkdir()
    secret.write_text(SECRET, encoding="utf-8")
    return secret


def _variants(folder: Path, outside: Path) -> list[str]:
    """Ways to name a file outside ``folder``: absolute, climbing ``..``, FileData JSON, a symlink inside."""
    link = folder / "innocent.png"
    folder.mkdir(parents=True, exist_ok=True)
    link.symlink_to(outside)
    climb = "../" * 12 + str(outside).lstrip("/")
    return [str(outside), climb, json.dumps({"path": str(outside)}), str(link), "innocent.png"]


def test_cells_naming_files_outside_the_folder_stay_text(tmp_path: Path, outside: Path) -> None:
    folder = tmp_path / "gradio"
    cells = _variants(folder, outside)
    warnings, events, flagged = _import(tmp_path, _gradio(folder, cells))
    assert len(events) == len(cells)
    for event, cell in zip(events, cells, strict=True):
        (field,) = event["fields"]
        assert field["file"] is None and field["value"] == cell
    assert len([w for w in warnings if "a file outside" in w and "kept as text" in w]) == len(cells)
    assert not _copied_secret(flagged)


def test_a_declared_file_field_is_stored_without_an_outside_file(tmp_path: Path, outside: Path) -> None:
    folder = tmp_path / "gradio"
    cells = _variants(folder, outside)
    fields = json.dumps({"fields": [{"name": "img", "kind": "file"}]})
    warnings, events, flagged = _import(tmp_path, _gradio(folder, cells), fields)
    assert all(e["fields"][0]["file"] is None for e in events)
    assert all("a file outside" in w and "not imported" in w for w in warnings)
    assert not _copied_secret(flagged)


def test_files_inside_the_folder_are_imported(tmp_path: Path) -> None:
    folder = tmp_path / "gradio"
    (folder / "img" / "a1").mkdir(parents=True)
    (folder / "img" / "a1" / "x.txt").write_text("inside", encoding="utf-8")
    (folder / "img" / "link.txt").symlink_to(folder / "img" / "a1" / "x.txt")  # a link that stays inside
    cells = ["img/a1/x.txt", "flagged/img/a1/x.txt", str(folder / "img" / "a1" / "x.txt"), "img/link.txt"]
    warnings, events, _ = _import(tmp_path, _gradio(folder, cells))
    assert warnings == []
    assert all(e["fields"][0]["file"] is not None for e in events)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["..", ".", "private", "passwd", "gradio", "x"]), min_size=1, max_size=8))
def test_no_relative_path_reaches_outside(tmp_path: Path, outside: Path, parts: list[str]) -> None:
    folder = tmp_path / "gradio"
    folder.mkdir(exist_ok=True)
    found, _ = file_inside("/".join(parts), folder)
    assert found is None or found.is_relative_to(folder.resolve())
