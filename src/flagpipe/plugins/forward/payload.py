"""The batch body the ``flagpipe`` callback sends: each event as a flag of the collector's API."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

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
                values[field.name] = field.value
                continue
            data = (directory / field.file.path).read_bytes()
            files[field.name] = {
                "data": base64.b64encode(data).decode(),
                "name": field.file.original_name or field.file.path.rsplit("/", 1)[-1],
                "content_type": field.file.media_type,
            }
        flag: dict[str, Any] = {"values": values, "files": files, "idempotency_key": event.id}
        for name in ("option", "username", "comment", "session_id", "app"):
            value = getattr(event, name)
            if value is not None:
                flag[name] = value
        if event.metadata:
            flag["metadata"] = event.metadata
        flags.append(flag)
    return {"flags": flags}
