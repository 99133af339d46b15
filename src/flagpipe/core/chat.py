"""The ``chat`` field kind: a conversation as a list of messages, with its files stored like any other.

A stored message is a JSON object::

    {"role": "assistant", "content": "text" | [part, ...], "metadata": {...}}

``content`` is the message's text, or a list of parts: ``{"type": "text", "text": ...}`` and
``{"type": "file", "file": <FileRef>}`` (the file stored in the flagging directory, as for a file
field). ``metadata`` is present only when the message had some (Gradio's ``ChatMessage.metadata``:
tool calls, thinking blocks, their titles, logs and durations).

:func:`normalize` accepts what apps hold: Gradio 5/6 message dicts and ``ChatMessage`` objects
(content as text, a file payload, a tuple ``(path,)`` or a list of parts), Gradio 4's list of
``[user, bot]`` pairs, and messages already in the stored form.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flagpipe.core.event import FileRef
from flagpipe.core.kinds import FileUpload

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["CHAT_KIND", "message_text", "normalize"]

#: The field kind of a conversation.
CHAT_KIND = "chat"

#: Keys of a file payload that hold its path, in the order tried (Gradio's ``FileData`` has ``path``).
_PATH_KEYS = ("path", "name")


def normalize(name: str, value: Any, store: Callable[[Any], FileRef | str]) -> list[dict[str, Any]]:
    """The stored form of a conversation; files are handed to ``store``, which returns their reference.

    A file stored already (a :class:`FileRef`, or a mapping of one) is handed to ``store`` too, as
    a :class:`FileRef`. ``store`` may return a text instead (a file that redaction withheld): the
    part becomes that text.

    :raises ValueError: naming the field and the message, for a message without a role or content
        of a type that is neither text, a file nor a list of parts.
    """
    if hasattr(value, "model_dump") and not isinstance(value, type):
        value = value.model_dump()
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = json.loads(value)  # a conversation as JSON text (a CSV cell, a command line)
        except ValueError:
            raise ValueError(f"field {name!r} (chat): the text is not a JSON list of messages") from None
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValueError(f"field {name!r} (chat): expected a list of messages, got {type(value).__name__}")
    if value and all(_is_pair(item) for item in value):
        return _from_pairs(name, value, store)
    return [_message(name, index, item, store) for index, item in enumerate(value)]


def _is_pair(item: Any) -> bool:
    return isinstance(item, (list, tuple)) and len(item) == 2 and not isinstance(item, Mapping)


def _from_pairs(name: str, pairs: Any, store: Callable[[Any], FileRef | str]) -> list[dict[str, Any]]:
    """Gradio 4's tuples format: ``[[user, bot], ...]``; a None side is no message."""
    messages: list[dict[str, Any]] = []
    for user, bot in pairs:
        for role, content in (("user", user), ("assistant", bot)):
            if content is not None:
                where = f"field {name!r} (chat) message {len(messages)}"
                messages.append({"role": role, "content": _content(where, content, store)})
    return messages


def _message(name: str, index: int, item: Any, store: Callable[[Any], FileRef | str]) -> dict[str, Any]:
    where = f"field {name!r} (chat) message {index}"
    if dataclasses.is_dataclass(item) and not isinstance(item, type):
        item = {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
    elif hasattr(item, "model_dump") and not isinstance(item, type):
        item = item.model_dump()
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: expected a message with a role and content, got {type(item).__name__}")
    role = item.get("role")
    if not isinstance(role, str) or not role:
        raise ValueError(f"{where}: a message needs a role (user, assistant, system ...), got {role!r}")
    message: dict[str, Any] = {"role": role, "content": _content(where, item.get("content"), store)}
    metadata = _plain_metadata(where, item.get("metadata"))
    if metadata:
        message["metadata"] = metadata
    return message


def _plain_metadata(where: str, metadata: Any) -> dict[str, Any]:
    if hasattr(metadata, "model_dump") and not isinstance(metadata, type):
        metadata = metadata.model_dump()
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise ValueError(f"{where}: metadata must be a mapping, got {type(metadata).__name__}")
    kept = {str(k): v for k, v in metadata.items() if v is not None}
    try:
        json.dumps(kept, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: metadata is not JSON: {exc}") from None
    return kept


def _content(where: str, content: Any, store: Callable[[Any], FileRef | str]) -> str | list[dict[str, Any]]:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)) and not (isinstance(content, tuple) and _is_file_tuple(content)):
        return [_part(f"{where} part {i}", part, store) for i, part in enumerate(content)]
    return [_part(where, content, store)]


def _is_file_tuple(content: tuple[Any, ...]) -> bool:
    """Gradio's ``(path,)`` or ``(path, alt text)`` content."""
    return 1 <= len(content) <= 2 and isinstance(content[0], (str, Path))


def _part(where: str, part: Any, store: Callable[[Any], FileRef | str]) -> dict[str, Any]:
    if hasattr(part, "model_dump") and not isinstance(part, type):
        part = part.model_dump()
    if isinstance(part, str):
        return {"type": "text", "text": part}
    if isinstance(part, tuple) and _is_file_tuple(part):
        return _file_part(where, part[0], store)
    if isinstance(part, (Path, bytes, bytearray, FileUpload)):
        return _file_part(where, part, store)
    if isinstance(part, Mapping):
        kind = part.get("type")
        if kind == "text":
            return {"type": "text", "text": str(part.get("text") or "")}
        if kind == "file" or "file" in part:
            return _file_part(where, part.get("file"), store)
        if any(part.get(key) for key in _PATH_KEYS) or "sha256" in part:
            return _file_part(where, part, store)
    raise ValueError(f"{where}: content must be text, a file or a list of parts, got {type(part).__name__}")


def _file_part(where: str, file: Any, store: Callable[[Any], FileRef | str]) -> dict[str, Any]:
    if isinstance(file, Mapping) and "sha256" in file:
        try:
            file = FileRef.model_validate(dict(file))  # stored already: ``store`` may still withhold it
        except ValueError as exc:
            raise ValueError(f"{where}: not a stored file reference: {exc}") from None
    if isinstance(file, Mapping):
        path = next((file[key] for key in _PATH_KEYS if file.get(key)), None)
        if path is None:
            raise ValueError(f"{where}: the file has no local path (keys: {', '.join(map(str, file))})")
        file = path
    if file is None:
        raise ValueError(f"{where}: a file part without a file")
    stored = store(file)
    if isinstance(stored, str):  # withheld by redaction: the text that stands for it
        return {"type": "text", "text": stored}
    return {"type": "file", "file": stored.model_dump(mode="json")}


def message_text(message: Mapping[str, Any]) -> str:
    """A message's text: its content, or its text parts joined, files shown as ``[file: name]``."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return "" if content is None else str(content)
    texts = []
    for part in content:
        if not isinstance(part, Mapping):
            texts.append(str(part))
        elif part.get("type") == "file":
            file = part.get("file") or {}
            name = file.get("original_name") or file.get("path") if isinstance(file, Mapping) else file
            texts.append(f"[file: {name or '?'}]")
        else:
            texts.append(str(part.get("text") or ""))
    return "\n".join(texts)
