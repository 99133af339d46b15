"""Conversations and reaction flags shared by the chat tests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flagpipe.core.reactions import REACTION_FIELDS

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe import Flagger

#: A tiny valid PNG (1x1, red).
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c4944415408d763f8cfc000000301"
    "0100c9fe92ef0000000049454e44ae426082"
)


def conversation(tmp_path: Path, turns: int = 3) -> list[dict[str, Any]]:
    """A Gradio 6 style conversation: text, a user file, a thinking block, then ``turns`` more exchanges."""
    image = tmp_path / "cat.png"
    image.write_bytes(PNG)
    messages: list[dict[str, Any]] = [
        {
            "role": "user",
            "content": [{"type": "text", "text": "what is this?"}, {"type": "file", "file": {"path": str(image)}}],
        },
        {
            "role": "assistant",
            "content": "Let me look.",
            "metadata": {"title": "Thinking", "status": "done", "duration": 0.5},
        },
        {"role": "assistant", "content": "A cat."},
    ]
    for n in range(turns):
        messages += [{"role": "user", "content": f"question {n}"}, {"role": "assistant", "content": f"answer {n}"}]
    return messages


def react(
    flagger: Flagger,
    messages: list[dict[str, Any]],
    index: Any,
    option: str | None,
    *,
    undo: bool = False,
    **details: Any,
) -> None:
    """Flag one reaction to ``messages[index]`` (the flagger has the reaction fields set up)."""
    position = index if isinstance(index, int) else index[0] * 2 + index[1]
    rated = messages[position]
    text = rated["content"] if isinstance(rated["content"], str) else ""
    flagger.flag({"conversation": messages, "index": index, "message": text, "undo": undo}, option=option, **details)


__all__ = ["PNG", "REACTION_FIELDS", "conversation", "react"]
