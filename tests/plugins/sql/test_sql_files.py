"""Files of flags in the three modes: a reference, inline blobs (deduplicated, capped), an fsspec folder."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

import flagpipe
from flagpipe import FieldSpec, FieldValue, FileRef, FlagEvent, FlagSchema
from flagpipe.plugins.sql import SQLCallback, SQLSettings
from flagpipe.plugins.sql.files import open_file
from flagpipe.plugins.sql.read import read_events

if TYPE_CHECKING:
    from pathlib import Path

    from .conftest import Database

SCHEMA = FlagSchema.of([FieldSpec("image", kind="image"), FieldSpec("label")])


def file_event(directory: Path, name: str, content: bytes) -> FlagEvent:
    (directory / "files").mkdir(parents=True, exist_ok=True)
    (directory / "files" / name).write_bytes(content)
    ref = FileRef(
        path=f"files/{name}",
        original_name=name,
        media_type="image/png",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    return FlagEvent(fields=(FieldValue(name="image", kind="image", file=ref), FieldValue(name="label", value=name)))


def deliver(database: Database, directory: Path, events: list[FlagEvent], **settings: object) -> None:
    callback = SQLCallback(SQLSettings.model_validate({**database.settings, **settings}))
    callback.setup(SCHEMA, directory)
    try:
        callback.deliver(events)
    finally:
        callback.close()


def stored_files(database: Database) -> list[dict[str, object]]:
    flags = database.table()
    with database.admin.connect() as conn:
        rows = conn.execute(sa.select(flags.c.fields).order_by(flags.c.created_at, flags.c.id)).all()
    # MariaDB's JSON is LONGTEXT: a reflected table reads it back as text
    return [(json.loads(row[0]) if isinstance(row[0], str) else row[0])[0]["file"] for row in rows]


@pytest.fixture
def directory(database: Database, tmp_path: Path) -> Path:
    return database.directory or tmp_path / "flagged"


def test_reference_keeps_path_and_digest(database: Database, directory: Path, tmp_path: Path) -> None:
    event = file_event(directory, "a.png", b"\x89PNG one")
    deliver(database, directory, [event])
    (stored,) = stored_files(database)
    assert stored["storage"] == "reference"
    assert stored["location"] is None
    assert {k: stored[k] for k in ("path", "original_name", "media_type", "size", "sha256")} == event.fields[
        0
    ].file.model_dump()  # type: ignore[union-attr]
    kwargs = {"table_prefix": database.prefix, "schema": database.schema, "directory": directory}
    assert read_events(database.url, **kwargs) == [event]  # type: ignore[arg-type]


def test_inline_stores_each_content_once_and_caps_the_size(database: Database, directory: Path) -> None:
    same = b"\x89PNG same bytes"
    events = [
        file_event(directory, "a.png", same),
        file_event(directory, "b.png", same),
        file_event(directory, "big.png", b"x" * 100),
    ]
    deliver(database, directory, events[:2], files="inline", inline_max_bytes=50)
    deliver(database, directory, events, files="inline", inline_max_bytes=50)  # a replay, plus one more
    assert [f["storage"] for f in stored_files(database)] == ["inline", "inline", "reference"]
    blobs = database.table("blobs")
    with database.admin.connect() as conn:
        rows = conn.execute(sa.select(blobs.c.sha256, blobs.c.size, blobs.c.content_type, blobs.c.content)).all()
    assert [tuple(r) for r in rows] == [(hashlib.sha256(same).hexdigest(), len(same), "image/png", same)]


def test_a_missing_file_rejects_the_batch(database: Database, directory: Path) -> None:
    event = file_event(directory, "gone.png", b"soon gone")
    (directory / "files" / "gone.png").unlink()
    with pytest.raises(flagpipe.PermanentError, match=r"files/gone\.png"):
        deliver(database, directory, [event], files="inline")


def test_url_mode_uploads_by_content_address_before_the_row(
    database: Database, directory: Path, tmp_path: Path
) -> None:
    bucket = tmp_path / "bucket"
    content = b"\x89PNG uploaded"
    digest = hashlib.sha256(content).hexdigest()
    events = [file_event(directory, "a.png", content), file_event(directory, "again.png", content)]
    deliver(database, directory, events, files=f"file://{bucket}/flags/")
    uploaded = sorted(p.relative_to(bucket).as_posix() for p in bucket.rglob("*") if p.is_file())
    assert uploaded == [f"flags/{digest[:2]}/{digest}.png"]
    locations = [f["location"] for f in stored_files(database)]
    assert locations == [f"file://{bucket}/flags/{digest[:2]}/{digest}.png"] * 2
    assert open_file(str(locations[0])) == content
