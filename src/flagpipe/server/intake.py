"""Turning an API flag into a call of the Flagger: values, files, option checks, idempotency keys.

Everything is checked before anything is stored: an unknown field or option, a bad base64 file or an
app the key may not flag for is refused with the field's path, and nothing reaches the journal.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import TYPE_CHECKING, Any

from flagpipe.config.model import resolve_option
from flagpipe.core.chat import CHAT_KIND
from flagpipe.core.event import new_event_id
from flagpipe.core.files import FileTooLargeError
from flagpipe.core.journal_records import JournalError
from flagpipe.core.kinds import FileUpload
from flagpipe.core.values import no_local_paths
from flagpipe.server.auth import KeyRing
from flagpipe.server.errors import ApiError, invalid
from flagpipe.server.models import CallbackState, FlagOut, FlagStatus

if TYPE_CHECKING:
    from flagpipe.config.server_model import ApiKey
    from flagpipe.flagger import Flagger
    from flagpipe.server.idempotency import Claim, IdempotencyStore
    from flagpipe.server.models import FlagIn

__all__ = ["accept", "flag_status"]


def accept(flagger: Flagger, keys: IdempotencyStore, key: ApiKey, flag: FlagIn, idempotency_key: str | None) -> FlagOut:
    """Store one flag (or find the one stored under ``idempotency_key``) and describe it."""
    KeyRing.require_app(key, flag.app or flagger.config.app)
    values = _values(flagger, flag)
    _check_option(flagger, flag.option)
    journal = flagger.journal
    if idempotency_key is None or journal is None:
        return _store(flagger, flag, values, None)
    fingerprint = _fingerprint(flag)
    claim = keys.claim(key.id, idempotency_key, new_event_id(), fingerprint)
    if claim.fingerprint is not None and claim.fingerprint != fingerprint:
        raise invalid(["header", "Idempotency-Key"], "this key was used for a different request; send a new key")
    if journal.seq_of(claim.event_id) is not None:
        return _replayed(claim)
    try:
        out = _store(flagger, flag, values, claim.event_id)
    except JournalError:
        if journal.seq_of(claim.event_id) is not None:  # a concurrent retry stored it first
            return _replayed(keys.claim(key.id, idempotency_key, claim.event_id, fingerprint))
        raise
    if out.stored:
        keys.keep_answer(key.id, idempotency_key, out.model_dump_json())
    return out


def _fingerprint(flag: FlagIn) -> str:
    """A digest of what the request asks to store, to tell a retry from another request under one key."""
    canonical = json.dumps(flag.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replayed(claim: Claim) -> FlagOut:
    """The first answer given under the key (or, if it was lost in a crash, the stored flag's id)."""
    if claim.answer is None:
        return FlagOut(id=claim.event_id, stored=True, replayed=True)
    return FlagOut.model_validate_json(claim.answer).model_copy(update={"replayed": True})


def _store(flagger: Flagger, flag: FlagIn, values: dict[str, Any], event_id: str | None) -> FlagOut:
    """Hand the flag to the Flagger (under ``event_id`` when a key claimed one) and describe the receipt."""
    details: dict[str, Any] = {
        "option": flag.option,
        "username": flag.username,
        "comment": flag.comment,
        "metadata": flag.metadata,
        "session_id": flag.session_id,
    }
    try:
        receipt = flagger._submit(  # values from outside: no file is read from a path on this machine
            values,
            "manual",
            details,  # type: ignore[arg-type]
            event_id=event_id,
            app=flag.app,
            paths=no_local_paths,
        )
    except FileTooLargeError as exc:
        raise ApiError(413, "too_large", str(exc)) from None
    except (ValueError, TypeError) as exc:
        raise invalid(["values"], str(exc)) from None
    if not receipt.stored or receipt.id is None:
        return FlagOut(id="", stored=False, reason=receipt.reason)
    return FlagOut(
        id=receipt.id,
        stored=True,
        delivered=list(receipt.delivered),
        pending=list(receipt.pending),
        failed=dict(receipt.failed),
        skipped=list(receipt.skipped),
    )


def _values(flagger: Flagger, flag: FlagIn) -> dict[str, Any]:
    values: dict[str, Any] = dict(flag.values)
    for name, file in flag.files.items():
        if name in values:
            raise invalid(["files", name], "a field is either a value or a file, not both")
        try:
            data = base64.b64decode(file.data, validate=True)
        except (binascii.Error, ValueError):
            raise invalid(["files", name, "data"], "not valid base64") from None
        values[name] = FileUpload(data, file.name, file.content_type)
    schema = flagger.schema
    if schema is not None:
        for name, value in list(values.items()):
            spec = schema.get(name)
            if spec is None:
                where = "files" if name in flag.files else "values"
                raise invalid([where, name], f"unknown field; declared fields: {', '.join(schema.names)}")
            if spec.kind == CHAT_KIND and name not in flag.files:
                values[name] = _inline_chat_files(name, value)
    for name in values:
        if not name.strip():
            raise invalid(["values", name], "field names must not be blank")
    return values


def _inline_chat_files(name: str, messages: Any) -> Any:
    """A conversation with each file part sent inline (``{"type": "file", "file": {"data": <base64>}}``) decoded."""
    if not isinstance(messages, list):
        return messages
    decoded = []
    for index, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            parts = [_inline_part([*("values", name, index, "content", at)], part) for at, part in enumerate(content)]
            message = {**message, "content": parts}  # noqa: PLW2901  # the decoded copy replaces it
        decoded.append(message)
    return decoded


def _inline_part(loc: list[str | int], part: Any) -> Any:
    file = part.get("file") if isinstance(part, dict) and part.get("type") == "file" else None
    if not (isinstance(file, dict) and "data" in file):
        return part
    try:
        data = base64.b64decode(str(file["data"]), validate=True)
    except (binascii.Error, ValueError):
        raise invalid([*loc, "file", "data"], "not valid base64") from None
    name = file.get("name") or "file"
    content_type = file.get("content_type")
    if not isinstance(name, str) or not (content_type is None or isinstance(content_type, str)):
        raise invalid([*loc, "file"], "name and content_type must be text")
    return {**part, "file": FileUpload(data, name, content_type)}


def _check_option(flagger: Flagger, option: str | None) -> None:
    try:
        resolve_option(flagger.options, option)
    except ValueError as exc:
        raise invalid(["option"], str(exc)) from None


def flag_status(flagger: Flagger, event_id: str) -> FlagStatus | None:
    """A stored flag's state per callback, or None when the journal holds no such flag."""
    journal = flagger.journal
    if journal is None:
        return None
    seq = journal.seq_of(event_id)
    event = journal.get(event_id) if seq is not None else None
    if seq is None or event is None:
        return None
    states = []
    for name in flagger.callback_names:
        error = journal.dead_error(name, seq)
        if error is not None:
            states.append(CallbackState(callback=name, state="dead", error=error))
        elif journal.lane(name).done_seq >= seq:
            states.append(CallbackState(callback=name, state="delivered"))
        else:
            states.append(CallbackState(callback=name, state="pending"))
    return FlagStatus(id=event_id, created_at=event.created_at.isoformat(), callbacks=states)
