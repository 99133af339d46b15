"""Where everything goes in a ``parquet`` dataset: partitions, shard names, the lane id, the manifest.

Under the dataset's URL::

    _flagpipe.json                                  the manifest: layout version, fields and kinds
    <schema>/date=2026-12-02/part-<lane>-<first>-<last>.parquet
    files/<sha256><suffix>                          files stored by content

``<schema>`` names a set of fields (:func:`flagpipe.plugins.parquet_shards.schema_id`). The partition
folders follow ``partition_by`` (Hive style, values percent-encoded, a missing value is
``__HIVE_DEFAULT_PARTITION__``). A shard is named after its lane and the first and last flag it
holds, so a batch replayed after a crash rewrites the same object; the lane id belongs to the
flagging dir's journal, so replicas (each with its own journal) never write the same name.

Everything here is pure: no I/O except :func:`lane_id`, which keeps the id in the flagging dir.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from flagpipe import FlagEvent

#: The manifest's file name, at the top of the dataset.
MANIFEST = "_flagpipe.json"
#: The folder of files stored by content.
FILES_FOLDER = "files"
#: The version of this layout, written into the manifest.
LAYOUT_VERSION = 1
#: The Hive value of a missing partition value (what pyarrow, Spark, DuckDB and Polars read as null).
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
#: Where a flagging dir keeps its lane id.
LANE_FILE = ".flagpipe/parquet-lane"

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")
_SHARD = re.compile(r"^part-(?P<lane>[0-9a-f]+)-(?P<first>[0-9a-z]+)-(?P<last>[0-9a-z]+)\.parquet$")


def id_key(event_id: str) -> str:
    """An event id as it appears in shard names: a UUID's 32 hex digits (so UUIDv7 ids sort by time).

    Other ids become ``h`` and 24 hex digits of their SHA-256, which never equals a UUID's key.
    """
    if _UUID.match(event_id):
        return event_id.replace("-", "").lower()
    return "h" + hashlib.sha256(event_id.encode()).hexdigest()[:24]


def shard_name(lane: str, first_id: str, last_id: str) -> str:
    """``part-<lane>-<first>-<last>.parquet`` for a shard holding ``first_id`` .. ``last_id``."""
    return f"part-{lane}-{id_key(first_id)}-{id_key(last_id)}.parquet"


def parse_shard_name(name: str) -> tuple[str, str, str] | None:
    """The lane and the first and last id keys of a shard's file name (None when it is not a shard)."""
    match = _SHARD.match(name.rsplit("/", 1)[-1])
    return (match["lane"], match["first"], match["last"]) if match else None


def overlaps(name: str, lane: str, keys: Sequence[str]) -> bool:
    """True when the shard ``name`` of ``lane`` may hold some of the flags whose id keys are ``keys``.

    ``keys`` are in flag order. A shard of the lane overlaps when it starts at one of them or its
    range meets theirs; its ids are then read to leave out the flags it holds.
    """
    parsed = parse_shard_name(name)
    if parsed is None or parsed[0] != lane or not keys:
        return False
    _, first, last = parsed
    return first in keys or (first <= max(keys) and last >= min(keys))


def partition_values(event: FlagEvent, keys: Sequence[str]) -> tuple[str | None, ...]:
    """The event's value for each partition key (``date``: its UTC day, ``YYYY-MM-DD``)."""
    values: list[str | None] = []
    for key in keys:
        if key == "date":
            values.append(event.created_at.strftime("%Y-%m-%d"))
        else:
            values.append(getattr(event, key))
    return tuple(values)


def partition_folder(keys: Sequence[str], values: Sequence[str | None]) -> str:
    """The Hive folders of ``values`` (``date=2026-12-02/app=demo/``), empty without keys."""
    parts = [NULL_PARTITION if value is None else quote(value, safe="") for value in values]
    return "".join(f"{key}={part}/" for key, part in zip(keys, parts, strict=True))


def lane_id(directory: Path) -> str:
    """This flagging dir's lane id: 12 hex digits, made once and kept in ``.flagpipe/parquet-lane``.

    Every process flagging into the same dir shares its journal and so its lane; a replica with its
    own dir gets its own id.
    """
    path = directory / LANE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        scratch = path.with_name(f"{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
        scratch.write_text(os.urandom(6).hex() + "\n")
        try:
            os.link(scratch, path)  # atomic, and fails when another process made it first
        except FileExistsError:
            pass
        finally:
            scratch.unlink()
    text = path.read_text().strip()
    if not re.fullmatch(r"[0-9a-f]{12}", text):
        raise ValueError(f"{path} does not hold a lane id (12 hex digits); remove it to make a new one")
    return text


__all__ = [
    "FILES_FOLDER",
    "LAYOUT_VERSION",
    "MANIFEST",
    "NULL_PARTITION",
    "id_key",
    "lane_id",
    "overlaps",
    "parse_shard_name",
    "partition_folder",
    "partition_values",
    "shard_name",
]
