"""The file store: a screened store keeps unscreened bytes out of the labels' folders and cleans up after a crash."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

import pytest

from flagpipe.core.files import SCREENING_FOLDER, FileStore, FileWithheldError

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path


def test_a_screened_file_is_stored_or_withheld_and_nothing_is_left_behind(tmp_path: Path) -> None:
    seen: list[tuple[str, Path, str | None]] = []

    def screen(label: str, path: Path, media_type: str | None) -> Mapping[str, int]:
        seen.append((label, path, media_type))
        assert path.parent == tmp_path / SCREENING_FOLDER, "the bytes wait outside the label's folder"
        return {"marker": 1} if b"MARK" in path.read_bytes() else {}

    store = FileStore(tmp_path, max_bytes=1024, screen=screen)
    ref = store.store_bytes("doc", b"plain bytes", original_name="note.txt")
    assert (tmp_path / ref.path).read_bytes() == b"plain bytes"
    with pytest.raises(FileWithheldError) as withheld:
        store.store_bytes("doc", b"MARK here", original_name="marked.txt")
    assert withheld.value.found == {"marker": 1}
    assert "field 'doc'" in str(withheld.value)
    assert [(label, media) for label, _, media in seen] == [("doc", "text/plain"), ("doc", "text/plain")]
    assert not any((tmp_path / SCREENING_FOLDER).iterdir())
    assert not any(b"MARK" in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_a_new_store_removes_what_a_crash_left_in_the_screening_folder(tmp_path: Path) -> None:
    folder = tmp_path / SCREENING_FOLDER
    folder.mkdir(parents=True)
    stale, fresh = folder / ".incoming-old", folder / ".incoming-new"
    stale.write_bytes(b"left by a crash")
    fresh.write_bytes(b"another process is screening it")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    FileStore(tmp_path, max_bytes=1024)  # also a store that no longer screens: the config may have changed
    assert not stale.exists()
    assert fresh.exists()


def test_an_unscreened_store_writes_in_the_labels_folder(tmp_path: Path) -> None:
    ref = FileStore(tmp_path, max_bytes=1024).store_bytes("doc", b"x", original_name="x.txt")
    assert ref.path.startswith("doc/")
    assert not (tmp_path / SCREENING_FOLDER).exists()


def test_a_reference_to_a_stored_file_must_match_it(tmp_path: Path) -> None:
    store = FileStore(tmp_path, max_bytes=1024)
    ref = store.store_bytes("doc", b"flagged bytes", original_name="note.txt")
    store.check_stored("doc", ref)  # the real thing passes
    (tmp_path / ".flagpipe").mkdir()
    (tmp_path / ".flagpipe" / "journal.sqlite3").write_bytes(b"every flag")
    journal = ref.model_copy(update={"path": ".flagpipe/journal.sqlite3"})
    for forged, problem in (
        (journal, "is not in a field's folder"),
        (ref.model_copy(update={"path": "doc/0123/elsewhere.txt"}), "is not a stored file"),
        (ref.model_copy(update={"sha256": "0" * 64}), "does not have the size and SHA-256"),
        (ref.model_copy(update={"size": ref.size + 1}), "does not have the size and SHA-256"),
    ):
        with pytest.raises(ValueError, match=problem) as refused:
            store.check_stored("doc", forged)
        assert "field 'doc'" in str(refused.value)
