"""Delivery settings the core consumes: lanes, retries, durability, shutdown and retention."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RetryConfig(_Strict):
    """How a lane retries a batch that failed with a retryable error."""

    attempts: int = Field(default=12, ge=1, description="Tries before the batch becomes a dead letter.")
    initial_delay: float = Field(default=1.0, gt=0, description="Seconds before the first retry.")
    max_delay: float = Field(default=300.0, gt=0, description="The longest wait between two tries, in seconds.")
    max_age: float = Field(
        default=86_400.0, gt=0, description="Seconds after which a failing event becomes a dead letter anyway."
    )

    @model_validator(mode="after")
    def _ordered(self) -> RetryConfig:
        if self.max_delay < self.initial_delay:
            raise ValueError("max_delay must not be smaller than initial_delay")
        return self


class DeliveryConfig(_Strict):
    """How accepted flags reach the callbacks."""

    mode: Literal["background", "inline"] = Field(
        default="background",
        description="background: a worker per callback delivers while flag() returns at once; "
        "inline: flag() delivers to each callback before it returns (scripts, tests).",
    )
    durability: Literal["process", "fsync"] = Field(
        default="process",
        description="process: accepted flags survive a crash of the process; fsync: they also survive "
        "power loss (each flag waits for the disk).",
    )
    retry: RetryConfig = Field(default_factory=RetryConfig, description="Retries of failed deliveries.")
    grace: float = Field(default=10.0, ge=0, description="Seconds close() may spend delivering what is pending.")
    batch_size: int = Field(default=100, ge=1, le=10_000, description="The most events handed over in one batch.")
    linger: float = Field(
        default=0.05, ge=0, le=5, description="Seconds a woken worker waits so that a burst of flags forms one batch."
    )
    poll_interval: float = Field(
        default=0.5, gt=0, description="Seconds between checks for flags written by other processes."
    )
    lease_seconds: float = Field(
        default=30.0, gt=0, description="How long a process holds a callback's lane before another may take it."
    )
    call_timeout: float | None = Field(
        default=60.0,
        gt=0,
        description="Seconds a callback's setup, deliver, healthcheck or close may take before it counts as "
        "hung: the call fails naming the callback, and its flags stay pending. None waits forever.",
    )


class RetentionConfig(_Strict):
    """How long the journal keeps events that every callback has handled."""

    max_age_days: float | None = Field(
        default=None, gt=0, description="Remove delivered events older than this; None keeps every event."
    )
    remove_files: bool = Field(
        default=False,
        description="Also delete the stored files that only removed events used. Off by default: sinks such "
        "as the CSV log keep referring to them.",
    )
