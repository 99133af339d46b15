"""JSON Lines: one flat JSON object per flag, as ``flagpipe export --format jsonl`` writes and reads it.

Each object has the fields (a field named like an event key is written ``field.<name>``), then the
event keys of :data:`flagpipe.core.columns.JSONL_COLUMNS`: ``option``, ``username``, ``comment``,
``timestamp`` (ISO 8601), ``id``, ``mode``, ``session_id``, ``app`` and ``metadata`` (an object).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from flagpipe.core.columns import JSONL_COLUMNS, names
from flagpipe.data.frame import value_kind
from flagpipe.data.records import FlagRecord, SourceError, isoformat, parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

__all__ = ["parse_jsonl", "write_jsonl"]

#: Keys of a record that are not fields.
_EVENT_KEYS = frozenset(names(JSONL_COLUMNS))
_PREFIX = "field."


def write_jsonl(records: Iterable[FlagRecord], path: Path) -> int:
    """Write one line per record to ``path``; return how many were written."""
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            item: dict[str, Any] = {}
            for name, _, value in record.fields:
                item[f"{_PREFIX}{name}" if name in _EVENT_KEYS else name] = value
            for column in JSONL_COLUMNS:
                value = getattr(record, column.name)
                item[column.name] = isoformat(value) if column.name == "timestamp" else value
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
            count += 1
    return count


def parse_jsonl(path: Path) -> list[FlagRecord]:
    """Read a file written by ``flagpipe export --format jsonl`` (one flat JSON object per flag)."""
    records = []
    try:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                except ValueError as exc:
                    raise SourceError(f"{path}:{number}: not JSON: {exc}") from None
                records.append(_record_from_flat(item))
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc}") from None
    return records


def _record_from_flat(item: dict[str, Any]) -> FlagRecord:
    fields = []
    for key, value in item.items():
        if key in _EVENT_KEYS:
            continue
        name = key[len(_PREFIX) :] if key.startswith(_PREFIX) and key[len(_PREFIX) :] in _EVENT_KEYS else key
        fields.append((name, value_kind(value) or "text", value))
    metadata = item.get("metadata") or {}
    stamp = item.get("timestamp")
    return FlagRecord(
        fields=fields,
        option=item.get("option"),
        username=item.get("username"),
        comment=item.get("comment"),
        timestamp=parse_timestamp(stamp) if isinstance(stamp, str) else None,
        id=item.get("id"),
        mode=item.get("mode"),
        session_id=item.get("session_id"),
        app=item.get("app"),
        metadata=metadata if isinstance(metadata, dict) else {"value": metadata},
    )
