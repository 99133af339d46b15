"""Chat reactions in Slack and Discord messages: the rated message quoted, with a few turns before it.

The quote is bounded: at most :data:`CONTEXT_TURNS` messages of context, each cut to
:data:`TURN_CHARS` characters, the rated message to :data:`MESSAGE_CHARS`, and the whole to the
limit the caller gives (Slack's 3,000 characters per block, Discord's 4,096 per description).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flagpipe.core.chat import message_text
from flagpipe.core.reactions import message_at, position, reaction_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from flagpipe import FlagEvent
    from flagpipe.core.reactions import Reaction

__all__ = ["CONTEXT_TURNS", "MESSAGE_CHARS", "TURN_CHARS", "chat_headline", "chat_quote"]

#: How many messages before the rated one are quoted.
CONTEXT_TURNS = 4
#: The most characters of one message of context.
TURN_CHARS = 200
#: The most characters of the rated message.
MESSAGE_CHARS = 1200


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split()) if limit <= TURN_CHARS else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _quoted(text: str) -> str:
    return "\n".join("> " + line for line in text.splitlines() or [""])


def chat_headline(event: FlagEvent) -> str | None:
    """The title of a chat reaction (``Chat in demo: dislike``), or None when ``event`` is not one."""
    reaction = reaction_of(event)
    if reaction is None:
        return None
    app = f" in {event.app}" if event.app else ""
    what = f"{'undo ' if reaction.undo else ''}{event.option or ''}".strip() or ("undo" if reaction.undo else "flagged")
    return f"Chat{app}: {what}"


def chat_quote(event: FlagEvent, limit: int, *, bold: str = "*", escape: Callable[[str], str] = str) -> str | None:
    """The rated message quoted after a few turns of context, at most ``limit`` characters; None if not chat.

    :param bold: the Markdown for bold text (``*`` in Slack's mrkdwn, ``**`` in Discord).
    :param escape: makes the conversation's text inert in the target's markup (roles and messages).
    """
    reaction = reaction_of(event)
    if reaction is None:
        return None
    return _render(reaction, bold, escape)[:limit]


def _render(reaction: Reaction, bold: str, escape: Callable[[str], str]) -> str:
    rated = message_at(reaction.conversation, reaction.index)
    place = position(reaction.index)
    place = place if rated is not None and place is not None else len(reaction.conversation)
    before = reaction.conversation[max(0, place - CONTEXT_TURNS) : place]
    lines = []
    if place > len(before):
        lines.append(f"_… {place - len(before)} earlier message(s)_")
    for message in before:
        role = message.get("role", "?") if isinstance(message, dict) else "?"
        text = _cut(message_text(message) if isinstance(message, dict) else str(message), TURN_CHARS)
        lines.append(f"{escape(str(role))}: {escape(text)}")
    role = rated.get("role", "assistant") if rated is not None else "message"
    text = reaction.message or (message_text(rated) if rated is not None else "")
    lines.append(f"{bold}{escape(str(role))} (message {escape(str(reaction.index))}):{bold}")
    lines.append(_quoted(escape(_cut(text, MESSAGE_CHARS))))
    return "\n".join(lines)
