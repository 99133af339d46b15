"""Four replicas flag into one table while one is SIGKILLed and restarted and connections are cut.

Each replica has its own flagging dir and journal. The database must end with exactly the flags the
journals hold (4 x 1,000), no id twice, and every flag whose ``flag()`` returned.
"""

from __future__ import annotations

import signal
import subprocess
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from tests.plugins.replica import start_replica

from flagpipe.core.journal import Journal

from .conftest import Database, require_server, unique

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = pytest.mark.slow

PER_REPLICA = 1000
REPLICAS = 4


def start(directory: Path, worker: str, settings: dict[str, object]) -> subprocess.Popen[str]:
    return start_replica(directory, PER_REPLICA, worker, {"type": "sql", **settings}, {"batch_size": 50})


def journal_ids(directory: Path) -> list[str]:
    journal = Journal(directory)
    try:
        return [event.id for _, event in journal.iter_events()]
    finally:
        journal.close()


def run_replicas(tmp_path: Path, settings: dict[str, object], cut: Callable[[], int], count: Callable[[], int]) -> None:
    dirs = [tmp_path / f"replica{n}" for n in range(REPLICAS)]
    processes = [start(d, f"r{n}", settings) for n, d in enumerate(dirs)]
    acknowledged: list[str] = []
    # replica 0 is killed once it has flagged a third of its share, then started again on the same dir
    victim = processes[0]
    assert victim.stdout is not None
    for _ in range(PER_REPLICA // 3):
        line = victim.stdout.readline()
        assert len(line.strip()) == 36, line + (victim.stderr.read() if victim.stderr else "")
        acknowledged.append(line.strip())
    victim.send_signal(signal.SIGKILL)
    rest, _ = victim.communicate(timeout=60)
    acknowledged += [line for line in rest.splitlines() if len(line) == 36]
    processes[0] = start(dirs[0], "r0", settings)
    # meanwhile, the database drops every connection of the replicas, a few times
    stop = threading.Event()
    cuts: list[int] = []

    def cutter() -> None:
        # look often until the first cut (on a busy machine the replicas' sessions may be short), then
        # cut every 0.7 s
        while not stop.wait(0.7 if sum(cuts) else 0.02):
            if count() > 0:
                cuts.append(cut())

    thread = threading.Thread(target=cutter, daemon=True)
    thread.start()
    try:
        for process in processes:
            out, err = process.communicate(timeout=900)
            assert process.returncode == 0, err[-3000:]
            assert out.rstrip().endswith("DONE"), err[-3000:]
            acknowledged += [line for line in out.splitlines() if len(line) == 36]
    finally:
        stop.set()
        thread.join()
    assert sum(cuts) > 0, "no database connection was cut during the run"
    journaled = [i for d in dirs for i in journal_ids(d)]
    assert len(journaled) == REPLICAS * PER_REPLICA


def check_table(database: Database, tmp_path: Path) -> None:
    stored = database.ids()
    journaled = {i for n in range(REPLICAS) for i in journal_ids(tmp_path / f"replica{n}")}
    assert len(stored) == REPLICAS * PER_REPLICA
    assert len(set(stored)) == len(stored), "an id is stored twice"
    assert set(stored) == journaled


@pytest.fixture
def pg_replicas() -> Iterator[Database]:
    url = require_server("postgresql")
    schema, app_name = unique("fp_test_"), unique("fp_replica_")
    admin = sa.create_engine(url, poolclass=sa.NullPool)
    settings = {"url": url, "schema": schema, "application_name": app_name, "batch_size": 50}
    database = Database("postgresql", url, settings, admin)
    try:
        yield database
    finally:
        database.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def maria_replicas() -> Iterator[Database]:
    url = require_server("mysql")
    name = unique("fp_test_")
    with sa.create_engine(url, poolclass=sa.NullPool).begin() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    own = sa.make_url(url).set(database=name).render_as_string(hide_password=False)
    admin = sa.create_engine(own, poolclass=sa.NullPool)
    database = Database("mysql", own, {"url": own, "batch_size": 50}, admin)
    try:
        yield database
    finally:
        database.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.dispose()


def test_four_replicas_into_postgres(pg_replicas: Database, tmp_path: Path) -> None:
    db = pg_replicas
    name = db.settings["application_name"]
    sessions = "FROM pg_stat_activity WHERE application_name = :name"

    def cut() -> int:
        return len(db.execute(f"SELECT pg_terminate_backend(pid) {sessions}", name=name))

    def count() -> int:
        return len(db.execute(f"SELECT pid {sessions}", name=name))

    run_replicas(tmp_path, db.settings, cut, count)
    check_table(db, tmp_path)


def test_four_replicas_into_mariadb(maria_replicas: Database, tmp_path: Path) -> None:
    db = maria_replicas
    name = sa.make_url(db.url).database
    sessions = "SELECT ID FROM information_schema.PROCESSLIST WHERE DB = :name AND ID <> CONNECTION_ID()"

    def cut() -> int:
        killed = 0
        for (session,) in db.execute(sessions, name=name):
            try:
                db.execute(f"KILL CONNECTION {int(session)}")
                killed += 1
            except sa.exc.DBAPIError:
                pass  # gone meanwhile
        return killed

    def count() -> int:
        return len(db.execute(sessions, name=name))

    run_replicas(tmp_path, db.settings, cut, count)
    check_table(db, tmp_path)
