"""The journal: retention and purge, damaged or locked files, flushing at interpreter exit."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from tests.csv_log import read_rows

from flagpipe import Flagger
from flagpipe.core.journal import JOURNAL_PATH, Journal, JournalError
from flagpipe.core.retention import parse_age

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe.core.host import PluginHost

PNG = b"\x89PNG\r\n\x1a\n"


def backdate(directory: Path, days: float) -> None:
    """Move every stored event ``days`` into the past (as if flagged then)."""
    db = sqlite3.connect(directory / JOURNAL_PATH)
    when = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat()
    db.execute("UPDATE events SET created_at = ?", (when,))
    db.commit()
    db.close()


def test_purge_removes_old_delivered_events_and_only_their_own_files(tmp_path: Path, plugins: PluginHost) -> None:
    config = {"dir": str(tmp_path), "delivery": {"mode": "inline"}}
    with Flagger(config, plugins=plugins) as flagger:
        flagger.flag({"image": PNG + b"shared", "n": 1})
        flagger.flag({"image": PNG + b"old only", "n": 2})
    backdate(tmp_path, 40)
    with Flagger(config, plugins=plugins) as flagger:
        flagger.flag({"image": PNG + b"shared", "n": 3})  # a new event uses the shared file
        dry = flagger.purge(timedelta(days=30), dry_run=True, remove_files=True)
        assert dry.dry_run and dry.events == 2 and len(dry.files) == 1
        assert len(flagger.journal.latest(10)) == 3  # type: ignore[union-attr]
        report = flagger.purge(timedelta(days=30), remove_files=True)
        assert report.events == 2 and report.files == dry.files
        (kept,) = flagger.latest(10)
    assert kept.field("n").value == 3
    shared = kept.field("image").file
    assert shared is not None and (tmp_path / shared.path).is_file()
    assert not (tmp_path / report.files[0]).exists()
    assert len(read_rows(tmp_path / "log.csv")) == 3  # purging the journal never touches the sinks


def test_pending_and_dead_events_are_never_purged(tmp_path: Path, plugins: PluginHost) -> None:
    config = {
        "dir": str(tmp_path),
        "delivery": {"mode": "inline"},
        "callbacks": [{"type": "csv", "file_name": "a.csv"}],
    }
    with Flagger(config, plugins=plugins) as flagger:
        flagger.flag({"image": PNG + b"x"})
    backdate(tmp_path, 400)
    # a second callback joins the chain later: the old event is pending for it
    config["callbacks"] = [{"type": "csv", "file_name": "a.csv"}, {"type": "csv", "name": "late", "file_name": "b.csv"}]
    config["delivery"] = {"mode": "background"}
    config["retention"] = {"max_age_days": 1}
    with Flagger(config, plugins=plugins) as flagger:
        assert len(flagger.latest(5)) == 1
        assert flagger.flush(30)
    assert len(read_rows(tmp_path / "b.csv")) == 1
    with Flagger(config, plugins=plugins) as flagger:  # now delivered everywhere: retention removes it
        assert flagger.latest(5) == []


def test_parse_age() -> None:
    assert parse_age("30d") == timedelta(days=30)
    assert parse_age("1.5h") == timedelta(minutes=90)
    for bad in ["30", "d", "-1d", "xd", "3y"]:
        with pytest.raises(ValueError, match="age"):
            parse_age(bad)


def test_a_damaged_journal_is_a_clear_error_and_not_overwritten(tmp_path: Path, plugins: PluginHost) -> None:
    path = tmp_path / JOURNAL_PATH
    path.parent.mkdir(parents=True)
    garbage = b"this is not a database" * 100
    path.write_bytes(garbage)
    with pytest.raises(
        JournalError, match=r"journal .*journal\.sqlite3 is damaged \(file is not a database\); run `flagpipe doctor`"
    ):
        Flagger({"dir": str(tmp_path)}, plugins=plugins)
    assert path.read_bytes() == garbage


def test_a_locked_journal_is_a_clear_error_and_earlier_flags_stay(tmp_path: Path, plugins: PluginHost) -> None:
    with Flagger({"dir": str(tmp_path), "delivery": {"mode": "inline"}}, plugins=plugins) as flagger:
        flagger.flag({"n": 1})
    journal = Journal(tmp_path, busy_timeout=0.2)
    blocker = sqlite3.connect(tmp_path / JOURNAL_PATH, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        from flagpipe import FlagEvent

        with pytest.raises(JournalError, match=r"cannot store the flag in .*journal\.sqlite3: database is locked"):
            journal.append(FlagEvent())
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert journal.count() == 1
    journal.close()


def test_a_full_disk_is_a_clear_error_and_earlier_flags_stay(tmp_path: Path, plugins: PluginHost) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], check=False, capture_output=True
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {result.stderr.decode().strip()}")
    try:
        config = {"dir": str(mount / "flags"), "delivery": {"mode": "inline"}}
        with Flagger(config, plugins=plugins) as flagger:
            kept = flagger.flag({"n": 0}).id
            with pytest.raises((OSError, JournalError)) as caught:
                for n in range(10_000):
                    flagger.flag({"n": n, "blob": os.urandom(16_000)})
            message = str(caught.value)
            assert "No space left on device" in message or "database or disk is full" in message
        journal = Journal(mount / "flags")
        assert journal.get(kept) is not None
        journal.close()
        assert read_rows(mount / "flags" / "log.csv")[0]["id"] == kept
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def test_interpreter_exit_flushes_pending_flags(tmp_path: Path) -> None:
    script = (
        "from flagpipe import Flagger\n"
        f"flagger = Flagger({{'dir': {str(tmp_path)!r}, 'delivery': {{'grace': 60}}}})\n"
        "for n in range(200):\n"
        "    flagger.flag({'n': n})\n"
        "# no close(): the interpreter exits with work pending\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=120)
    assert [r["n"] for r in read_rows(tmp_path / "log.csv")] == [str(n) for n in range(200)]


def test_purge_keeps_files_by_default_because_sinks_refer_to_them(tmp_path: Path, plugins: PluginHost) -> None:
    config = {"dir": str(tmp_path), "delivery": {"mode": "inline"}}
    with Flagger(config, plugins=plugins) as flagger:
        flagger.flag({"image": PNG + b"kept"})
    backdate(tmp_path, 40)
    with Flagger(config, plugins=plugins) as flagger:
        report = flagger.purge(timedelta(days=30))
        assert report.events == 1 and report.files == ()
        assert flagger.latest(5) == []
    (row,) = read_rows(tmp_path / "log.csv")
    assert (tmp_path / row["image"]).is_file()


@pytest.mark.parametrize(("durability", "synchronous"), [("process", 1), ("fsync", 2)])
def test_durability_sets_how_the_journal_commits(
    tmp_path: Path, plugins: PluginHost, durability: str, synchronous: int
) -> None:
    config = {"dir": str(tmp_path), "delivery": {"mode": "inline", "durability": durability}}
    with Flagger(config, plugins=plugins) as flagger:
        receipt = flagger.flag({"image": PNG + b"durable"})
        journal = flagger.journal
        assert journal is not None
        assert journal._db.execute("PRAGMA synchronous").fetchone()[0] == synchronous  # NORMAL=1, FULL=2
        assert journal.get(receipt.id) is not None


def test_events_after_uses_its_own_recent_events_and_reads_what_others_appended(tmp_path: Path) -> None:
    from flagpipe.core.event import FieldValue, FlagEvent

    def event(n: int) -> FlagEvent:
        return FlagEvent(fields=(FieldValue(name="n", value=n),))

    journal, other = Journal(tmp_path), Journal(tmp_path)
    statements: list[str] = []
    try:
        mine = [journal.append(event(n)) for n in range(3)]
        journal._db.set_trace_callback(statements.append)
        run = journal.events_after(0, 10)
        assert [seq for seq, _ in run] == mine and not statements  # its own run: no read
        theirs = other.append(event(3))  # committed by another connection: a gap in this journal's run
        last = journal.append(event(4))
        after = journal.events_after(mine[-1], 10)
        assert [seq for seq, _ in after] == [theirs, last] and statements  # read from the journal
        assert [e.fields[0].value for _, e in after] == [3, 4]
        assert [seq for seq, _ in journal.events_after(0, 2)] == mine[:2]  # the limit holds
    finally:
        journal._db.set_trace_callback(None)
        other.close()
        journal.close()
