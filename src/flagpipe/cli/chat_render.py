"""The chat section of ``flagpipe stats``: reactions per day, like/dislike per app, the most-disliked replies."""

from __future__ import annotations

from typing import Any

from flagpipe.cli.common import _console
from flagpipe.cli.render import Column, one_line, print_line, print_table

__all__ = ["print_chat_stats"]


def print_chat_stats(chat: dict[str, Any]) -> None:
    """Print the counts of :func:`flagpipe.data.chat.chat_stats` as three tables."""
    console = _console()
    console.print()
    undos = f" ({chat['undos']:,} undone)" if chat["undos"] else ""
    print_line(f"{chat['total']:,} chat reactions{undos}")
    count = Column("reactions", "number")
    console.print()
    rows = [[r["day"], r["reaction"], f"{r['count']:,}"] for r in chat["by_day"]]
    print_table((Column("day (UTC)"), Column("reaction"), count), rows, title="chat reactions by day")
    console.print()
    rows = [
        [
            r["app"] or "(no app)",
            f"{r['like']:,}",
            f"{r['dislike']:,}",
            f"{r['other']:,}",
            "-" if r["like_ratio"] is None else f"{100 * r['like_ratio']:.0f}%",
        ]
        for r in chat["by_app"]
    ]
    columns = (
        Column("app"),
        Column("like", "number"),
        Column("dislike", "number"),
        Column("other", "number"),
        Column("liked", "number"),
    )
    print_table(columns, rows, title="messages by final reaction, per app")
    if chat["most_disliked"]:
        console.print()
        rows = [[one_line(r["message"])[:200], f"{r['dislikes']:,}"] for r in chat["most_disliked"]]
        print_table((Column("bot reply", "text"), Column("dislikes", "number")), rows, title="most disliked replies")
