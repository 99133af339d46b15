"""Events, settings and read-back helpers shared by the parquet callback's tests."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from flagpipe import FieldValue, FileRef, FlagEvent
from flagpipe.plugins.parquet import ParquetCallback, ParquetSettings
from flagpipe.plugins.parquet.layout import parse_shard_name

if TYPE_CHECKING:
    from pathlib import Path

    from fsspec import AbstractFileSystem

#: A tiny valid PNG (1x1, red), so the datasets library can decode it.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8cfc000000301"
    "0100c9fe92ef0000000049454e44ae426082"
)
DAY = datetime(2026, 11, 30, 12, tzinfo=timezone.utc)


def store_file(directory: Path, path: str, data: bytes, name: str | None = None) -> FileRef:
    """Put ``data`` in the flagging dir and return its reference."""
    (directory / path).parent.mkdir(parents=True, exist_ok=True)
    (directory / path).write_bytes(data)
    return FileRef(path=path, original_name=name, size=len(data), sha256=hashlib.sha256(data).hexdigest())


def text_event(
    n: int, *, option: str | None = "wrong", app: str | None = "demo", when: datetime | None = None
) -> FlagEvent:
    """A flag with a text and a number field."""
    return FlagEvent(
        option=option,
        app=app,
        username="ann",
        comment=f"comment {n}",
        created_at=when or DAY + timedelta(seconds=n),
        metadata={"n": n, "tags": ["a", "b"]},
        fields=(
            FieldValue(name="text", value=f"sample {n}"),
            FieldValue(name="score", kind="number", role="output", value=n / 2),
        ),
    )


def image_event(directory: Path, n: int) -> FlagEvent:
    """A flag with an image (embedded or stored by content) and a PDF (always stored by content)."""
    image = store_file(directory, f"image/{n}/cat.png", PNG, name="cat.png")
    doc = store_file(directory, f"doc/{n}/report.pdf", b"%PDF-1.4 " + bytes([n]))
    return FlagEvent(
        option="wrong",
        created_at=DAY + timedelta(seconds=n),
        fields=(
            FieldValue(name="prompt", value=f"a cat {n}"),
            FieldValue(name="image", kind="image", role="output", file=image),
            FieldValue(name="doc", kind="file", file=doc),
        ),
    )


def open_callback(directory: Path, **settings: Any) -> ParquetCallback:
    """A set-up parquet callback."""
    callback = ParquetCallback(ParquetSettings.model_validate(settings))
    callback.setup(None, directory)  # type: ignore[arg-type]  # the callback does not use the schema
    return callback


def shard_paths(fs: AbstractFileSystem, root: str) -> list[str]:
    """Every shard under ``root``."""
    fs.invalidate_cache()
    return sorted(str(p) for p in fs.find(root) if parse_shard_name(str(p)) is not None)


def stored_ids(fs: AbstractFileSystem, root: str) -> list[str]:
    """The ids in every shard under ``root``, in flag order (time, then id), repeats included."""
    rows: list[tuple[Any, str]] = []
    for path in shard_paths(fs, root):
        table = pq.read_table(io.BytesIO(fs.cat_file(path)), columns=["timestamp", "id"])
        rows += zip(table.column("timestamp").to_pylist(), table.column("id").to_pylist(), strict=True)
    return [i for _, i in sorted(rows)]
