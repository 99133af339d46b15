"""The dispatcher: runs the lanes inline (in ``flag()``) or with one background worker per lane.

Accepting an event (the journal) and delivering it (the lanes) are separate steps: a failed delivery
never un-accepts a flag. ``flush`` and ``close`` wait for the lanes within a grace period.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flagpipe.core.lane import StepResult
from flagpipe.core.receipt import FlagReceipt

if TYPE_CHECKING:
    from collections.abc import Callable

    from flagpipe.core.event import FlagEvent
    from flagpipe.core.journal import Journal
    from flagpipe.core.lane import Lane
    from flagpipe.core.settings import DeliveryConfig

log = logging.getLogger("flagpipe.delivery")


@dataclass
class DeliveryReport:
    """Where one event went, as far as ``flag()`` knows when it returns."""

    delivered: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    def receipt(self, event_id: str) -> FlagReceipt:
        """The receipt of a stored event delivered as this report says."""
        return FlagReceipt(
            event_id,
            True,
            delivered=tuple(self.delivered),
            pending=tuple(self.pending),
            failed=dict(self.failed),
            skipped=tuple(self.skipped),
        )


class Dispatcher:
    """Runs the lanes: inline (in ``flag()``) or with one background worker thread per lane."""

    def __init__(self, lanes: list[Lane], journal: Journal, config: DeliveryConfig) -> None:
        self.lanes = lanes
        self.journal = journal
        self.config = config
        self._wake = {lane.name: threading.Event() for lane in lanes}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._flushing = threading.Event()

    def start(self) -> None:
        """Start the background workers (background mode only)."""
        if self.config.mode != "background" or self._threads:
            return
        for lane in self.lanes:
            thread = threading.Thread(target=self._run, args=(lane,), name=f"flagpipe-lane-{lane.name}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _run(self, lane: Lane) -> None:
        wake = self._wake[lane.name]
        while not self._stop.is_set():
            try:
                result = lane.step(ignore_backoff=False)
            except Exception:
                log.exception("flagpipe: the delivery worker of %s failed; retrying", lane.name)
                result = StepResult(wait=self.config.poll_interval)
            if result.progressed:
                if result.partial and self.config.linger > 0 and not lane.urgent:
                    # caught up: let the next flags gather into one batch rather than deliver them one by one
                    self._stop.wait(self.config.linger)
                continue
            wait = self.config.poll_interval if result.wait is None else min(result.wait, self.config.poll_interval * 4)
            if wake.wait(timeout=max(wait, 0.001)) and self.config.linger > 0 and not self._stop.is_set():
                time.sleep(self.config.linger)  # let a burst of flags gather into one batch
            wake.clear()

    def wake(self) -> None:
        """Make every background worker look for work now."""
        for event in self._wake.values():
            event.set()

    def submit(self, seq: int, event: FlagEvent) -> DeliveryReport:
        """Hand a newly accepted event to the lanes; inline mode delivers it before returning.

        Never raises (the event is stored): a failure is reported as pending and failed for every lane.
        """
        try:
            return self._submit(seq, event)
        except Exception as exc:
            log.exception("flagpipe: flag %s is stored but handing it to the callbacks failed", event.id)
            names = [lane.name for lane in self.lanes]
            error = f"stored, but delivery did not finish: {type(exc).__name__}: {exc}"
            return DeliveryReport(pending=names, failed=dict.fromkeys(names, error))

    def _submit(self, seq: int, event: FlagEvent) -> DeliveryReport:
        report = DeliveryReport()
        for lane in self.lanes:
            excluded = not lane.accepts(event)
            last: StepResult | None = None
            if self.config.mode == "background":
                wake = self._wake[lane.name]
                if not wake.is_set():  # setting it again would only cost a lock and a notify
                    wake.set()
            else:
                last = self._run_inline(lane, seq, event)  # also moves the lane past events its rule excludes
            if excluded:
                report.skipped.append(lane.name)
            elif self.config.mode == "background":
                report.pending.append(lane.name)
            elif last is not None and last.clean and last.done_seq is not None and last.done_seq >= seq:
                report.delivered.append(lane.name)  # the step that handled it delivered it
            else:
                self._report_inline(lane, seq, event, report)
        return report

    @staticmethod
    def _run_inline(lane: Lane, seq: int, event: FlagEvent) -> StepResult:
        """Step the lane until it has handled ``seq``; return the last step.

        The event is handed over as it is, so a lane with nothing else pending need not read it back.
        """
        fresh: tuple[int, FlagEvent] | None = (seq, event)
        while True:
            result = lane.step(fresh=fresh)
            fresh = None
            if not result.progressed:
                return result
            if result.done_seq is not None and result.done_seq >= seq:
                return result
            if result.done_seq is None and lane.caught_up(seq):
                return result

    def _report_inline(self, lane: Lane, seq: int, event: FlagEvent, report: DeliveryReport) -> None:
        state = self.journal.lane(lane.name)
        if state.done_seq < seq:
            report.pending.append(lane.name)
            if state.last_error:
                report.failed[lane.name] = state.last_error
            return
        error = self.journal.dead_error(lane.name, seq)
        if error is not None:
            report.failed[lane.name] = error
        else:
            report.delivered.append(lane.name)

    def drain(
        self,
        *,
        ignore_backoff: bool = True,
        deadline: float | None = None,
        on_step: Callable[[str], None] | None = None,
    ) -> None:
        """Deliver everything pending now, in this thread, one lane after another.

        :param ignore_backoff: deliver lanes that are backing off after a failure now.
        :param deadline: stop at this ``time.monotonic()`` value; what is left stays pending.
        :param on_step: called with the lane's name after each step that made progress (progress bars).
        """
        target = self.journal.max_seq()
        for lane in self.lanes:
            while deadline is None or time.monotonic() <= deadline:
                if lane.caught_up(target) or not lane.step(ignore_backoff=ignore_backoff).progressed:
                    break
                if on_step is not None:
                    on_step(lane.name)

    def flush(self, grace: float) -> bool:
        """Wait up to ``grace`` seconds for the lanes to deliver what is pending; True when all caught up."""
        deadline = time.monotonic() + grace
        target = self.journal.max_seq()
        for lane in self.lanes:
            lane.urgent = True  # time-batching callbacks deliver what is pending at once
        try:
            if self.config.mode == "inline" or not self._threads:
                self.drain(ignore_backoff=False, deadline=deadline)
            else:
                for wake in self._wake.values():
                    wake.set()
                while time.monotonic() < deadline:
                    if all(lane.caught_up(target) or self._waiting(lane, deadline) for lane in self.lanes):
                        break
                    time.sleep(0.01)
            return all(lane.caught_up(target) for lane in self.lanes)
        finally:
            for lane in self.lanes:
                lane.urgent = False  # after the flush, batching by time resumes

    def _waiting(self, lane: Lane, deadline: float) -> bool:
        """True when a lane backs off past ``deadline`` (monotonic); a lane another process holds is waited for."""
        state = self.journal.lane(lane.name)
        return state.next_attempt_at - time.time() > deadline - time.monotonic()

    def stop(self) -> None:
        """Stop the workers and release this process's leases."""
        self._stop.set()
        for wake in self._wake.values():
            wake.set()
        for thread in self._threads:
            thread.join(timeout=30)
        for lane in self.lanes:
            try:
                lane.release()
            except Exception:
                log.debug("flagpipe: could not release the lease of %s", lane.name, exc_info=True)


__all__ = ["DeliveryReport", "Dispatcher"]
