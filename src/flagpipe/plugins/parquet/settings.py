"""Settings of the ``parquet`` callback, and the secret values of its ``storage_options``.

Nothing here imports pyarrow or fsspec: the settings are validated on every start, the file system is
opened only when a ``parquet`` callback delivers or ``flagpipe compact`` runs.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

import flagpipe

#: What a flag may be partitioned by, as a Hive folder level (``date=2026-12-02/``).
PartitionKey = Literal["date", "app", "option"]
#: The Parquet codecs the callback offers.
Compression = Literal["zstd", "snappy", "gzip", "brotli", "lz4", "none"]
#: Keys of ``storage_options`` (at any depth) whose values are secrets.
SECRET_KEY = re.compile(r"(key|secret|token|password|passwd|credential|sas|signature|connection_string)", re.I)


def _secret_values(value: Any, key: str = "") -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _secret_values(v, str(k))]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _secret_values(v, key)]
    if isinstance(value, str) and SECRET_KEY.search(key) and len(value) >= 3:
        return [value]
    return []


class ParquetSettings(flagpipe.CallbackSettings):
    """Settings of the ``parquet`` callback."""

    url: str = Field(
        description="Where the dataset goes: an fsspec URL (s3://bucket/flags/, gs://..., az://..., "
        "file:///srv/flags/) or a folder relative to the flagging dir."
    )
    storage_options: dict[str, Any] = Field(
        default_factory=dict,
        repr=False,
        description="Options passed to fsspec (endpoint_url, region, key, secret, ...); write credentials as "
        "${VAR}. Never printed.",
    )
    commit_every: float = Field(
        default=300.0, gt=0, description="Seconds between writes: at most one batch of shards per interval."
    )
    commit_max_events: int = Field(
        default=1000, ge=1, le=100_000, description="The most flags in one batch (a full batch goes early)."
    )
    partition_by: tuple[PartitionKey, ...] = Field(
        default=("date",),
        description="Hive partition folders, outermost first: date (UTC day of the flag), app, option; [] for none.",
    )
    compression: Compression = Field(default="zstd", description="The Parquet compression codec.")
    embed_files: bool = Field(
        default=True,
        description="Store image and audio fields inside the shards as datasets Image / Audio features (bytes); "
        "false stores them under files/ by content, like other files.",
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("url must be an fsspec URL such as s3://bucket/flags/ or a folder")
        return value.strip()

    @field_validator("partition_by")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value):
            raise ValueError(f"partition_by names a key twice: {list(value)}")
        return value

    def secrets(self) -> list[str]:
        """Every secret value of ``storage_options`` (to scrub from error messages)."""
        return _secret_values(self.storage_options)


__all__ = ["Compression", "ParquetSettings", "PartitionKey"]
