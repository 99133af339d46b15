"""Damaged, vanished and read-only journals: clear errors, nothing accepted into a lost file, reads still work."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

import flagpipe
from flagpipe import Flagger, FlagNotStoredError
from flagpipe.cli import cli
from flagpipe.core.journal import JOURNAL_PATH, Journal, JournalDamagedError

if TYPE_CHECKING:
    from collections.abc import Iterator

PAGE = 4096


def filled(directory: Path, count: int = 400) -> list[str]:
    """A flagging dir whose journal spans many pages; every flag delivered; the WAL checkpointed."""
    with Flagger({"dir": str(directory), "callbacks": ["csv"], "delivery": {"mode": "inline"}}) as flagger:
        ids = [flagger.flag({"n": n, "text": f"sample {n} " + "x" * 300}).id for n in range(count)]
    return ids


def corrupt(path: Path, pages: range, pattern: bytes = b"\xde\xad\xbe\xef") -> None:
    with path.open("r+b") as handle:
        for page in pages:
            handle.seek(page * PAGE)
            handle.write(pattern * (PAGE // len(pattern)))


@pytest.mark.parametrize("where", ["middle", "second page", "garbage header"])
def test_a_damaged_journal_is_a_clear_error_that_says_what_to_do(tmp_path: Path, where: str) -> None:
    filled(tmp_path)
    path = tmp_path / JOURNAL_PATH
    pages = path.stat().st_size // PAGE
    if where == "middle":
        corrupt(path, range(pages // 2, pages // 2 + 2))
    elif where == "second page":
        corrupt(path, range(1, 2))
    else:
        corrupt(path, range(1), pattern=b"not a db")
    with pytest.raises(JournalDamagedError, match=r"journal .* is damaged .*flagpipe doctor"):
        Flagger({"dir": str(tmp_path), "callbacks": ["csv"]})
    for args in (["show"], ["status"], ["stats"], ["export", "-o", str(tmp_path / "out.csv")]):
        result = CliRunner().invoke(cli, [*args, "-c", _config(tmp_path)])
        assert result.exit_code == 1, (args, result.output)
        assert "is damaged" in result.output and "flagpipe doctor" in result.output
        assert "Traceback" not in result.output
    with pytest.raises(JournalDamagedError):
        flagpipe.read_flags(tmp_path)


def _config(directory: Path) -> str:
    config = directory / "flagging.yaml"
    config.write_text(f"dir: {directory}\ncallbacks: [csv]\n", encoding="utf-8")
    return str(config)


@pytest.mark.parametrize("how", ["deleted", "replaced", "directory deleted"])
@pytest.mark.parametrize("mode", ["inline", "background"])
def test_a_journal_deleted_or_replaced_under_a_running_flagger_is_noticed(tmp_path: Path, how: str, mode: str) -> None:
    directory = tmp_path / "flagged"
    flagger = Flagger({"dir": str(directory), "callbacks": ["csv"], "delivery": {"mode": mode}})
    try:
        assert flagger.flag({"n": 1}).stored
        path = directory / JOURNAL_PATH
        if how == "deleted":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        elif how == "replaced":
            _fresh_journal(tmp_path).replace(path)
        else:  # a background worker may be writing its CSV meanwhile: what it leaves does not matter
            shutil.rmtree(directory, ignore_errors=True)
            assert not path.exists()
        for _ in range(3):  # every later flag is refused, none is silently accepted
            with pytest.raises(FlagNotStoredError, match=r"was deleted or replaced .* Restart the process"):
                flagger.flag({"n": 2})
    finally:
        flagger.close()


def _fresh_journal(tmp_path: Path) -> Path:
    other = tmp_path / "other"
    Journal(other).close()
    return other / JOURNAL_PATH


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder under /tmp that an unprivileged user can reach (pytest's tmp_path is root-only)."""
    folder = Path(tempfile.mkdtemp(prefix="flagpipe-ro-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for root, dirs, _ in os.walk(folder):
            for name in dirs:
                (Path(root) / name).chmod(0o755)
        shutil.rmtree(folder)


#: Runs as root until every module is imported (the interpreter lives under a root-only folder), then
#: drops to ``nobody`` and reads the read-only flagging dir as an unprivileged user would.
AS_NOBODY = """
import json, os, sys
from click.testing import CliRunner
import flagpipe
from flagpipe.cli import cli

def attempt(directory, work):
    config = os.path.join(work, "flagging.yaml")
    with open(config, "w") as handle:
        handle.write(f"dir: {directory}\\ncallbacks: [csv]\\n")
    out = {}
    for name, args in {
        "show": ["show", "-n", "3", "--json"],
        "status": ["status", "--json"],
        "stats": ["stats", "--json"],
        "export": ["export", "-o", os.path.join(work, "out.csv"), "--json"],
    }.items():
        result = CliRunner().invoke(cli, [*args, "-c", config])
        out[name] = [result.exit_code, result.output]
    frame = flagpipe.read_flags(directory)
    out["read_flags"] = [len(frame), str(frame["id"].iloc[0])]
    try:
        flagpipe.Flagger(dir=directory, callbacks=["csv"])
        out["flagger"] = "opened"
    except flagpipe.JournalError as exc:
        out["flagger"] = str(exc)
    return out

real, warm, work = sys.argv[1:4]
attempt(warm, warm)  # as root, on a writable copy: imports every module the commands use
os.setgroups([])
os.setgid(65534)
os.setuid(65534)
print(json.dumps(attempt(real, work)))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to an unprivileged user")
def test_a_read_only_journal_is_still_readable(shared_tmp: Path) -> None:
    directory = shared_tmp / "flagged"
    ids = filled(directory, count=30)
    warm = shared_tmp / "warm"
    shutil.copytree(directory, warm)
    work = shared_tmp / "work"
    work.mkdir()
    shutil.chown(work, 65534, 65534)
    (directory / JOURNAL_PATH).chmod(0o444)
    (directory / JOURNAL_PATH).parent.chmod(0o555)
    directory.chmod(0o555)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAGPIPE_")}
    env["XDG_CACHE_HOME"] = str(work / "cache")
    done = subprocess.run(
        [sys.executable, "-c", AS_NOBODY, str(directory), str(warm), str(work)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout.splitlines()[-1])
    for name in ("show", "status", "stats", "export"):
        code, output = results[name]
        assert code == 0, (name, output)
        json.loads(output)
    assert len((work / "out.csv").read_text(encoding="utf-8").splitlines()) == 1 + 30
    assert results["read_flags"] == [30, ids[0]]
    # flagging into it is refused clearly, before anything is accepted
    assert results["flagger"].startswith("cannot open the flag journal")


def test_read_only_open_of_a_journal_in_wal_mode_sees_every_flag(tmp_path: Path) -> None:
    with Flagger({"dir": str(tmp_path), "callbacks": ["csv"], "delivery": {"mode": "inline"}}) as flagger:
        ids = [flagger.flag({"n": n}).id for n in range(5)]
        journal = Journal(tmp_path, read_only=True)  # while the writer still has it open
        try:
            assert [e.id for e in journal.latest(10)] == ids
            with pytest.raises(flagpipe.JournalError, match=r"read-only"):
                journal.requeue()
        finally:
            journal.close()
    with sqlite3.connect(tmp_path / JOURNAL_PATH) as db:
        assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 5
