"""Prometheus metrics: flags accepted and refused, deliveries and failures, pending and dead, latency.

Pending and dead come from the journal at each scrape, so they are the same whichever worker answers.
Counters and the latency histogram count what this process saw, unless ``PROMETHEUS_MULTIPROC_DIR``
names a directory (``flagpipe serve --workers N`` with N > 1 sets one up): then every worker writes its
counts there, and a scrape of any worker sums them all (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from flagpipe.core.hookspecs import hookimpl
from flagpipe.server import MULTIPROCESS_ENV

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from prometheus_client.metrics_core import Metric

    from flagpipe.core.event import FlagEvent
    from flagpipe.core.journal import Journal

__all__ = ["CONTENT_TYPE", "METHODS", "Metrics"]

#: The Prometheus text format's media type.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: The methods the latency histogram names; any other is counted as ``other``.
METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST"})


class _LaneCollector(Collector):
    """Pending and dead events per callback, read from the journal at scrape time."""

    def __init__(self, journal: Journal | None) -> None:
        self._journal = journal

    def collect(self) -> Iterator[Metric]:
        pending = GaugeMetricFamily("flagpipe_pending", "Events waiting for a callback.", labels=["callback"])
        dead = GaugeMetricFamily("flagpipe_dead", "Dead letters per callback.", labels=["callback"])
        for lane in self._journal.status() if self._journal is not None else []:
            pending.add_metric([lane.name], lane.pending)
            dead.add_metric([lane.name], lane.dead)
        yield pending
        yield dead


class Metrics:
    """One app's metrics, in a registry of its own; also a plugin observing deliveries."""

    def __init__(self, journal: Journal | None) -> None:
        self.registry = CollectorRegistry()
        self.accepted = Counter("flagpipe_flags_accepted", "Flags accepted into the journal.", registry=self.registry)
        self.refused = Counter(
            "flagpipe_flags_refused", "Flags or requests refused, by reason.", ["reason"], registry=self.registry
        )
        self.deliveries = Counter(
            "flagpipe_deliveries", "Events delivered per callback.", ["callback"], registry=self.registry
        )
        self.failures = Counter(
            "flagpipe_delivery_failures",
            "Failed deliveries (events) per callback.",
            ["callback"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "flagpipe_request_seconds", "Request latency.", ["route", "method", "status"], registry=self.registry
        )
        self._lanes = _LaneCollector(journal)
        self.registry.register(self._lanes)

    def render(self) -> bytes:
        """The metrics in the Prometheus text format (every worker's counts in multiprocess mode)."""
        directory = os.environ.get(MULTIPROCESS_ENV)
        if not directory:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        registry.register(self._lanes)
        return generate_latest(registry)

    @hookimpl
    def flagpipe_event_delivered(self, events: Sequence[FlagEvent], callback_name: str, attempt: int) -> None:
        """Count delivered events."""
        self.deliveries.labels(callback_name).inc(len(events))

    @hookimpl
    def flagpipe_delivery_failed(
        self, events: Sequence[FlagEvent], callback_name: str, error: BaseException, attempt: int, final: bool
    ) -> None:
        """Count failed deliveries."""
        self.failures.labels(callback_name).inc(len(events))

    def observe(self, route: str, method: str, status: int, seconds: float, **_: Any) -> None:
        """Record one request's latency; a method outside :data:`METHODS` is labelled ``other``."""
        self.latency.labels(route, method if method in METHODS else "other", str(status)).observe(seconds)
