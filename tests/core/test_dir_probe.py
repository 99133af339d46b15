"""``directory_problem``: what would stop ``flag`` from keeping flags in a directory, found beforehand."""

from __future__ import annotations

import os
import pwd
import tempfile
from pathlib import Path

import pytest

from flagpipe.core.dir_probe import directory_problem


def test_a_new_or_existing_folder_is_usable(tmp_path: Path) -> None:
    assert directory_problem(tmp_path / "a" / "b" / "c") is None
    assert directory_problem(tmp_path) is None
    assert list(tmp_path.iterdir()) == []  # the probe leaves nothing behind


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.write_text("x"), "is a file, not a folder"),
        (lambda p: (p.mkdir(), (p / ".flagpipe").write_text("x")), ".flagpipe is a file, not a folder"),
        (lambda p: (p.mkdir(), (p / ".flagpipe" / "journal.sqlite3").mkdir(parents=True)), "not a journal file"),
        (lambda p: p.with_name("parent").write_text("x"), "is a file, not a folder, so"),
        (lambda p: p.symlink_to(p.with_name("nowhere")), "broken symbolic link"),
    ],
)
def test_files_where_folders_belong(tmp_path: Path, make, expected: str) -> None:
    target = tmp_path / "flags"
    make(target)
    where = tmp_path / "parent" / "flags" if "so" in expected else target
    problem = directory_problem(where)
    assert problem is not None and expected in problem


@pytest.mark.parametrize("path", ["/dev/null", "/dev/null/flags", "/proc", "/proc/flags/here", "/sys/flags"])
def test_devices_and_pseudo_file_systems(path: str) -> None:
    if not Path(path.split("/")[1] and "/" + path.split("/")[1]).exists():
        pytest.skip(f"no {path} on this system")
    assert directory_problem(path) is not None


def _as_nobody(path: Path) -> str:
    """Run the probe in a forked child as the user ``nobody`` (root would bypass the permission bits).

    A fork, not a new interpreter: the interpreter's own files may not be readable by ``nobody``.
    """
    nobody = pwd.getpwnam("nobody")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop privileges, probe, report, exit at once
        try:
            os.close(read)
            if os.geteuid() == 0:
                os.setgid(nobody.pw_gid)
                os.setuid(nobody.pw_uid)
            os.write(write, str(directory_problem(path)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        answer = pipe.read().decode()
    os.waitpid(pid, 0)
    return answer


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_a_read_only_folder_or_journal_is_unusable() -> None:
    """Permission bits bind only an unprivileged user: as root, the probe runs as ``nobody``."""
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user nobody to drop privileges to")
    base = Path(tempfile.mkdtemp())
    try:
        base.chmod(0o755)
        locked = base / "locked"
        (locked / ".flagpipe").mkdir(parents=True)
        (locked / ".flagpipe" / "journal.sqlite3").write_bytes(b"")
        for path in (locked, locked / ".flagpipe", locked / ".flagpipe" / "journal.sqlite3"):
            path.chmod(0o555 if path.is_dir() else 0o444)
        assert "cannot write in" in _as_nobody(locked)
        assert "cannot write in" in _as_nobody(locked / "new" / "flags")
        (locked / ".flagpipe").chmod(0o777)
        assert "cannot open the journal" in _as_nobody(locked)
        (locked / ".flagpipe" / "journal.sqlite3").chmod(0o666)
        assert _as_nobody(locked) == "None"
    finally:
        for path in sorted(base.rglob("*"), reverse=True):
            path.chmod(0o700) if path.is_dir() else path.unlink()
        for path in sorted(base.rglob("*"), reverse=True):
            path.rmdir()
        base.rmdir()
