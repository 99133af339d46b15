"""``_flagpipe.json``: what a ``parquet`` dataset holds, for readers with or without flagpipe.

It records the layout's version, the event schema's version, the partition keys, whether images
and audio are embedded, and for each field set (the ``<schema>`` folders) its fields' names, kinds
and roles. Each shard also carries its fields in its Parquet metadata (key ``flagpipe``), so a
shard read alone is understood too. Writers merge their field sets into the manifest; it is only
ever extended.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from flagpipe.core.event import SCHEMA_VERSION
from flagpipe.plugins.parquet.layout import LAYOUT_VERSION, MANIFEST

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from flagpipe import FlagEvent
    from flagpipe.plugins.parquet.storage import Store

#: The metadata key of a shard's fields.
SHARD_METADATA_KEY = "flagpipe"
_MERGE_TRIES = 5


def fields_of(event: FlagEvent) -> list[dict[str, str]]:
    """The event's fields as the manifest lists them: name, kind and role, in order."""
    return [{"name": f.name, "kind": f.kind, "role": f.role} for f in event.fields]


def shard_metadata(event: FlagEvent) -> dict[str, str]:
    """The Parquet metadata a shard of ``event``'s field set carries."""
    return {SHARD_METADATA_KEY: json.dumps({"layout_version": LAYOUT_VERSION, "fields": fields_of(event)})}


def merged(
    current: Mapping[str, Any] | None,
    schemas: Mapping[str, list[dict[str, str]]],
    partition_by: Sequence[str],
    embed: bool,
) -> dict[str, Any] | None:
    """The manifest with ``schemas`` added, or None when ``current`` already lists them all."""
    known = dict((current or {}).get("schemas") or {})
    if current is not None and all(name in known for name in schemas):
        return None
    known.update({name: {"fields": fields} for name, fields in schemas.items() if name not in known})
    return {
        "format": "flagpipe-parquet",
        "layout_version": LAYOUT_VERSION,
        "event_schema_version": SCHEMA_VERSION,
        "partition_by": list((current or {}).get("partition_by") or partition_by),
        "embed_files": (current or {}).get("embed_files", embed),
        "schemas": dict(sorted(known.items())),
    }


def read_manifest(store: Store) -> dict[str, Any] | None:
    """The dataset's manifest, or None when there is none yet."""
    path = store.path(MANIFEST)
    if not store.exists(path):
        return None
    loaded: dict[str, Any] = json.loads(store.read(path))
    return loaded


def add_schemas(
    store: Store, schemas: Mapping[str, list[dict[str, str]]], partition_by: Sequence[str], embed: bool
) -> None:
    """Make sure the manifest lists ``schemas``, reading it back to survive another writer's update."""
    for _ in range(_MERGE_TRIES):
        document = merged(read_manifest(store), schemas, partition_by, embed)
        if document is None:
            return
        store.put(store.path(MANIFEST), json.dumps(document, indent=2).encode())
    # another writer kept replacing it; each shard carries its own fields, so readers are unaffected


__all__ = ["SHARD_METADATA_KEY", "add_schemas", "fields_of", "merged", "read_manifest", "shard_metadata"]
