"""``export`` never writes over the journal, the flagging directory's files or a sink's file, and
replaces an existing export only with a whole new one."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from flagpipe.cli import cli
from flagpipe.data.export import export_flags
from flagpipe.data.export_target import check_export_target

from .conftest import build_journal

pytest.importorskip("pyarrow")


@pytest.fixture
def flagged(tmp_path: Path) -> Path:
    return build_journal(tmp_path / "flagged", 12, callbacks=[{"type": "csv"}])


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file() and "-wal" not in p.name}


def _forbidden(flagged: Path, tmp_path: Path) -> list[Path]:
    """Targets that are, or lead to, the journal or a file of the flagging directory."""
    journal = flagged / ".flagpipe" / "journal.sqlite3"
    (tmp_path / "link-to-journal.csv").symlink_to(journal)
    (tmp_path / "link-to-log.csv").symlink_to(flagged / "log.csv")
    (tmp_path / "link-to-dir").symlink_to(flagged)
    os.link(journal, tmp_path / "hard-link-to-journal")
    return [
        journal,
        flagged / ".flagpipe" / "journal.sqlite3-wal",
        flagged / ".flagpipe" / "new-file.csv",
        flagged / "log.csv",
        flagged / "sub" / ".." / "log.csv",
        tmp_path / "link-to-journal.csv",
        tmp_path / "link-to-log.csv",
        tmp_path / "link-to-dir" / "log.csv",
        tmp_path / "link-to-dir" / ".flagpipe" / "journal.sqlite3",
        tmp_path / "hard-link-to-journal",
        flagged,
    ]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_refuses_the_journal_and_the_directory_files(flagged: Path, tmp_path: Path, fmt: str) -> None:
    before = _snapshot(flagged)
    for target in _forbidden(flagged, tmp_path):
        with pytest.raises(ValueError, match=r"refusing to export|is a folder"):
            export_flags(flagged, target, fmt)  # type: ignore[arg-type]
    assert _snapshot(flagged) == before
    assert not list(flagged.rglob("*.partial"))


def test_a_new_file_beside_them_is_fine(flagged: Path, tmp_path: Path) -> None:
    for target in (flagged / "exports" / "flags.csv", tmp_path / "flags.csv"):
        assert export_flags(flagged, target, "csv").count == 12
        assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_sqlite_sink_outside_the_directory_is_protected(tmp_path: Path, flagged: Path) -> None:
    database = tmp_path / "db" / "flags.db"
    database.parent.mkdir()
    database.write_bytes(b"SQLite format 3\x00")
    for path in (database, database.with_name("flags.db-wal")):
        path.touch()
        with pytest.raises(ValueError, match="a callback's file"):
            check_export_target(path, flagged, [database, database.with_name("flags.db-wal")])


def test_the_cli_refuses_with_a_message_and_knows_the_sinks(tmp_path: Path, flagged: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    database = tmp_path / "outside.db"
    (tmp_path / "flagging.yaml").write_text(
        textwrap.dedent(
            f"""\
            dir: flagged
            callbacks:
              - type: csv
              - type: sql
                url: sqlite:///{database}
            """
        ),
        encoding="utf-8",
    )
    database.write_bytes(b"")
    runner = CliRunner()
    for target in ("flagged/.flagpipe/journal.sqlite3", "flagged/log.csv", str(database)):
        result = runner.invoke(cli, ["export", "-o", target], catch_exceptions=False)
        assert result.exit_code == 1 and "refusing to export" in result.output, target
    result = runner.invoke(cli, ["export", "-o", "out.csv"], catch_exceptions=False)
    assert result.exit_code == 0


class _BoomError(Exception):
    pass


class _FailLate:
    """A progress that fails in the middle of writing: the export stops half-way."""

    def __init__(self) -> None:
        self.phase = ""

    def start(self, description: str, total: int) -> None:
        self.phase = description

    def advance(self, steps: int) -> None:
        if self.phase == "exporting" and steps:
            raise _BoomError


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_a_failed_export_leaves_the_old_file_whole(flagged: Path, tmp_path: Path, fmt: str) -> None:
    target = tmp_path / f"flags.{fmt}"
    export_flags(flagged, target, fmt)  # type: ignore[arg-type]
    old = target.read_bytes()
    with pytest.raises(_BoomError):
        export_flags(flagged, target, fmt, batch=5, progress=_FailLate())  # type: ignore[arg-type]
    assert target.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
