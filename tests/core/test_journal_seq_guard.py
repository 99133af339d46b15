"""Event numbers are never given twice, though ``events.seq`` counts without ``AUTOINCREMENT``."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from typing import TYPE_CHECKING

from tests.core.test_journal import backdate
from tests.csv_log import read_rows

from flagpipe import Flagger
from flagpipe.core.event import FieldValue, FlagEvent
from flagpipe.core.journal import JOURNAL_PATH, Journal

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe.core.host import PluginHost


def event(n: int) -> FlagEvent:
    return FlagEvent(fields=(FieldValue(name="n", value=n),))


def test_after_purging_every_event_a_new_flag_takes_a_new_number_and_is_delivered(
    tmp_path: Path, plugins: PluginHost
) -> None:
    config = {"dir": str(tmp_path), "delivery": {"mode": "inline"}}
    with Flagger(config, plugins=plugins) as flagger:
        for n in range(3):
            flagger.flag({"n": n})
    backdate(tmp_path, 40)
    with Flagger(config, plugins=plugins) as flagger:
        assert flagger.purge(timedelta(days=30)).events == 3
        assert flagger.journal is not None and flagger.journal.max_seq() == 0  # the table is empty
        receipt = flagger.flag({"n": 3})
        assert receipt.delivered == ("csv",)  # the csv lane had passed 3: a reused number would be skipped
        (seq, _), *_ = flagger.journal.iter_events()
    assert seq == 4
    assert [row["n"] for row in read_rows(tmp_path / "log.csv")] == ["0", "1", "2", "3"]


def test_a_purge_that_keeps_the_newest_event_changes_nothing(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    try:
        seqs = [journal.append(event(n)) for n in range(4)]
        journal.purge(seqs[:2])
        assert journal.append(event(4)) == seqs[-1] + 1
    finally:
        journal.close()


def test_grouped_inserts_take_consecutive_numbers_above_the_purged_ones(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    try:
        seqs = [journal.append(event(n)) for n in range(5)]
        journal.purge(seqs)
        rows = [(e, e.model_dump_json(), []) for e in map(event, range(5, 12))]
        assert journal._write_rows(rows) == list(range(6, 13))  # one INSERT for the whole group
        with_files = [(e, e.model_dump_json(), ["files/x.png"]) for e in map(event, range(12, 14))]
        assert journal._write_rows(with_files) == [13, 14]  # the transaction path, one INSERT each
        assert [e.field("n").value for _, e in journal.iter_events()] == list(range(5, 14))
    finally:
        journal.close()


def test_a_journal_that_counted_with_autoincrement_keeps_its_numbers(tmp_path: Path) -> None:
    """Journals written before ``seq_guard``: their ``sqlite_sequence`` is carried over."""
    path = tmp_path / JOURNAL_PATH
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
        " created_at TEXT NOT NULL, body TEXT NOT NULL)"
    )
    first = event(0)
    db.execute(
        "INSERT INTO events (seq, id, created_at, body) VALUES (7, ?, ?, ?)",
        (first.id, first.created_at.isoformat(), first.model_dump_json()),
    )
    db.execute("UPDATE sqlite_sequence SET seq = 41 WHERE name = 'events'")  # 8 to 41 were purged
    db.commit()
    db.close()
    journal = Journal(tmp_path)
    try:
        assert journal.append(event(1)) == 42
        assert [seq for seq, _ in journal.iter_events()] == [7, 42]
    finally:
        journal.close()
    journal = Journal(tmp_path)  # opening again adopts nothing new and changes nothing
    try:
        assert journal.append(event(2)) == 43
    finally:
        journal.close()
