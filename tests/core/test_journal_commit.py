"""Group commit: concurrent appends share commits, each thread gets its own result, a bad item fails alone."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest

from flagpipe.core.event import FieldValue, FlagEvent
from flagpipe.core.journal import Journal
from flagpipe.core.journal_commit import GroupCommit

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path


def event(worker: int, n: int) -> FlagEvent:
    return FlagEvent(fields=(FieldValue(name="worker", value=worker), FieldValue(name="n", value=n)))


def test_eight_threads_appending_at_once_store_every_event_once_in_each_threads_order(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    results: dict[int, list[tuple[int, str]]] = {w: [] for w in range(8)}
    barrier = threading.Barrier(8)

    def work(worker: int) -> None:
        barrier.wait()
        for n in range(150):
            flag = event(worker, n)
            results[worker].append((journal.append(flag), flag.id))

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        stored = {e.id: (seq, e) for seq, e in journal.iter_events()}
        events, commits = journal.commit_groups
    finally:
        journal.close()
    assert len(stored) == 8 * 150
    for worker, appended in results.items():
        seqs = [seq for seq, _ in appended]
        assert seqs == sorted(seqs), "a thread's flags keep their order"
        for n, (seq, event_id) in enumerate(appended):
            assert stored[event_id][0] == seq  # the sequence number returned is the one stored
            assert [f.value for f in stored[event_id][1].fields] == [worker, n]
    assert events == 8 * 150
    assert 1 <= commits <= events


def test_a_bad_item_in_a_group_fails_alone_and_the_others_are_stored() -> None:
    entered, release = threading.Event(), threading.Event()
    written: list[list[str]] = []

    def write(items: Sequence[str]) -> list[int]:
        if items == ["first"]:
            entered.set()
            release.wait(10)  # hold the leader's commit while the others queue up behind it
        if "bad" in items:
            if len(items) > 1:
                written.append(["group refused", *items])
            raise ValueError("bad item")
        written.append(list(items))
        return [len(i) for i in items]

    commit: GroupCommit[str] = GroupCommit(write)
    outcome: dict[str, object] = {}

    def submit(item: str) -> None:
        try:
            outcome[item] = commit.submit(item)
        except ValueError as exc:
            outcome[item] = exc

    leader = threading.Thread(target=submit, args=("first",))
    leader.start()
    assert entered.wait(10)
    followers = [threading.Thread(target=submit, args=(item,)) for item in ("ok", "bad", "fine!")]
    for thread in followers:
        thread.start()
    while commit.queued < 3:  # all three wait behind the leader's commit
        threading.Event().wait(0.001)
    release.set()
    for thread in [leader, *followers]:
        thread.join(10)
    assert outcome["first"] == 5 and outcome["ok"] == 2 and outcome["fine!"] == 5
    assert isinstance(outcome["bad"], ValueError)
    assert written[0] == ["first"]
    assert written[1][0] == "group refused" and sorted(written[1][1:]) == ["bad", "fine!", "ok"]
    assert sorted(map(tuple, written[2:])) == [("fine!",), ("ok",)]


def test_a_lone_thread_error_reaches_it() -> None:
    def write(items: Sequence[str]) -> list[int]:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        GroupCommit(write).submit("x")


def test_a_group_without_files_is_inserted_by_one_statement_with_each_events_own_sequence_number(
    tmp_path: Path,
) -> None:
    journal = Journal(tmp_path)
    statements: list[str] = []
    try:
        first = journal.append(event(0, 0))
        events = [event(1, n) for n in range(5)]
        journal._db.set_trace_callback(statements.append)
        seqs = journal._write_rows([(e, e.model_dump_json(), []) for e in events])
        journal._db.set_trace_callback(None)
        stored = {e.id: seq for seq, e in journal.iter_events()}
    finally:
        journal.close()
    assert seqs == [stored[e.id] for e in events] == list(range(first + 1, first + 6))
    assert len(statements) == 1 and statements[0].startswith("INSERT INTO events")
