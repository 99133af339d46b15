"""The journal's upkeep thread: WAL checkpoints and deferred lane progress, off the flag() path.

SQLite checkpoints a WAL automatically inside whichever commit crosses 1,000 pages, so now and then
one ``flag()`` would pay for copying the log into the database (milliseconds). A journal with upkeep
turns that off on its own connection (``wal_autocheckpoint=0``) and this thread runs ``PASSIVE``
checkpoints instead, on a connection of its own: they never wait for, nor block, a writer. It also
saves lane progress that has waited longer than a moment (see :mod:`flagpipe.core.journal_lanes`).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

log = logging.getLogger("flagpipe.journal")

#: Seconds between two rounds of upkeep.
UPKEEP_INTERVAL = 0.2


class JournalUpkeep:
    """A daemon thread checkpointing ``path`` and calling ``save_progress`` every ``interval`` seconds.

    :param changed: returns a number that grows with each commit; no checkpoint runs while it stays put.
    """

    def __init__(
        self,
        path: Path,
        *,
        synchronous: str,
        changed: Callable[[], int],
        save_progress: Callable[[], None],
        interval: float = UPKEEP_INTERVAL,
    ) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=5.0)
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._changed = changed
        self._save_progress = save_progress
        self._interval = interval
        self._stop = threading.Event()
        self._seen = -1
        #: How many checkpoints ran (for tests and benchmarks).
        self.checkpoints = 0
        self._thread = threading.Thread(target=self._run, name="flagpipe-journal-upkeep", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread.is_alive()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self._interval):
                self.run_once()
        finally:
            self._db.close()

    def run_once(self) -> None:
        """One round: save old lane progress, then checkpoint if anything was committed since the last round."""
        try:
            self._save_progress()
            changed = self._changed()
            if changed != self._seen:
                self._seen = changed
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                self.checkpoints += 1
        except Exception:  # a busy or closing journal: the next round tries again
            log.debug("flagpipe: journal upkeep round failed", exc_info=True)

    def stop(self) -> None:
        """Stop the thread and wait for it (it closes its connection)."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=10)


__all__ = ["UPKEEP_INTERVAL", "JournalUpkeep"]
