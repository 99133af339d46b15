"""The ``parquet`` callback: flags as a Hive-partitioned Parquet dataset on any storage fsspec reaches.

Each delivered batch becomes one shard per field set and partition, written whole (see
:mod:`.storage`) after the files it points at, and named after the lane and the first and last flag
it holds (see :mod:`.layout`). A batch replayed after a crash rewrites the same objects; a replay
cut differently leaves out the flags an earlier shard of the lane already holds. Every flag lands
exactly once. The partition folders are listed (to find such shards) only when a batch may be a
replay: after the lane is (re)taken, after a failure, or when an id is not above every id stored.

pyarrow and fsspec are imported only when a batch is written.
"""

from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING, TypeVar

import flagpipe
from flagpipe.core.columns import HUB_COLUMNS
from flagpipe.plugins.parquet.layout import (
    FILES_FOLDER,
    id_key,
    lane_id,
    overlaps,
    partition_folder,
    partition_values,
    shard_name,
)
from flagpipe.plugins.parquet.settings import ParquetSettings

T = TypeVar("T")

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from flagpipe import FlagEvent, FlagSchema
    from flagpipe.plugins.parquet.storage import Store


class ParquetCallback(flagpipe.Callback[ParquetSettings]):
    """Writes flags as typed Parquet shards, batched in time, to a folder or a bucket."""

    type_name = "parquet"
    Settings = ParquetSettings

    def __init__(self, settings: ParquetSettings) -> None:
        super().__init__(settings)
        self.max_batch_size = settings.commit_max_events
        self.batch_interval = settings.commit_every
        self._directory: Path | None = None
        self._store: Store | None = None
        self._lane: str | None = None
        self._known_schemas: set[str] = set()
        #: The highest id key this callback stored since its lane was (re)taken; None: unknown.
        self._high: str | None = None
        self._lock = threading.Lock()
        #: Objects written by this callback (shards, files, manifests): the benchmark counts them.
        self.objects_written = 0

    def __repr__(self) -> str:
        # storage_options may hold credentials: they are never shown
        return f"<ParquetCallback url={self.settings.url!r} partition_by={list(self.settings.partition_by)!r}>"

    # -- set-up -------------------------------------------------------------------------------

    def setup(self, schema: FlagSchema, directory: Path) -> None:
        """Remember the flagging dir and its lane id; the storage is reached on the first delivery."""
        self._directory = directory
        self._lane = lane_id(directory)
        self._high = None  # the lane is newly ours: another process may have left a batch half-written

    def store(self) -> Store:
        """The dataset's storage (opened, and its bucket or folder checked, on first use)."""
        if self._store is None:
            from flagpipe.plugins.parquet.storage import Store

            store = Store(self.settings.url, self.settings.storage_options, self._directory)
            store.check_root()
            self._store = store
        return self._store

    def _where(self) -> str:
        if self._store is not None:
            return self._store.where
        return f"{self.settings.url.split('://', 1)[0]} URL {self.settings.url!r}"

    def _guarded(self, doing: str, work: Callable[[], T]) -> T:
        from flagpipe.plugins.parquet.errors import classify

        with self._lock:
            try:
                return work()
            except flagpipe.DeliveryError:
                raise
            except Exception as exc:
                secrets = self.settings.secrets()
                raise classify(exc, where=self._where(), doing=doing, secrets=secrets) from exc

    # -- delivering ---------------------------------------------------------------------------

    def deliver(self, events: Sequence[FlagEvent]) -> None:
        """Write the batch: one shard per field set and partition, after the files it refers to."""
        if self._directory is None or self._lane is None:
            raise flagpipe.PermanentError("parquet callback used before setup()")
        if events:
            keys = [id_key(e.id) for e in events]
            high, self._high = self._high, None  # unknown until this batch is stored
            # a batch whose keys are all above every key stored since the lane was taken holds no stored
            # flag, so no shard needs reading (UUIDv7 ids grow with time: the usual case)
            replay = high is None or min(keys) <= high
            self._guarded(f"writing {len(events)} flag(s)", lambda: self._deliver(events, replay=replay))
            self._high = max(keys) if high is None else max(high, *keys)

    def _deliver(self, events: Sequence[FlagEvent], *, replay: bool = True) -> None:
        from flagpipe.plugins.parquet.manifest import add_schemas, fields_of, shard_metadata
        from flagpipe.plugins.parquet_shards import schema_id, write_shard

        store = self.store()
        keys = self.settings.partition_by
        groups: dict[tuple[str, tuple[str | None, ...]], list[FlagEvent]] = {}
        for event in events:
            groups.setdefault((schema_id(event), partition_values(event, keys)), []).append(event)
        new = {
            schema: fields_of(group[0]) for (schema, _), group in groups.items() if schema not in self._known_schemas
        }
        if new:
            add_schemas(store, new, keys, self.settings.embed_files)
            self._known_schemas.update(new)
        compression = None if self.settings.compression == "none" else self.settings.compression
        for (schema, values), group in groups.items():
            folder = store.path(schema, partition_folder(keys, values))
            kept = self._not_yet_stored(store, folder, group) if replay else group
            if not kept:
                continue
            shard = write_shard(
                kept,
                self._directory,
                HUB_COLUMNS,
                f"{FILES_FOLDER}/",
                embed=self.settings.embed_files,
                compression=compression,
                metadata=shard_metadata(kept[0]),
            )
            self.objects_written += store.put_missing({store.path(p): b for p, b in shard.files.items()})
            assert self._lane is not None
            store.put(f"{folder}/{shard_name(self._lane, kept[0].id, kept[-1].id)}", shard.data)
            self.objects_written += 1

    def _not_yet_stored(self, store: Store, folder: str, group: list[FlagEvent]) -> list[FlagEvent]:
        """The flags of ``group`` that no other shard of this lane in ``folder`` holds (after a replay)."""
        import pyarrow.parquet as pq

        assert self._lane is not None
        own = shard_name(self._lane, group[0].id, group[-1].id)
        keys = [id_key(e.id) for e in group]
        held: set[str] = set()
        for path in store.names(folder):
            name = path.rsplit("/", 1)[-1]
            if name != own and overlaps(name, self._lane, keys):
                held.update(pq.read_table(io.BytesIO(store.read(path)), columns=["id"]).column("id").to_pylist())
        return [e for e in group if e.id not in held]

    # -- health and the end -------------------------------------------------------------------

    def healthcheck(self) -> str | None:
        """Reach the bucket or folder and list the dataset's top level."""

        def check() -> str:
            store = self.store()
            found = len(store.folders(store.root))
            return f"{store.where} is reachable ({found} folder(s) at the top)"

        return self._guarded("checking the storage", check)

    def close(self) -> None:
        """Nothing is buffered between deliveries: each batch is written as it comes."""
        with self._lock:
            self._store = None


__all__ = ["ParquetCallback"]
