"""A delivery lane: one callback of the chain, fed from the journal, with retries and dead letters.

Accepting an event (the journal) and delivering it (here) are separate steps: a failed delivery never
un-accepts a flag. Each lane hands its callback batches of pending events in flag order. Only the
process holding a lane's lease delivers it, so several processes sharing one flagging directory
deliver every event once per callback. A lane's progress lives in the journal, so a restart resumes
where delivery stopped.

While it holds the lease, a lane keeps its state in memory (:class:`LaneCursor`), re-reading it from
the journal at most every ``poll_interval`` (another process's ``flagpipe retry``) or when this
process re-queues dead letters. Progress after a successful delivery is saved per batch (deferred,
see :mod:`flagpipe.core.journal_lanes`); failures are saved at once.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from flagpipe.core.callback import DeliveryError, DestinationDisabledError, PermanentError, RetryableError
from flagpipe.core.guard import CallGuard
from flagpipe.core.journal_records import UndecodableEventError
from flagpipe.core.lane_cursor import LaneCursor
from flagpipe.core.redacting_callback import RedactingCallback
from flagpipe.core.schema import FlagSchema
from flagpipe.core.secrets import mask_userinfo

if TYPE_CHECKING:
    from pathlib import Path

    from pydantic import BaseModel

    from flagpipe.core.callback import Callback
    from flagpipe.core.event import FlagEvent
    from flagpipe.core.host import PluginHost
    from flagpipe.core.journal import Journal
    from flagpipe.core.routing import When
    from flagpipe.core.settings import DeliveryConfig

log = logging.getLogger("flagpipe.delivery")


def describe_error(exc: BaseException) -> str:
    """A one-line description of a delivery error (the callback's own message for its errors).

    A password in a URL the message quotes is masked (``https://user:***@host/``): the text goes to
    logs, the journal's ``last_error`` and dead letters, ``flagpipe status`` and receipts.
    """
    text = str(exc) if isinstance(exc, DeliveryError) else f"{type(exc).__name__}: {exc}"
    return mask_userinfo(text)


def lane_fingerprint(type_name: str, settings: BaseModel) -> str:
    """A digest of a callback's type and settings: two configs whose lanes share a name must agree on it."""
    text = f"{type_name}\n{settings.model_dump_json()}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def backoff_delay(attempt: int, config: DeliveryConfig, retry_after: float | None) -> float:
    """Seconds to wait before try ``attempt + 1``: exponential with jitter, or the sink's Retry-After.

    A ``Retry-After`` hint is honoured as given (even above ``max_delay``), up to ``max_age``.
    """
    retry = config.retry
    if retry_after is not None and retry_after >= 0:
        return min(retry_after, retry.max_age)
    ceiling = min(retry.max_delay, retry.initial_delay * 2 ** (attempt - 1))
    return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not cryptography


@dataclass
class StepResult:
    """What one step of a lane did."""

    progressed: bool = False
    wait: float | None = None
    #: True when every event of the step reached the callback (none failed or became a dead letter).
    clean: bool = False
    #: The lane's high-water mark after the step, when the step moved it.
    done_seq: int | None = None
    #: True when the step handled fewer events than a batch holds: nothing else was pending then.
    partial: bool = False


class Lane:
    """One callback of the chain: its routing rule, its set-up state and its delivery step."""

    def __init__(
        self,
        name: str,
        callback: Callback[Any],
        *,
        directory: Path,
        journal: Journal,
        plugins: PluginHost,
        config: DeliveryConfig,
        owner: str,
        when: When | None = None,
    ) -> None:
        self.name = name
        self.callback = callback
        self._redaction_drops = callback.drops if isinstance(callback, RedactingCallback) else None
        self.directory = directory
        self.journal = journal
        self.plugins = plugins
        self.config = config
        self.owner = owner
        self.when = when
        self._schema: FlagSchema | None = None
        self._holds_lease = False
        self._cursor: LaneCursor | None = None
        self._lease_renew_at = 0.0
        self._last_delivery_at = 0.0
        #: Set while flushing (close, drain): time-batching callbacks deliver at once.
        self.urgent = False
        self.lock = threading.Lock()
        #: Runs the callback's methods, each bounded by ``delivery.call_timeout``.
        self.guard = CallGuard(name, config.call_timeout)
        #: True when ``deliver`` is called on the lane's own thread (see ``Callback.runs_in_caller``).
        self._runs_here = callback.runs_in_caller

    def prepare(self, schema: FlagSchema | None) -> None:
        """Call the callback's ``setup`` when it has not seen this schema yet."""
        if schema is not None and schema != self._schema:
            self.guard.call("setup()", self._setup, schema)

    def _setup(self, schema: FlagSchema) -> None:
        self.callback.setup(schema, self.directory)
        self._schema = schema

    def _send(self, events: list[FlagEvent]) -> None:
        """Set the callback up for the batch's fields if needed, then deliver it.

        A callback whose ``deliver`` only touches local files (``runs_in_caller``) is called on this
        thread; its ``setup``, when the fields changed, still goes through the guard. Any other runs
        on the guard's thread, bounded by ``delivery.call_timeout``.
        """
        if self._runs_here:
            if not self._set_up_for(events[0]):
                self.guard.call("setup()", self._setup, FlagSchema.from_event(events[0]))
            self.guard.call_here("deliver()", self.callback.deliver, events)
        else:
            self.guard.call("deliver()", self._prepare_and_deliver, events)

    def _send_one(self, event: FlagEvent) -> None:
        """Deliver one event alone (the callback is set up for the batch it came in)."""
        if self._runs_here:
            self.guard.call_here("deliver()", self.callback.deliver, [event])
        else:
            self.guard.call("deliver()", self.callback.deliver, [event])

    def _prepare_and_deliver(self, events: list[FlagEvent]) -> None:
        """Set the callback up for the batch's fields if needed, then deliver (on the guard's thread)."""
        self._prepare_for(events[0])
        self.callback.deliver(events)

    def close_callback(self) -> None:
        """Call the callback's ``close`` (bounded by ``delivery.call_timeout``)."""
        self.guard.call("close()", self.callback.close)

    def _prepare_for(self, event: FlagEvent) -> None:
        """Set the callback up for ``event``'s fields, unless it already is."""
        if not self._set_up_for(event):
            self._setup(FlagSchema.from_event(event))

    def _set_up_for(self, event: FlagEvent) -> bool:
        """True when the callback is set up for ``event``'s fields (checked without building a schema)."""
        schema = self._schema
        if schema is None or len(schema.fields) != len(event.fields):
            return False
        for declared, given in zip(schema.fields, event.fields, strict=True):  # a loop: no tuples built per field
            if declared.name != given.name or declared.kind != given.kind or declared.role != given.role:
                return False
        return True

    @property
    def batch_size(self) -> int:
        """The most events one batch holds: the callback's own limit when it sets one, else the config's."""
        limit = self.callback.max_batch_size
        return self.config.batch_size if limit is None else max(1, limit)

    def accepts(self, event: FlagEvent) -> bool:
        """True when the lane's ``when`` rule lets ``event`` through and its callback's ``redact:`` keeps it."""
        if self.when is not None and not self.when.matches(event):
            return False
        return self._redaction_drops is None or not self._redaction_drops(event)

    def step(self, *, ignore_backoff: bool = False, fresh: tuple[int, FlagEvent] | None = None) -> StepResult:
        """Deliver one batch if this process holds the lease and something is due.

        :param fresh: an event just appended, with its sequence number: when it is the next one due,
            it is delivered as it is instead of being read back from the journal.
        """
        with self.lock:
            if not self._lease():
                return StepResult(wait=self.config.poll_interval)
            if not self._holds_lease:
                # newly ours: another process may have delivered meanwhile, so set the callback up afresh
                self._holds_lease = True
                self._schema = None
            cursor = self._current()
            if cursor.disabled:
                return StepResult(wait=None)
            if cursor.requeued:
                self._cursor = None
                return self._redeliver(self.journal.requeued(self.name, self.batch_size))
            return self._step_pending(cursor, ignore_backoff=ignore_backoff, fresh=fresh)

    def _current(self) -> LaneCursor:
        """The lane's state: the one in memory, or read afresh when it is old or something changed it."""
        cursor = self._cursor
        generation = self.journal.lane_generation
        if (
            cursor is None
            or cursor.generation != generation
            or time.monotonic() - cursor.loaded_at > self.config.poll_interval
        ):
            cursor = self._cursor = LaneCursor.of(self.journal.lane(self.name), generation)
        return cursor

    def _step_pending(
        self, cursor: LaneCursor, *, ignore_backoff: bool, fresh: tuple[int, FlagEvent] | None
    ) -> StepResult:
        """Deliver the next batch of pending events, unless backing off or gathering a batch."""
        if not ignore_backoff and cursor.next_attempt_at > 0:
            now = time.time()
            if cursor.next_attempt_at > now:
                return StepResult(wait=cursor.next_attempt_at - now)
        if fresh is not None and fresh[0] == cursor.done_seq + 1:
            items = [fresh]
        else:
            try:
                items = self.journal.events_after(cursor.done_seq, self.batch_size)
            except UndecodableEventError as exc:
                return self._undecodable(exc)
        if not items:
            return StepResult(wait=None)
        batching = not (ignore_backoff or self.urgent or self.config.mode == "inline")
        hold = self._hold_for_batch(items) if batching else None
        if hold is not None:
            return StepResult(wait=hold)
        result = self._deliver(items, cursor)
        result.partial = len(items) < self.batch_size
        return result

    def _undecodable(self, exc: UndecodableEventError) -> StepResult:
        """Dead-letter an event the journal cannot read back, so the lane goes on past it."""
        log.error("flagpipe: %s: %s cannot deliver it; it becomes a dead letter", exc, self.name)
        self._cursor = None
        self.journal.dead_letter(self.name, self.owner, [(exc.seq, exc.event_id)], str(exc), attempts=1, upto=exc.seq)
        return StepResult(progressed=True, done_seq=exc.seq)

    def _hold_for_batch(self, items: list[tuple[int, FlagEvent]]) -> float | None:
        """Seconds to wait before delivering, for a callback that batches by time (``batch_interval``).

        At most one batch per interval; a batch goes early only when it is full, and otherwise once its
        oldest event has waited the interval.
        """
        interval = self.callback.batch_interval
        if interval is None:
            return None
        now = time.time()
        since_last = now - self._last_delivery_at
        if since_last < interval:
            return interval - since_last
        if len(items) >= self.batch_size:
            return None
        age = now - items[0][1].created_at.timestamp()
        return None if age >= interval else interval - age

    def _lease(self) -> bool:
        """Hold the lane's lease, renewing it in the journal only when half of it has run out."""
        now = time.monotonic()
        if self._holds_lease and now < self._lease_renew_at:
            return True
        self._cursor = None  # read the state afresh with the lease
        if not self.journal.acquire(self.name, self.owner, self.config.lease_seconds):
            self._holds_lease = False
            return False
        self._lease_renew_at = now + self.config.lease_seconds / 2
        return True

    def _deliver(self, items: list[tuple[int, FlagEvent]], cursor: LaneCursor) -> StepResult:
        batch, upto, skipped = self._take_batch(items)
        if batch:
            events = [e for _, e in batch]
            attempt = cursor.attempts + 1
            try:
                self._send(events)
            except Exception as exc:  # noqa: BLE001 - every failure is classified and recorded
                self._cursor = None
                return self._failed(batch, exc, attempt, upto=upto, skipped=skipped)
        self.journal.advance(self.name, self.owner, upto, delivered=len(batch), skipped=skipped, defer=True)
        cursor.done_seq = max(cursor.done_seq, upto)
        cursor.attempts = 0
        cursor.next_attempt_at = 0.0
        if batch:
            self._last_delivery_at = time.time()
            self.plugins.notify_delivered(events, self.name, attempt)
        return StepResult(progressed=True, clean=True, done_seq=upto)

    def _take_batch(self, items: list[tuple[int, FlagEvent]]) -> tuple[list[tuple[int, FlagEvent]], int, int]:
        """The leading events that share one field set (skipping those ``when`` excludes)."""
        batch: list[tuple[int, FlagEvent]] = []
        skipped = 0
        upto = items[0][0]
        names: tuple[str, ...] | None = None  # the batch's field names
        for seq, event in items:
            if not self.accepts(event):
                skipped += 1
                upto = seq
                continue
            if batch:
                if names is None:
                    names = batch[0][1].field_names()
                if event.field_names() != names:
                    break
            batch.append((seq, event))
            upto = seq
        return batch, upto, skipped

    def _failed(
        self, batch: list[tuple[int, FlagEvent]], exc: Exception, attempt: int, *, upto: int, skipped: int
    ) -> StepResult:
        events = [e for _, e in batch]
        error = describe_error(exc)
        if isinstance(exc, PermanentError) and len(batch) > 1:
            # find the events at fault: deliver one at a time, so good events are not dead-lettered
            return self._deliver_one_by_one(batch, upto=upto, skipped=skipped)
        retry = self.config.retry
        oldest = min(e.created_at for e in events)
        too_old = (datetime.now(timezone.utc) - oldest).total_seconds() > retry.max_age
        final = isinstance(exc, PermanentError) or attempt >= retry.attempts or too_old
        log.warning(
            "flagpipe: delivering %d flag(s) to %s failed (attempt %d%s): %s",
            len(batch),
            self.name,
            attempt,
            ", giving up" if final else "",
            error,
        )
        self.plugins.notify_failed(events, self.name, exc, attempt, final=final)
        if final:
            self.journal.dead_letter(
                self.name,
                self.owner,
                [(s, e.id) for s, e in batch],
                error,
                attempts=attempt,
                upto=upto,
                skipped=skipped,
            )
            if isinstance(exc, DestinationDisabledError):
                self.journal.disable(self.name, error)
            return StepResult(progressed=True)
        retry_after = exc.retry_after if isinstance(exc, RetryableError) else None
        delay = backoff_delay(attempt, self.config, retry_after)
        self.journal.record_failure(self.name, self.owner, error, attempts=attempt, next_attempt_at=time.time() + delay)
        return StepResult(wait=delay)

    def _deliver_one_by_one(self, batch: list[tuple[int, FlagEvent]], *, upto: int, skipped: int) -> StepResult:
        """After a permanent batch failure, deliver each event alone: only those at fault become dead."""
        self._cursor = None
        for index, (seq, event) in enumerate(batch):
            last = index == len(batch) - 1
            mark, extra = (upto, skipped) if last else (seq, 0)
            try:
                self._send_one(event)
            except Exception as exc:  # noqa: BLE001 - classified like any failure
                result = self._failed([(seq, event)], exc, 1, upto=mark, skipped=extra)
                if not result.progressed:
                    return result  # retryable: the lane stays just before this event
                continue
            self.journal.advance(self.name, self.owner, mark, delivered=1, skipped=extra)
            self.plugins.notify_delivered([event], self.name, 1)
        return StepResult(progressed=True)

    def _redeliver(self, items: list[tuple[int, FlagEvent]]) -> StepResult:
        self._cursor = None
        events = [e for _, e in items]
        if not items:
            return StepResult(progressed=True)
        try:
            self._send(events)
        except Exception as exc:  # noqa: BLE001 - recorded on the dead letters
            self.journal.fail_requeued(self.name, [s for s, _ in items], describe_error(exc))
            self.plugins.notify_failed(events, self.name, exc, 1, final=True)
            return StepResult(progressed=True)
        self.journal.resolve_dead(self.name, [s for s, _ in items])
        self.plugins.notify_delivered(events, self.name, 1)
        return StepResult(progressed=True)

    def caught_up(self, target_seq: int) -> bool:
        """True when every event up to ``target_seq`` and every re-queued dead letter is handled.

        A disabled lane counts as caught up: nothing more can be done until someone re-enables it.
        """
        state = self.journal.lane(self.name)
        if state.disabled_reason is not None:
            return True
        return state.done_seq >= target_seq and not state.has_requeued

    def release(self) -> None:
        """Give up this process's lease on the lane."""
        self._holds_lease = False
        self._cursor = None
        self.journal.release(self.name, self.owner)


__all__ = ["Lane", "StepResult", "backoff_delay", "describe_error", "lane_fingerprint"]
