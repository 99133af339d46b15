"""Typed Parquet shards of flags, on their own (the Hub round trip is in tests/plugins/hf_dataset/)."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

from flagpipe import FieldValue, FileRef, FlagEvent
from flagpipe.core.columns import HUB_COLUMNS, names
from flagpipe.plugins.parquet_shards import (
    EMBEDDED_KINDS,
    build_table,
    overlapping_shards,
    schema_id,
    shard_ids,
    shard_path,
    write_shard,
)

if TYPE_CHECKING:
    from pathlib import Path

META = tuple(c for c in HUB_COLUMNS if c.name in ("option", "username", "timestamp", "id", "metadata"))
PNG = b"\x89PNG\r\n\x1a\n"


def stored(directory: Path, path: str, data: bytes, name: str | None = None) -> FileRef:
    (directory / path).parent.mkdir(parents=True, exist_ok=True)
    (directory / path).write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    return FileRef(path=path, original_name=name, size=len(data), sha256=digest)


def event(directory: Path, n: int, created_at: datetime | None = None) -> FlagEvent:
    doc = stored(directory, f"doc/{n}/report.pdf", b"%PDF same")
    image = stored(directory, f"image/{n}/cat.png", PNG + bytes([n]), name="cat.png")
    fields = (
        FieldValue(name="num", kind="number", value=n),
        FieldValue(name="ok", kind="bool", value=n % 2 == 0),
        FieldValue(name="data", kind="json", value={"n": n}),
        FieldValue(name="image", kind="image", file=image),
        FieldValue(name="audio", kind="audio"),
        FieldValue(name="doc", kind="file", file=doc),
    )
    when = created_at or datetime.now(timezone.utc)
    return FlagEvent(fields=fields, option="wrong", metadata={"b": 1, "a": [n]}, created_at=when)


def test_columns_are_typed_and_declared_as_features(tmp_path: Path) -> None:
    events = [event(tmp_path, n, datetime(2026, 1, 1, tzinfo=timezone.utc)) for n in range(3)]
    table, files = build_table(events, tmp_path, META, "data/files/")
    assert table.column_names == ["num", "ok", "data", "image", "audio", "doc", *names(META)]
    rows = table.to_pylist()
    assert [r["num"] for r in rows] == [0.0, 1.0, 2.0] and [r["ok"] for r in rows] == [True, False, True]
    assert rows[1]["data"] == '{"n": 1}' and rows[1]["metadata"] == '{"a": [1], "b": 1}'
    assert rows[2]["image"] == {"bytes": PNG + bytes([2]), "path": "cat.png"} and rows[2]["audio"] is None
    assert rows[0]["timestamp"] == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert [r["id"] for r in rows] == [e.id for e in events]
    features = json.loads(table.schema.metadata[b"huggingface"])["info"]["features"]
    assert features["image"] == {"_type": EMBEDDED_KINDS["image"]} and features["audio"] == {"_type": "Audio"}
    assert features["num"] == {"dtype": "float64", "_type": "Value"}
    assert features["ok"] == {"dtype": "bool", "_type": "Value"}
    assert features["timestamp"] == {"dtype": "timestamp[us, tz=UTC]", "_type": "Value"}
    (path,) = files  # the same document three times is stored once, by content
    assert path == f"data/files/{hashlib.sha256(b'%PDF same').hexdigest()}.pdf" and files[path] == b"%PDF same"
    assert {r["doc"] for r in rows} == {path}


def test_a_meta_column_a_field_already_uses_gets_a_prefix(tmp_path: Path) -> None:
    flag = FlagEvent(fields=(FieldValue(name="id", value="the field"),), option="x")
    table, _ = build_table([flag], tmp_path, tuple(c for c in HUB_COLUMNS if c.name in ("option", "id")), "files/")
    assert table.column_names == ["id", "option", "flag_id"]
    assert table.to_pylist() == [{"id": "the field", "option": "x", "flag_id": flag.id}]


def test_write_shard_gives_parquet_that_reads_back(tmp_path: Path) -> None:
    events = [event(tmp_path, n) for n in range(2)]
    shard = write_shard(events, tmp_path, META, "files/")
    assert pq.read_table(io.BytesIO(shard.data)).column("id").to_pylist() == [e.id for e in events]
    (tmp_path / "s.parquet").write_bytes(shard.data)
    assert shard_ids(tmp_path / "s.parquet") == [e.id for e in events]
    assert list(shard.files) == [f"files/{hashlib.sha256(b'%PDF same').hexdigest()}.pdf"]


def test_files_need_the_flagging_dir(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="setup"):
        build_table([event(tmp_path, 1)], None, META, "files/")


def test_schema_ids_name_the_field_set() -> None:
    a = FlagEvent(fields=(FieldValue(name="x", kind="number", value=1),))
    same = FlagEvent(fields=(FieldValue(name="x", kind="number", value=2),))
    other_kind = FlagEvent(fields=(FieldValue(name="x", kind="text", value="1"),))
    assert schema_id(a) == schema_id(same) != schema_id(other_kind)
    assert schema_id(a).startswith("schema-") and len(schema_id(a)) == len("schema-") + 10


def test_shards_are_named_after_their_first_flag_and_overlaps_found_by_name() -> None:
    folder = "data/schema-1/"
    assert shard_path(folder, "0002") == "data/schema-1/shard-0002.parquet"
    paths = [shard_path(folder, i) for i in ("0001", "0003", "0005", "0009")]
    paths += [shard_path("data/schema-2/", "0004"), "data/schema-1/shard-0004.json", "README.md"]
    own = shard_path(folder, "0003")
    assert overlapping_shards(paths, folder, own, "0003", "0005") == [shard_path(folder, "0005")]
    assert overlapping_shards(paths, folder, own, "0000", "0010") == [
        shard_path(folder, i) for i in ("0001", "0005", "0009")
    ]
