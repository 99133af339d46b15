"""A lane's state in memory while this process holds its lease (see :mod:`flagpipe.core.lane`)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flagpipe.core.journal_records import LaneState


@dataclass
class LaneCursor:
    """The part of a lane's state a step needs, kept in memory while this process holds the lease."""

    done_seq: int
    attempts: int
    next_attempt_at: float
    disabled: bool
    requeued: bool
    #: ``time.monotonic()`` when it was read from the journal, and the journal's lane generation then.
    loaded_at: float
    generation: int

    @classmethod
    def of(cls, state: LaneState, generation: int) -> LaneCursor:
        """A cursor from the journal's state of the lane."""
        return cls(
            state.done_seq,
            state.attempts,
            state.next_attempt_at,
            state.disabled_reason is not None,
            state.has_requeued,
            time.monotonic(),
            generation,
        )


__all__ = ["LaneCursor"]
