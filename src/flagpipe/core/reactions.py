"""Reactions to chat messages: the event layout they are stored in, and how to read them back.

A reaction is a flag whose fields are :data:`REACTION_FIELDS`:

- ``conversation`` (kind ``chat``): the whole conversation when the reaction was given;
- ``index`` (``json``): which message, as Gradio gives it (a number, or ``[i, j]`` in the tuples format);
- ``message`` (``text``, an output): the rated message's text, for reading without the conversation;
- ``undo`` (``bool``): true when the person took a reaction back.

The reaction itself is the event's ``option`` (``like``, ``dislike`` or a configured option; None on
an undo), its ``comment`` the free text. The same fields read back from any sink (a CSV keeps no
kinds, so a ``conversation`` list is recognised too).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flagpipe.core.chat import CHAT_KIND, message_text
from flagpipe.core.schema import FieldSpec

if TYPE_CHECKING:
    from collections.abc import Iterable

    from flagpipe.core.event import FlagEvent

__all__ = ["REACTION_FIELDS", "Reaction", "final_reactions", "message_at", "message_key", "position", "reaction_of"]

#: The fields of a reaction event, in order.
REACTION_FIELDS = (
    FieldSpec("conversation", kind=CHAT_KIND, role="input"),
    FieldSpec("index", kind="json", role="input"),
    FieldSpec("message", kind="text", role="output"),
    FieldSpec("undo", kind="bool", role="input"),
)


@dataclass(frozen=True)
class Reaction:
    """One reaction read from an event: which message, what reaction, by whom and when."""

    event_id: str
    created_at: datetime
    conversation: list[Any]
    index: Any
    reaction: str | None
    undo: bool
    message: str
    comment: str | None
    username: str | None
    session_id: str | None
    app: str | None

    @property
    def key(self) -> tuple[Any, ...]:
        """What identifies the rated message (see :func:`message_key`)."""
        return message_key(self.app, self.session_id, self.index, self.conversation)


def message_key(app: str | None, session_id: str | None, index: Any, conversation: list[Any]) -> tuple[Any, ...]:
    """What identifies a rated message: app, session, index and the conversation up to that message."""
    place = position(index)
    upto = conversation[: place + 1] if place is not None else conversation
    digest = hashlib.sha256(json.dumps(upto, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return (app, session_id, json.dumps(index), digest)


def position(index: Any) -> int | None:
    """The message's place in a messages list (the pair's number for ``[i, j]``, where j picks the side)."""
    if isinstance(index, bool):
        return None
    if isinstance(index, int):
        return index
    if isinstance(index, (list, tuple)) and len(index) == 2 and all(isinstance(i, int) for i in index):
        return int(index[0]) * 2 + int(index[1])
    return None


def message_at(conversation: list[Any], index: Any) -> dict[str, Any] | None:
    """The rated message of a stored conversation, or None when ``index`` is outside it."""
    place = position(index)
    if place is None or not 0 <= place < len(conversation):
        return None
    found = conversation[place]
    return found if isinstance(found, dict) else None


def reaction_of(event: FlagEvent) -> Reaction | None:
    """The reaction an event records, or None when it is not a chat reaction."""
    values = {f.name: f for f in event.fields}
    conversation = values.get("conversation")
    if conversation is None or "index" not in values:
        return None
    messages = conversation.value
    if isinstance(messages, str) and conversation.kind != CHAT_KIND:
        try:
            messages = json.loads(messages)
        except ValueError:
            return None
    if not isinstance(messages, list) or (conversation.kind not in (CHAT_KIND, "json")):
        return None
    index = values["index"].value
    undo_field = values.get("undo")
    undo = bool(undo_field.value) if undo_field is not None else False
    message_field = values.get("message")
    text = message_field.value if message_field is not None and isinstance(message_field.value, str) else None
    if text is None:
        rated = message_at(messages, index)
        text = message_text(rated) if rated is not None else ""
    return Reaction(
        event_id=event.id,
        created_at=event.created_at,
        conversation=list(messages),
        index=index,
        reaction=None if undo else event.option,
        undo=undo,
        message=text,
        comment=event.comment,
        username=event.username,
        session_id=event.session_id,
        app=event.app,
    )


def final_reactions(events: Iterable[FlagEvent]) -> list[Reaction]:
    """Each rated message's last reaction, in the order the messages were first rated.

    Events come in flag order; a later reaction to the same message replaces an earlier one, and an
    undo leaves the message with ``reaction`` None.
    """
    last: dict[tuple[Any, ...], Reaction] = {}
    for event in events:
        reaction = reaction_of(event)
        if reaction is not None:
            last[reaction.key] = reaction
    return list(last.values())
