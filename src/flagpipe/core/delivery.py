"""Delivery: handing accepted events to each callback of the chain, and reporting the outcome.

Accepting an event (the journal) and delivering it (here) are separate steps: a failed delivery
never un-accepts a flag.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flagpipe.core.callback import DeliveryError, PermanentError
from flagpipe.core.schema import FlagSchema

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe.core.callback import Callback
    from flagpipe.core.event import FlagEvent
    from flagpipe.core.plugin_manager import Plugins

log = logging.getLogger("flagpipe.delivery")


@dataclass
class DeliveryReport:
    """Where one event went: the callbacks that took it and those that failed, with why."""

    delivered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class Lane:
    """One callback of the chain and what it has been set up for."""

    def __init__(self, name: str, callback: Callback[Any], directory: Path) -> None:
        self.name = name
        self.callback = callback
        self.directory = directory
        self._schema: FlagSchema | None = None
        self._lock = threading.Lock()

    def prepare(self, schema: FlagSchema | None) -> None:
        """Call the callback's ``setup`` when it has not seen this schema yet."""
        if schema is not None and schema != self._schema:
            self.callback.setup(schema, self.directory)
            self._schema = schema

    def deliver(self, events: list[FlagEvent]) -> None:
        """Set up for the batch's schema if needed, then deliver it."""
        with self._lock:
            if self._schema is None or events[0].field_names() != self._schema.names:
                self.prepare(FlagSchema.from_event(events[0]))
            self.callback.deliver(events)


class InlineDelivery:
    """Delivers each accepted event to every lane, in chain order, before ``flag()`` returns."""

    def __init__(self, lanes: list[Lane], plugins: Plugins) -> None:
        self.lanes = lanes
        self.plugins = plugins

    def submit(self, event: FlagEvent) -> DeliveryReport:
        """Deliver ``event`` to each lane; a failing lane is reported and the others carry on."""
        report = DeliveryReport()
        for lane in self.lanes:
            try:
                lane.deliver([event])
            except Exception as exc:  # noqa: BLE001 - one sink's failure must not stop the others
                reason = f"{type(exc).__name__}: {exc}" if not isinstance(exc, DeliveryError) else str(exc)
                report.failed[lane.name] = reason
                log.error("flagpipe: delivering flag %s to %s failed: %s", event.id, lane.name, reason)
                self.plugins.notify_failed([event], lane.name, exc, 1, final=isinstance(exc, PermanentError))
            else:
                report.delivered.append(lane.name)
                self.plugins.notify_delivered([event], lane.name, 1)
        return report

    def close(self) -> None:
        """Close every callback; one that fails to close is logged and the others still close."""
        for lane in self.lanes:
            try:
                lane.callback.close()
            except Exception:
                log.exception("flagpipe: closing callback %s failed", lane.name)
