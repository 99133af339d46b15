"""Reading chat reactions: each rated message's final state, and the counts ``flagpipe stats`` shows.

Reactions are flags with the fields of :data:`flagpipe.core.reactions.REACTION_FIELDS`. A message
rated several times (like, then dislike, then undo) ends in the state of its last reaction.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from flagpipe.core.chat import message_text
from flagpipe.core.reactions import message_at, message_key, reaction_of

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable

    import pandas as pd

    from flagpipe.core.event import FlagEvent

__all__ = ["REACTION_COLUMNS", "chat_stats", "reactions_frame", "read_reactions"]

#: The columns of :func:`read_reactions`.
REACTION_COLUMNS = (
    "app",
    "session_id",
    "index",
    "role",
    "message",
    "reaction",
    "comment",
    "username",
    "timestamp",
    "reactions",
    "conversation",
)

_LIKE, _DISLIKE = "like", "dislike"


def _kind(reaction: str | None) -> str | None:
    """``like`` or ``dislike`` for the thumbs (in any case), else None."""
    folded = (reaction or "").casefold()
    return folded if folded in (_LIKE, _DISLIKE) else None


def chat_stats(events: Iterable[FlagEvent], *, top: int = 5) -> dict[str, Any]:
    """Counts of chat reactions: per UTC day and reaction, like/dislike per app, the most-disliked replies.

    ``by_day`` counts every reaction given (undos apart); ``by_app`` and ``most_disliked`` count each
    message's final state. ``total`` is 0 when no event is a chat reaction.
    """
    per_day: Counter[tuple[str, str]] = Counter()
    undos = 0
    last: dict[tuple[Any, ...], Any] = {}
    for event in events:
        reaction = reaction_of(event)
        if reaction is None:
            continue
        if reaction.undo:
            undos += 1
        else:
            per_day[(reaction.created_at.date().isoformat(), reaction.reaction or "(none)")] += 1
        last[reaction.key] = reaction
    by_app: dict[str | None, Counter[str]] = defaultdict(Counter)
    disliked: Counter[str] = Counter()
    for reaction in last.values():
        kind = _kind(reaction.reaction)
        by_app[reaction.app][kind or ("(undone)" if reaction.reaction is None else "other")] += 1
        if kind == _DISLIKE:
            disliked[reaction.message] += 1
    return {
        "total": sum(per_day.values()) + undos,
        "undos": undos,
        "by_day": [{"day": d, "reaction": r, "count": n} for (d, r), n in sorted(per_day.items())],
        "by_app": [
            {
                "app": app,
                "like": counts[_LIKE],
                "dislike": counts[_DISLIKE],
                "other": counts["other"],
                "like_ratio": round(counts[_LIKE] / (counts[_LIKE] + counts[_DISLIKE]), 3)
                if counts[_LIKE] + counts[_DISLIKE]
                else None,
            }
            for app, counts in sorted(by_app.items(), key=lambda item: item[0] or "")
        ],
        "most_disliked": [{"message": m, "dislikes": n} for m, n in disliked.most_common(top)],
    }


def reactions_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Each rated message's final state, from a frame of :func:`flagpipe.read_flags` (one row per message).

    Columns: :data:`REACTION_COLUMNS`; ``reaction`` is None where the last reaction was undone,
    ``reactions`` how many reactions (undos included) the message got.
    """
    import pandas as pd

    if "conversation" not in frame.columns or "index" not in frame.columns:
        empty: pd.DataFrame = pd.DataFrame({name: pd.Series(dtype=object) for name in REACTION_COLUMNS})
        return empty
    states: dict[tuple[Any, ...], dict[str, Any]] = {}
    counts: Counter[tuple[Any, ...]] = Counter()
    for row in frame.to_dict("records"):
        conversation = _listed(row.get("conversation"))
        if conversation is None:
            continue
        index = _plain(row.get("index"))
        key = message_key(_plain(row.get("app")), _plain(row.get("session_id")), index, conversation)
        counts[key] += 1
        undo = bool(_plain(row.get("undo")) or False)
        rated = message_at(conversation, index)
        text = _plain(row.get("message"))
        states[key] = {
            "app": _plain(row.get("app")),
            "session_id": _plain(row.get("session_id")),
            "index": index,
            "role": rated.get("role") if rated is not None else None,
            "message": text if isinstance(text, str) else (message_text(rated) if rated is not None else None),
            "reaction": None if undo else _plain(row.get("option")),
            "comment": None if undo else _plain(row.get("comment")),
            "username": _plain(row.get("username")),
            "timestamp": row.get("timestamp"),
            "conversation": conversation,
        }
    rows = [{**state, "reactions": counts[key]} for key, state in states.items()]
    columns = {name: pd.Series([row[name] for row in rows], dtype=object) for name in REACTION_COLUMNS}
    columns["reactions"] = columns["reactions"].astype("int64")
    columns["timestamp"] = pd.to_datetime(columns["timestamp"], utc=True)
    result: pd.DataFrame = pd.DataFrame(columns)
    return result


def read_reactions(source: str | os.PathLike[str], **read_kwargs: Any) -> pd.DataFrame:
    """Read chat reactions from any source :func:`flagpipe.read_flags` reads: one row per rated message.

    Each message is in its final state (see :func:`reactions_frame`); keyword arguments go to
    ``read_flags`` (``since``, ``apps``, ``storage_options`` ...).
    """
    from flagpipe.data.read import read_flags

    frame: pd.DataFrame = read_flags(source, **read_kwargs)
    return reactions_frame(frame)


def _plain(value: Any) -> Any:
    """A frame cell as a plain value: pandas' missing values become None."""
    if value is None or isinstance(value, (list, dict, str, bool, int)):
        return value
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value.item() if hasattr(value, "item") else value


def _listed(value: Any) -> list[Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return list(value) if isinstance(value, (list, tuple)) else None
