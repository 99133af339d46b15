"""Calls into a callback, bounded in time and isolated from the caller's thread.

Each lane runs its callback's ``setup``, ``deliver``, ``healthcheck`` and ``close`` on a worker thread
of its own (:class:`CallGuard`) and waits at most ``delivery.call_timeout`` seconds. A call that does
not return in time fails with :class:`CallbackHungError` (retryable: the events stay pending), and
until it does return, later calls fail at once rather than pile up. A callback raising
``SystemExit`` or ``KeyboardInterrupt`` fails with :class:`CallbackAbortedError` like any other
error: signals reach only the main thread, so a real Ctrl-C still interrupts the waiting caller.

:meth:`CallGuard.call_here` runs a call on the caller's own thread instead, with the same checks and
errors but no time bound, for callbacks whose work is local (``Callback.runs_in_caller``).
"""

from __future__ import annotations

import queue
import threading
from typing import TYPE_CHECKING, Any

from flagpipe.core.callback import DeliveryError, RetryableError

if TYPE_CHECKING:
    from collections.abc import Callable

#: Seconds a guard's idle worker thread waits for another call before it ends.
_IDLE_SECONDS = 30.0


class CallbackHungError(RetryableError):
    """A callback's method did not return within ``delivery.call_timeout``."""


class CallbackAbortedError(DeliveryError):
    """A callback's method raised ``SystemExit``, ``KeyboardInterrupt`` or another non-``Exception``."""


class _Call:
    __slots__ = ("args", "done", "error", "fn", "result", "what")

    def __init__(self, what: str, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.what = what
        self.fn = fn
        self.args = args
        #: Held until the call has finished: a bare lock is the cheapest way to wait across threads.
        self.done = threading.Lock()
        self.done.acquire()
        self.result: Any = None
        self.error: BaseException | None = None


class CallGuard:
    """Runs one callback's calls on a worker thread, each bounded by ``timeout`` seconds (None: unbounded)."""

    def __init__(self, name: str, timeout: float | None) -> None:
        self.name = name
        self.timeout = timeout
        self._queue: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._hung: _Call | None = None

    def call(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` (``what`` names it in errors, e.g. ``deliver()``) and return its result.

        :raises CallbackHungError: it did not return in time, or an earlier call still has not.
        :raises CallbackAbortedError: it raised a ``BaseException`` that is not an ``Exception``.
        """
        self._check_hung(what)
        job = _Call(what, fn, args)
        with self._lock:
            self._queue.put(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=f"flagpipe-call-{self.name}", daemon=True)
                self._thread.start()
        if not job.done.acquire(timeout=-1 if self.timeout is None else self.timeout):
            self._hung = job
            raise CallbackHungError(
                f"callback {self.name!r}: {what} did not return within {self.timeout:g}s"
                " (delivery.call_timeout); its events stay pending"
            )
        if job.error is not None:
            raise job.error
        return job.result

    def call_here(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(*args)`` on the caller's thread, unbounded in time; errors as :meth:`call` raises them.

        For calls that only touch local files, where handing over to the worker thread and back would
        cost more than the call. On the main thread a ``KeyboardInterrupt`` propagates (it may be a real
        Ctrl-C); other non-``Exception`` errors become :class:`CallbackAbortedError`.

        :raises CallbackHungError: an earlier call through :meth:`call` still has not returned.
        """
        self._check_hung(what)
        try:
            return fn(*args)
        except Exception:
            raise
        except BaseException as exc:  # SystemExit and the like: the callback's failure
            if isinstance(exc, KeyboardInterrupt) and threading.current_thread() is threading.main_thread():
                raise  # signals reach only the main thread: this may be a real Ctrl-C
            raise self._aborted(what, exc) from exc

    def _check_hung(self, what: str) -> None:
        """Fail at once while an earlier call that timed out is still running."""
        hung = self._hung
        if hung is not None:
            if hung.done.locked():
                raise CallbackHungError(
                    f"callback {self.name!r}: {hung.what} has not returned after more than {self.timeout:g}s;"
                    f" {what} was not called (its events stay pending)"
                )
            self._hung = None

    def _aborted(self, what: str, exc: BaseException) -> CallbackAbortedError:
        detail = f"({exc})" if str(exc) else ""
        return CallbackAbortedError(f"callback {self.name!r}: {what} raised {type(exc).__name__}{detail}")

    def _work(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=_IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            try:
                job.result = job.fn(*job.args)
            except Exception as exc:  # noqa: BLE001 - handed to the caller
                job.error = exc
            except BaseException as exc:  # noqa: BLE001 - SystemExit, KeyboardInterrupt: the callback's failure
                error = self._aborted(job.what, exc)
                error.__cause__ = exc
                job.error = error
            finally:
                job.done.release()
                del job


__all__ = ["CallGuard", "CallbackAbortedError", "CallbackHungError"]
