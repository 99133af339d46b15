"""Conversations (the ``chat`` kind) as a typed Arrow column: a list of message structs.

Each message is ``{role, content, parts, metadata}``: ``content`` is the message's text (text parts
joined), ``parts`` its parts when it has any (``{type, text, file}``, ``file`` being the stored file's
``{path, original_name, media_type, size, sha256}``), ``metadata`` its metadata as JSON text. The
``huggingface`` feature of the column is a ``List`` of that struct, so ``datasets`` loads it typed.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from flagpipe.core.chat import message_text

if TYPE_CHECKING:
    from pathlib import Path

    import pyarrow as pa

__all__ = ["chat_cell", "chat_feature", "chat_type", "chat_value"]

_FILE_KEYS = (("path", "string"), ("original_name", "string"), ("media_type", "string"), ("size", "int64"))


def chat_type() -> pa.DataType:
    """The Arrow type of a conversation column."""
    import pyarrow as pa

    file = pa.struct([*((key, getattr(pa, kind)()) for key, kind in _FILE_KEYS), ("sha256", pa.string())])
    part = pa.struct([("type", pa.string()), ("text", pa.string()), ("file", file)])
    message = pa.struct(
        [("role", pa.string()), ("content", pa.string()), ("parts", pa.list_(part)), ("metadata", pa.string())]
    )
    return pa.list_(message)


def _value(dtype: str) -> dict[str, str]:
    return {"dtype": dtype, "_type": "Value"}


def chat_feature() -> dict[str, Any]:
    """The ``huggingface`` feature of a conversation column (``datasets``' ``List`` of a struct)."""
    file = {**{key: _value(kind) for key, kind in _FILE_KEYS}, "sha256": _value("string")}
    part = {"type": _value("string"), "text": _value("string"), "file": file}
    message = {
        "role": _value("string"),
        "content": _value("string"),
        "parts": {"feature": part, "_type": "List"},
        "metadata": _value("string"),
    }
    return {"feature": message, "_type": "List"}


def chat_cell(
    messages: Any, directory: Path | None, files_prefix: str, files: dict[str, bytes] | None
) -> list[dict[str, Any]] | None:
    """A stored conversation as the column's value; with ``files``, its files go there by content."""
    if not isinstance(messages, list):
        return None
    rows = []
    for message in messages:
        content = message.get("content")
        parts = None
        if isinstance(content, list):
            parts = [_part(p, directory, files_prefix, files) for p in content]
        metadata = message.get("metadata")
        rows.append(
            {
                "role": message.get("role"),
                "content": message_text(message),
                "parts": parts,
                "metadata": json.dumps(metadata, ensure_ascii=False, sort_keys=True) if metadata else None,
            }
        )
    return rows


def _part(
    part: dict[str, Any], directory: Path | None, files_prefix: str, files: dict[str, bytes] | None
) -> dict[str, Any]:
    file = part.get("file")
    if part.get("type") != "file" or not isinstance(file, dict):
        return {"type": "text", "text": part.get("text"), "file": None}
    stored = dict(file)
    if files is not None and directory is not None:
        name = f"{file['sha256']}{PurePosixPath(file['path']).suffix}"
        files[files_prefix + name] = (directory / file["path"]).read_bytes()
        stored["path"] = files_prefix + name
    return {"type": "file", "text": None, "file": stored}


def chat_value(rows: Any) -> list[dict[str, Any]] | None:
    """The stored conversation of a column's value (as read back from a shard)."""
    if rows is None:
        return None
    messages = []
    for row in rows:
        message: dict[str, Any] = {"role": row.get("role")}
        parts = row.get("parts")
        if parts:
            message["content"] = [
                {"type": "file", "file": {k: v for k, v in p["file"].items() if v is not None}}
                if p.get("type") == "file" and p.get("file")
                else {"type": "text", "text": p.get("text") or ""}
                for p in parts
            ]
        else:
            message["content"] = row.get("content") or ""
        if row.get("metadata"):
            message["metadata"] = json.loads(row["metadata"])
        messages.append(message)
    return messages
