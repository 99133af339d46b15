"""Typed Parquet shards of flags, for the sinks that store flags as Parquet files.

A shard holds flags that share one set of fields (:func:`schema_id` names the set), one row per
flag: the fields first, then the meta columns the sink chose. Image and audio fields are Hugging
Face ``Image`` / ``Audio`` features (a struct of the file's bytes and name, declared in the schema's
``huggingface`` metadata, so ``datasets`` and the Hub's viewer read them typed); numbers are
``float64``, booleans ``bool``, text and JSON ``string``, conversations (``chat``) a list of message
structs (:mod:`flagpipe.plugins.chat_arrow`). Files of other kinds are stored once each
by content, beside the shards, and their column holds that path.

A shard is named after the first flag it holds (:func:`shard_path`), so a batch replayed after a
crash rewrites its own shard; :func:`overlapping_shards` and :func:`shard_ids` find flags that a
shard cut differently already holds. The ``hf_dataset`` sink commits shards to the Hub; the
``parquet`` sink writes the same shards to object storage (and may store images and audio by
content too, ``embed=False``).
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from flagpipe.core.chat import CHAT_KIND
from flagpipe.plugins.chat_arrow import chat_cell, chat_feature, chat_type

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    import pyarrow as pa

    from flagpipe import FieldValue, FlagEvent
    from flagpipe.core.columns import MetaColumn

__all__ = [
    "EMBEDDED_KINDS",
    "Shard",
    "build_table",
    "overlapping_shards",
    "schema_id",
    "shard_ids",
    "shard_path",
    "write_shard",
]

#: Field kinds stored as ``Image`` / ``Audio`` features inside the shards.
EMBEDDED_KINDS = {"image": "Image", "audio": "Audio"}
#: How a shard's file name starts and ends: ``shard-<first flag id>.parquet``.
SHARD_PREFIX, SHARD_SUFFIX = "shard-", ".parquet"


@dataclass(frozen=True)
class Shard:
    """One Parquet shard and the files of other kinds to store beside it."""

    #: The Parquet file's bytes.
    data: bytes
    #: Path (under the ``files_prefix`` given) to bytes, one entry per distinct file.
    files: dict[str, bytes] = field(default_factory=dict)


def schema_id(event: FlagEvent) -> str:
    """A short, stable name for an event's set of fields (names and kinds)."""
    text = json.dumps([[f.name, f.kind] for f in event.fields])
    return "schema-" + hashlib.sha256(text.encode()).hexdigest()[:10]


def shard_path(folder: str, first_id: str) -> str:
    """The path of the shard whose first flag is ``first_id``, in ``folder`` (which ends with ``/``)."""
    return f"{folder}{SHARD_PREFIX}{first_id}{SHARD_SUFFIX}"


def overlapping_shards(paths: Iterable[str], folder: str, own: str, first: str, last: str) -> list[str]:
    """The other shards of ``folder`` whose first flag id lies within ``first..last`` (only after a replay)."""
    prefix = folder + SHARD_PREFIX
    return [
        p
        for p in paths
        if p.startswith(prefix)
        and p != own
        and p.endswith(SHARD_SUFFIX)
        and first <= p[len(prefix) : -len(SHARD_SUFFIX)] <= last
    ]


def shard_ids(source: str | Path) -> list[str]:
    """The flag ids a shard file holds."""
    import pyarrow.parquet as pq

    ids: list[str] = pq.read_table(source, columns=["id"]).column("id").to_pylist()
    return ids


def write_shard(
    events: Sequence[FlagEvent],
    directory: Path | None,
    meta_columns: Sequence[MetaColumn],
    files_prefix: str,
    *,
    embed: bool = True,
    compression: str | None = "snappy",
    metadata: dict[str, str] | None = None,
) -> Shard:
    """Build the shard of ``events`` (which share one field set) as Parquet bytes, with its files.

    :param directory: the flagging dir the events' files are read from.
    :param meta_columns: the event's columns after the fields, in order (a layout of
        :mod:`flagpipe.core.columns`; ``metadata`` is stored as JSON); a name a field already uses
        gets a ``flag_`` prefix.
    :param files_prefix: where files of other kinds go, such as ``data/files/``.
    :param embed: store image and audio fields as ``Image`` / ``Audio`` features holding the bytes;
        when False, they are stored by content under ``files_prefix`` like every other file.
    :param compression: the Parquet codec (``zstd``, ``snappy``, ...; None: uncompressed).
    :param metadata: more keys for the Parquet schema's metadata (beside ``huggingface``).
    """
    import pyarrow.parquet as pq

    table, files = build_table(events, directory, meta_columns, files_prefix, embed=embed)
    if metadata:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), **metadata})
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression=compression or "none")
    return Shard(buffer.getvalue(), files)


def build_table(
    events: Sequence[FlagEvent],
    directory: Path | None,
    meta_columns: Sequence[MetaColumn],
    files_prefix: str,
    *,
    embed: bool = True,
) -> tuple[pa.Table, dict[str, bytes]]:
    """The Arrow table of :func:`write_shard`, with its ``huggingface`` features, and the files to store."""
    import pyarrow as pa

    embedded = EMBEDDED_KINDS if embed else {}
    files: dict[str, bytes] = {}
    columns: dict[str, list[Any]] = {f.name: [] for f in events[0].fields}
    types: dict[str, pa.DataType] = {}
    features: dict[str, Any] = {}
    media = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    for template in events[0].fields:
        if template.kind in embedded:
            types[template.name] = media
            features[template.name] = {"_type": embedded[template.kind]}
        else:
            types[template.name], features[template.name] = _value_type(template.kind)
    for event in events:
        for value in event.fields:
            columns[value.name].append(_cell(value, directory, files_prefix, files, embedded))
    arrays = [pa.array(columns[name], type=types[name]) for name in columns]
    names = list(columns)
    for column in meta_columns:
        name = column.name
        names.append(f"flag_{name}" if name in columns else name)
        timestamp = name == "timestamp"
        kind = pa.timestamp("us", tz="UTC") if timestamp else pa.string()
        arrays.append(pa.array([_meta_value(event, column) for event in events], type=kind))
        features[names[-1]] = {"dtype": "timestamp[us, tz=UTC]" if timestamp else "string", "_type": "Value"}
    table = pa.Table.from_arrays(arrays, names=names)
    return table.replace_schema_metadata({"huggingface": json.dumps({"info": {"features": features}})}), files


def _meta_value(event: FlagEvent, column: MetaColumn) -> Any:
    value = column.of(event)
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if column.name == "metadata" else value


def _cell(
    value: FieldValue, directory: Path | None, files_prefix: str, files: dict[str, bytes], embedded: dict[str, str]
) -> Any:
    if value.file is None:
        if value.kind in embedded:
            return None
        if value.kind == CHAT_KIND:
            return chat_cell(value.value, directory, files_prefix, files)
        return _plain(value.value, value.kind)
    assert directory is not None, "setup() was not called"
    data = (directory / value.file.path).read_bytes()
    name = f"{value.file.sha256}{PurePosixPath(value.file.path).suffix}"
    if value.kind in embedded:
        return {"bytes": data, "path": value.file.original_name or name}
    files[files_prefix + name] = data
    return files_prefix + name


def _value_type(kind: str) -> tuple[Any, dict[str, Any]]:
    import pyarrow as pa

    if kind == "number":
        return pa.float64(), {"dtype": "float64", "_type": "Value"}
    if kind == "bool":
        return pa.bool_(), {"dtype": "bool", "_type": "Value"}
    if kind == CHAT_KIND:
        return chat_type(), chat_feature()
    return pa.string(), {"dtype": "string", "_type": "Value"}


def _plain(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "number":
        return float(value)
    if kind == "bool":
        return bool(value)
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
