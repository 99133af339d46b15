"""The parquet callback writes batches as Hive-partitioned shards, once each, locally and on S3."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

from flagpipe import PermanentError
from flagpipe.plugins.parquet.layout import parse_shard_name
from flagpipe.plugins.parquet.read import read_events

from .helpers import PNG, image_event, open_callback, shard_paths, stored_ids, text_event

if TYPE_CHECKING:
    from pathlib import Path

    from .targets import Target


def test_batches_become_partitioned_shards(target: Target, tmp_path: Path) -> None:
    callback = open_callback(tmp_path, **target.settings(partition_by=["date", "option"]))
    first = [text_event(n) for n in range(3)]
    second = [text_event(3, option=None), text_event(4)]
    callback.deliver(first)
    callback.deliver(second)
    callback.close()
    paths = [p[len(target.root) + 1 :] for p in shard_paths(target.fs, target.root)]
    lane = (tmp_path / ".flagpipe/parquet-lane").read_text().strip()
    folders = sorted({p.rsplit("/", 1)[0].split("/", 1)[1] for p in paths})
    assert folders == ["date=2026-11-30/option=__HIVE_DEFAULT_PARTITION__", "date=2026-11-30/option=wrong"]
    assert len(paths) == 3  # one per batch and partition
    assert {parse_shard_name(p)[0] for p in paths} == {lane}  # type: ignore[index]
    assert stored_ids(target.fs, target.root) == [e.id for e in [*first, *second]]
    manifest = json.loads(target.fs.cat_file(f"{target.root}/_flagpipe.json"))
    assert manifest["partition_by"] == ["date", "option"]
    [fields] = [s["fields"] for s in manifest["schemas"].values()]
    assert fields == [
        {"name": "text", "kind": "text", "role": "input"},
        {"name": "score", "kind": "number", "role": "output"},
    ]


def test_shards_are_typed_and_compressed(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    callback = open_callback(tmp_path, url=str(lake), compression="zstd", partition_by=[])
    callback.deliver([text_event(n) for n in range(2)])
    [path] = [p for p in lake.rglob("part-*.parquet")]
    meta = pq.ParquetFile(path).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"
    schema = pq.read_schema(path)
    assert (
        str(schema.field("score").type) == "double" and str(schema.field("timestamp").type) == "timestamp[us, tz=UTC]"
    )
    assert path.parent.name.startswith("schema-")  # no partition folders


def test_a_replay_cut_differently_stores_each_flag_once(target: Target, tmp_path: Path) -> None:
    events = [text_event(n) for n in range(6)]
    callback = open_callback(tmp_path, **target.settings())
    callback.deliver(events[:3])
    names = shard_paths(target.fs, target.root)
    callback.deliver(events[:3])  # the same batch again: the same object, rewritten
    assert shard_paths(target.fs, target.root) == names
    restarted = open_callback(tmp_path, **target.settings())  # same flagging dir, so the same lane
    restarted.deliver(events[:5])  # a larger cut after a restart: only 3..4 are new
    restarted.deliver(events[2:])
    assert stored_ids(target.fs, target.root) == [e.id for e in events]


def test_replicas_never_share_a_shard_name(target: Target, tmp_path: Path) -> None:
    events = [text_event(n) for n in range(2)]
    one, two = (
        open_callback(tmp_path / "one", **target.settings()),
        open_callback(tmp_path / "two", **target.settings()),
    )
    one.deliver(events)
    two.deliver(events)  # the same ids from another journal (only possible in a test) go to another object
    lanes = {parse_shard_name(p)[0] for p in shard_paths(target.fs, target.root)}  # type: ignore[index]
    assert len(lanes) == 2


def test_files_embedded_or_by_content(target: Target, tmp_path: Path) -> None:
    embedded = open_callback(tmp_path, **target.settings(partition_by=[]))
    embedded.deliver([image_event(tmp_path, n) for n in range(2)])
    [shard] = shard_paths(target.fs, target.root)
    table = pq.read_table(io.BytesIO(target.fs.cat_file(shard)))
    assert table.column("image").to_pylist()[0] == {"bytes": PNG, "path": "cat.png"}
    docs = table.column("doc").to_pylist()
    assert all(d.startswith("files/") for d in docs)
    assert all(target.fs.exists(f"{target.root}/{d}") for d in docs)
    features = json.loads(table.schema.metadata[b"huggingface"])["info"]["features"]
    assert features["image"] == {"_type": "Image"}

    by_content = open_callback(tmp_path, **target.settings(url=target.url.rstrip("/") + "-refs/", embed_files=False))
    by_content.deliver([image_event(tmp_path, 0)])
    root = target.root + "-refs"
    [shard] = shard_paths(target.fs, root)
    [image] = pq.read_table(io.BytesIO(target.fs.cat_file(shard))).column("image").to_pylist()
    assert image.startswith("files/") and image.endswith(".png")
    assert target.fs.cat_file(f"{root}/{image}") == PNG


def test_a_relative_url_is_inside_the_flagging_dir(tmp_path: Path) -> None:
    callback = open_callback(tmp_path, url="lake")
    event = text_event(0)
    callback.deliver([event])
    assert list((tmp_path / "lake").rglob("part-*.parquet"))
    assert list(read_events("lake", directory=tmp_path)) == [event]


def test_storage_options_are_never_printed(tmp_path: Path) -> None:
    from flagpipe.plugins.parquet import ParquetSettings

    settings = ParquetSettings(url="s3://b/f", storage_options={"key": "AKIAVISIBLE", "secret": "s3cr3t-value"})
    callback = open_callback(tmp_path, url="s3://b/f", storage_options={"secret": "s3cr3t-value"})
    for text in (repr(settings), str(settings), repr(callback), str(callback)):
        assert "s3cr3t-value" not in text and "AKIAVISIBLE" not in text
    assert settings.secrets() == ["AKIAVISIBLE", "s3cr3t-value"]


def test_deliver_before_setup_is_permanent() -> None:
    from flagpipe.plugins.parquet import ParquetCallback, ParquetSettings

    with pytest.raises(PermanentError, match="before setup"):
        ParquetCallback(ParquetSettings(url="/tmp/nowhere")).deliver([text_event(0)])


def test_settings_reject_a_key_twice() -> None:
    from pydantic import ValidationError

    from flagpipe.plugins.parquet import ParquetSettings

    with pytest.raises(ValidationError, match="twice"):
        ParquetSettings(url="/x", partition_by=["date", "date"])
    with pytest.raises(ValidationError, match="partition_by"):
        ParquetSettings.model_validate({"url": "/x", "partition_by": ["user"]})
