"""Merge the small shards of past days into larger ones, keeping every flag exactly once.

Shards are merged per lane, so a merged shard is still named ``part-<lane>-<first>-<last>.parquet``
and a late replay of that lane still finds the flags it holds. Each merge is made safe against a
crash at any point by a plan object written first, beside the shards::

    1. _compact-<merged name>.json   lists the shards to merge and the merged shard's name
    2. the merged shard              written whole (one PUT, or a rename)
    3. the merged shards are removed
    4. the plan is removed

Running ``compact`` again first finishes every plan it finds: when the merged shard exists, the
shards it lists are removed (they are all inside it); when it does not, nothing was removed and the
plan is dropped. :func:`flagpipe.plugins.parquet.read.read_events` reads a folder with a plan as
if the merge were done, so it never sees a flag twice or misses one.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from flagpipe.plugins.parquet.layout import FILES_FOLDER, parse_shard_name

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from flagpipe.plugins.parquet.storage import Store

#: How plan objects are named: ``_compact-<merged shard's name>.json``.
PLAN_PREFIX, PLAN_SUFFIX = "_compact-", ".json"
#: Shards at least this big are left as they are (bytes).
DEFAULT_TARGET_BYTES = 128 * 1024 * 1024


@dataclass
class CompactReport:
    """What one run of :func:`compact` did."""

    partitions: int = 0
    merged_shards: int = 0
    written_shards: int = 0
    finished_plans: int = 0
    rows: int = 0
    skipped: list[str] = field(default_factory=list)


def plan_name(output: str) -> str:
    """The plan object's name for the merged shard ``output`` (a file name)."""
    return f"{PLAN_PREFIX}{output.removesuffix('.parquet')}{PLAN_SUFFIX}"


def replaced_inputs(store: Store, names: list[str]) -> set[str]:
    """The shards (full paths) of a folder listing that a finished merge replaced but has not removed yet."""
    present = set(names)
    replaced: set[str] = set()
    for path in names:
        base = path.rsplit("/", 1)[-1]
        if base.startswith(PLAN_PREFIX) and base.endswith(PLAN_SUFFIX):
            plan = json.loads(store.read(path))
            folder = path.rsplit("/", 1)[0]
            if f"{folder}/{plan['output']}" in present:
                replaced.update(f"{folder}/{name}" for name in plan["inputs"])
    return replaced


def leaf_folders(store: Store, folder: str) -> Iterator[str]:
    """Every folder under ``folder`` that holds files (the partitions), depth first."""
    below = store.folders(folder)
    if any(store.names(folder)) or not below:
        yield folder
    for child in below:
        yield from leaf_folders(store, child)


def _day(folder: str) -> str | None:
    for part in folder.split("/"):
        if part.startswith("date="):
            return part[len("date=") :]
    return None


def compact(
    store: Store,
    *,
    before: str | None = None,
    target_bytes: int = DEFAULT_TARGET_BYTES,
    compression: str = "zstd",
    on_merge: Callable[[str, int], None] | None = None,
) -> CompactReport:
    """Merge the small shards of every ``date=`` partition before the day ``before`` (default: today, UTC).

    :param on_merge: called with the merged shard's path and its row count, after each merge.
    """
    cutoff = before or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    report = CompactReport()
    store.check_root(create=False)
    for top in store.folders(store.root):
        if top.rsplit("/", 1)[-1] in (FILES_FOLDER,) or top.rsplit("/", 1)[-1].startswith(("_", ".")):
            continue
        for folder in leaf_folders(store, top):
            day = _day(folder)
            if day is None or day >= cutoff:
                continue
            report.partitions += 1
            _finish_plans(store, folder, report)
            for chunk in _chunks(store, folder, target_bytes):
                _merge(store, folder, chunk, compression, report, on_merge)
    return report


def _finish_plans(store: Store, folder: str, report: CompactReport) -> None:
    names = store.names(folder)
    for path in names:
        base = path.rsplit("/", 1)[-1]
        if not (base.startswith(PLAN_PREFIX) and base.endswith(PLAN_SUFFIX)):
            continue
        plan = json.loads(store.read(path))
        if store.exists(f"{folder}/{plan['output']}"):
            store.delete(f"{folder}/{name}" for name in plan["inputs"])
        store.delete([path])
        report.finished_plans += 1


def _chunks(store: Store, folder: str, target_bytes: int) -> Iterator[list[str]]:
    """Runs of two or more consecutive small shards of one lane, each run below ``target_bytes``."""
    by_lane: dict[str, list[tuple[str, str, int]]] = {}
    for path, size in store.sizes(folder).items():
        parsed = parse_shard_name(path)
        if parsed is not None:
            by_lane.setdefault(parsed[0], []).append((parsed[1], path, size))
    for shards in by_lane.values():
        run: list[str] = []
        total = 0
        for _, path, size in sorted(shards):
            if size >= target_bytes or total + size > target_bytes:
                if len(run) > 1:
                    yield run
                run, total = ([], 0) if size >= target_bytes else ([path], size)
                continue
            run.append(path)
            total += size
        if len(run) > 1:
            yield run


def _merge(
    store: Store,
    folder: str,
    chunk: list[str],
    compression: str,
    report: CompactReport,
    on_merge: Callable[[str, int], None] | None,
) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.read_table(io.BytesIO(store.read(path))) for path in chunk]
    if any(not t.schema.equals(tables[0].schema) for t in tables[1:]):
        report.skipped.append(f"{folder}: shards with different columns ({', '.join(chunk)})")
        return
    merged = pa.concat_tables(tables).replace_schema_metadata(tables[0].schema.metadata)
    first, last = parse_shard_name(chunk[0]), parse_shard_name(chunk[-1])
    assert first is not None and last is not None
    output = f"part-{first[0]}-{first[1]}-{last[2]}.parquet"
    inputs = [path.rsplit("/", 1)[-1] for path in chunk]
    plan = f"{folder}/{plan_name(output)}"
    store.put(plan, json.dumps({"output": output, "inputs": inputs, "rows": merged.num_rows}).encode())
    buffer = io.BytesIO()
    pq.write_table(merged, buffer, compression=compression)
    store.put(f"{folder}/{output}", buffer.getvalue())
    store.delete(chunk)
    store.delete([plan])
    report.merged_shards += len(chunk)
    report.written_shards += 1
    report.rows += merged.num_rows
    if on_merge is not None:
        on_merge(f"{folder}/{output}", merged.num_rows)


__all__ = ["CompactReport", "compact", "leaf_folders", "plan_name", "replaced_inputs"]
