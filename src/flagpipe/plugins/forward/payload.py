"""The batch body the ``flagpipe`` callback sends: each event as a flag of the collector's API."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from flagpipe.core.chat import CHAT_KIND
from flagpipe.core.event import FileRef

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from flagpipe import FlagEvent

__all__ = ["batch_body"]


def batch_body(events: Sequence[FlagEvent], directory: Path) -> dict[str, Any]:
    """``{"flags": [...]}`` with values, files (base64, read from ``directory``) and the event id as key."""
    flags = []
    for event in events:
        values: dict[str, Any] = {}
        files: dict[str, Any] = {}
        for field in event.fields:
            if field.file is None:
                chat = field.kind == CHAT_KIND
                values[field.name] = _inline_chat_files(field.value, directory) if chat else field.value
                continue
            files[field.name] = _inline(field.file, directory)
        flag: dict[str, Any] = {"values": values, "files": files, "idempotency_key": event.id}
        for name in ("option", "username", "comment", "session_id", "app"):
            value = getattr(event, name)
            if value is not None:
                flag[name] = value
        if event.metadata:
            flag["metadata"] = event.metadata
        flags.append(flag)
    return {"flags": flags}


def _inline(ref: FileRef, directory: Path) -> dict[str, Any]:
    """A stored file as the collector takes it: its bytes in base64, its name and media type."""
    return {
        "data": base64.b64encode((directory / ref.path).read_bytes()).decode(),
        "name": ref.original_name or ref.path.rsplit("/", 1)[-1],
        "content_type": ref.media_type,
    }


def _inline_chat_files(messages: Any, directory: Path) -> Any:
    """A conversation whose file parts carry their bytes: the collector cannot read this host's files."""
    if not isinstance(messages, list):
        return messages
    inlined = []
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            parts = []
            for part in content:
                file = part.get("file") if isinstance(part, dict) and part.get("type") == "file" else None
                if isinstance(file, dict) and "sha256" in file:
                    part = {**part, "file": _inline(FileRef.model_validate(file), directory)}  # noqa: PLW2901
                parts.append(part)
            message = {**message, "content": parts}  # noqa: PLW2901
        inlined.append(message)
    return inlined
