"""Read a ``parquet`` dataset back as :class:`flagpipe.FlagEvent` objects, with the filters pushed down.

:func:`read_events` is the reader ``flagpipe.read_flags`` reaches for an object-storage URL; it
works on any dataset the ``parquet`` callback wrote, on any storage fsspec reaches. The ``since``,
``options`` and ``apps`` filters become pyarrow dataset filters: on the Hive partitions (whole
folders are skipped) and on the columns (row groups are skipped by their statistics).

What comes back equals what was delivered, except for file fields: their :class:`flagpipe.FileRef`
``path`` is ``files/<sha256><suffix>``, relative to the dataset's URL (where a file stored by
content is; embedded images and audio are written there under ``files_to`` when it is given).
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from datetime import date, datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from flagpipe.core.chat import CHAT_KIND
from flagpipe.core.columns import HUB_COLUMNS
from flagpipe.core.event import FieldValue, FileRef, FlagEvent
from flagpipe.plugins.chat_arrow import chat_value
from flagpipe.plugins.parquet.compact import replaced_inputs
from flagpipe.plugins.parquet.layout import FILES_FOLDER
from flagpipe.plugins.parquet.manifest import SHARD_METADATA_KEY, read_manifest
from flagpipe.plugins.parquet.storage import Store

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    import pyarrow as pa
    import pyarrow.dataset as ds

_TEXT_KINDS = frozenset({"text"})
_FILE_KINDS = frozenset({"image", "audio", "video", "file"})


def read_events(
    url: str,
    storage_options: Mapping[str, Any] | None = None,
    since: datetime | date | str | None = None,
    options: Iterable[str | None] | None = None,
    apps: Iterable[str | None] | None = None,
    *,
    directory: Path | None = None,
    files_to: Path | None = None,
) -> Iterator[FlagEvent]:
    """Yield the flags of the dataset at ``url`` that pass the filters, in flag order (time, then id).

    :param url: the ``url`` of the ``parquet`` callback (``s3://bucket/flags/``, a folder, ...).
    :param storage_options: passed to fsspec, as in the callback's settings.
    :param since: only flags made at or after this time (a naive time or ISO string is local time;
        a date means its start, UTC).
    :param options: only flags with one of these options (None in the list: flags without one).
    :param apps: only flags of these apps (None in the list: flags without one).
    :param directory: where a relative ``url`` is (the flagging dir).
    :param files_to: a local folder to write embedded images and audio to, as ``files/<sha256><suffix>``.
    :raises FileNotFoundError: when the bucket does not exist (a missing folder reads as no flags).
    :raises PermissionError: when the credentials may not list the bucket.
    """
    store = Store(url, storage_options, directory)
    store.check_root(create=False)  # a missing bucket is an error, not an empty dataset
    manifest = read_manifest(store) or {}
    schemas: dict[str, Any] = manifest.get("schemas") or {}
    partition_by: list[str] = list(manifest.get("partition_by") or [])
    wanted = _filter(_since(since), options, apps, partition_by)
    sizes = store.sizes(store.path(FILES_FOLDER))
    tables = []
    for folder in store.folders(store.root):
        name = folder.rsplit("/", 1)[-1]
        if name == FILES_FOLDER or name.startswith(("_", ".")):
            continue
        table = _scan(store, folder, partition_by, wanted)
        if table is not None and table.num_rows:
            tables.append((schemas.get(name, {}).get("fields") or _fields_in(table.schema), table))
    events = [_event(row, fields, sizes, store, files_to) for fields, table in tables for row in table.to_pylist()]
    events.sort(key=lambda e: (e.created_at, e.id))
    yield from events


def _since(value: datetime | date | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)  # a naive time is local, as everywhere in flagpipe


def _filter(
    since: datetime | None,
    options: Iterable[str | None] | None,
    apps: Iterable[str | None] | None,
    partition_by: list[str],
) -> ds.Expression | None:
    import pyarrow.dataset as ds

    parts: list[ds.Expression] = []
    if since is not None:
        if "date" in partition_by:  # whole days before it are never opened
            parts.append(ds.field("date") >= since.strftime("%Y-%m-%d"))
        parts.append(ds.field("timestamp") >= since)
    for column, values in (("option", options), ("app", apps)):
        if values is None:
            continue
        chosen = list(values)
        named = [v for v in chosen if v is not None]
        either = ds.field(column).isin(named) if named else None
        if None in chosen:
            either = ds.field(column).is_null() if either is None else (either | ds.field(column).is_null())
        parts.append(either if either is not None else ds.scalar(False))
    result: ds.Expression | None = None
    for part in parts:
        result = part if result is None else (result & part)
    return result


def _scan(store: Store, folder: str, partition_by: list[str], wanted: ds.Expression | None) -> pa.Table | None:
    import pyarrow as pa
    import pyarrow.dataset as ds

    found = store.find(folder)
    replaced = replaced_inputs(store, found)  # shards a merge already holds (see flagpipe compact)
    files = [
        p
        for p in found
        if p.endswith(".parquet") and not p.rsplit("/", 1)[-1].startswith(("_", ".")) and p not in replaced
    ]
    if not files:
        return None
    partitioning = ds.partitioning(pa.schema([(k, pa.string()) for k in partition_by]), flavor="hive")
    dataset = ds.dataset(
        files, filesystem=store.fs, format="parquet", partitioning=partitioning, partition_base_dir=folder
    )
    table: pa.Table = dataset.to_table(filter=wanted)
    return table


def _fields_in(schema: pa.Schema) -> list[dict[str, str]]:
    raw = (schema.metadata or {}).get(SHARD_METADATA_KEY.encode())
    fields: list[dict[str, str]] = json.loads(raw)["fields"] if raw else []
    return fields


def _event(
    row: dict[str, Any], fields: list[dict[str, str]], sizes: Mapping[str, int], store: Store, files_to: Path | None
) -> FlagEvent:
    names = {f["name"] for f in fields}
    meta = {c.name: row.get(f"flag_{c.name}" if c.name in names else c.name) for c in HUB_COLUMNS}
    values = tuple(_field(f, row.get(f["name"]), sizes, store, files_to) for f in fields)
    created: datetime = row["timestamp"] if "timestamp" not in names else row["flag_timestamp"]
    return FlagEvent(
        id=meta["id"],
        created_at=created if created.tzinfo else created.replace(tzinfo=timezone.utc),
        mode=meta["mode"] or "manual",
        option=meta["option"],
        comment=meta["comment"],
        username=meta["username"],
        session_id=meta["session_id"],
        app=meta["app"],
        fields=values,
        metadata=json.loads(meta["metadata"]) if meta["metadata"] else {},
    )


def _field(
    spec: dict[str, str], cell: Any, sizes: Mapping[str, int], store: Store, files_to: Path | None
) -> FieldValue:
    name, kind, role = spec["name"], spec["kind"], spec.get("role", "input")
    if kind in _FILE_KINDS:
        file = _file(cell, sizes, store, files_to)
        return FieldValue(name=name, kind=kind, role=role, file=file)
    return FieldValue(name=name, kind=kind, role=role, value=_value(kind, cell))


def _value(kind: str, cell: Any) -> Any:
    if kind == CHAT_KIND:
        return chat_value(cell)
    if cell is None or kind in _TEXT_KINDS or not isinstance(cell, str):
        return cell
    try:
        return json.loads(cell)
    except ValueError:
        return cell  # a plugin's kind stored as plain text


def _file(cell: Any, sizes: Mapping[str, int], store: Store, files_to: Path | None) -> FileRef | None:
    if cell is None:
        return None
    if isinstance(cell, dict):  # an embedded Image / Audio struct
        data: bytes = cell["bytes"]
        sha = hashlib.sha256(data).hexdigest()
        original = cell.get("path")
        suffix = PurePosixPath(original or "").suffix
        path = f"{FILES_FOLDER}/{sha}{suffix}"
        if files_to is not None and not (files_to / path).exists():
            (files_to / path).parent.mkdir(parents=True, exist_ok=True)
            (files_to / path).write_bytes(data)
        named = original if original and not original.startswith(sha) else None
        return FileRef(path=path, original_name=named, media_type=_media(path), size=len(data), sha256=sha)
    path = str(cell)
    stem = PurePosixPath(path).stem
    return FileRef(path=path, media_type=_media(path), size=sizes.get(store.path(path), 0), sha256=stem)


def _media(path: str) -> str | None:
    return mimetypes.guess_type(path)[0]


__all__ = ["read_events"]
