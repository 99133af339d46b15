"""Gradio's ``ChatCSVLogger`` files: chat reactions under a header that is one column off.

``gr.ChatInterface(flagging_mode="manual")`` logs each reaction as ``[conversation JSON, index,
feedback, time]`` under the header ``conversation,index,value,flag,timestamp``: the feedback lands
under ``value`` and the time under ``flag``. :func:`parse_chat_csv` reads the four-cell rows (and
five-cell rows, should the header ever be met) into reaction records with the fields of
:data:`flagpipe.core.reactions.REACTION_FIELDS`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from flagpipe.core.chat import CHAT_KIND, message_text
from flagpipe.core.reactions import message_at
from flagpipe.data.csv_cells import read_csv_rows, row_key
from flagpipe.data.records import FlagRecord, SourceError, parse_timestamp

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["CHAT_HEADER", "is_chat_header", "parse_chat_csv"]

#: The header ``ChatCSVLogger`` writes.
CHAT_HEADER = ("conversation", "index", "value", "flag", "timestamp")
_THUMBS = {"Like": "like", "Dislike": "dislike"}


def is_chat_header(header: list[str]) -> bool:
    """True for the header of a ``ChatCSVLogger`` file."""
    return tuple(header) == CHAT_HEADER


def _index(cell: str) -> Any:
    """``1``, ``[0, 1]`` or Python's ``(0, 1)`` as Gradio wrote it."""
    text = cell.strip()
    if text.startswith("(") and text.endswith(")"):
        text = "[" + text[1:-1].rstrip(", ") + "]"
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_chat_csv(path: Path, unescape: Any) -> list[FlagRecord]:
    """The reactions of a ``ChatCSVLogger`` file; ``unescape`` undoes Gradio's CSV-injection escaping.

    ``Like`` and ``Dislike`` become ``like`` and ``dislike``; an empty feedback (Gradio 6's undo) is an
    undo; the conversation keeps Gradio's messages (a ``chat`` field normalises them when stored).
    """
    rows = read_csv_rows(path)
    records = []
    for number, row in enumerate(rows[1:]):
        cells = [unescape(c) for c in row]
        if len(cells) not in (4, 5):
            raise SourceError(f"{path} row {number + 2}: expected 4 cells (ChatCSVLogger), got {len(cells)}")
        conversation_cell, index_cell, feedback, stamp = cells[0], cells[1], cells[2], cells[-1]
        try:
            conversation = json.loads(conversation_cell)
        except ValueError:
            raise SourceError(f"{path} row {number + 2}: the conversation is not JSON") from None
        index = _index(index_cell)
        rated = message_at(conversation, index) if isinstance(conversation, list) else None
        text = message_text(rated) if rated is not None else None
        undo = feedback in ("", "None")
        records.append(
            FlagRecord(
                fields=[
                    ("conversation", CHAT_KIND, conversation),
                    ("index", "json", index),
                    ("message", "text", text),
                    ("undo", "bool", undo),
                ],
                option=None if undo else _THUMBS.get(feedback, feedback),
                timestamp=parse_timestamp(stamp),
                raw={"conversation": conversation_cell, "index": index_cell, "feedback": feedback},
                source_key=row_key(path.name, number, row),
            )
        )
    return records
