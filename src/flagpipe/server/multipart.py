"""``multipart/form-data`` flags: text parts for the details, ``values`` and ``metadata`` as JSON, files as parts."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request

from flagpipe.server.errors import ApiError, invalid
from flagpipe.server.json_body import parse_json

if TYPE_CHECKING:
    from starlette.types import Message

__all__ = ["MULTIPART_SCHEMA", "parse_multipart"]

_TEXT_PARTS = ("option", "username", "comment", "session_id", "app")
_JSON_PARTS = ("values", "metadata")

#: The OpenAPI schema of a multipart flag; every other part must be a file, named by its field.
MULTIPART_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        **{name: {"type": "string"} for name in _TEXT_PARTS},
        "values": {"type": "string", "description": "A JSON object: field name to value."},
        "metadata": {"type": "string", "description": "A JSON object of free metadata."},
    },
    "additionalProperties": {"type": "string", "format": "binary", "description": "A file for the field of this name."},
}


async def parse_multipart(request: Request, body: bytes, max_depth: int, max_nodes: int) -> dict[str, Any]:
    """The flag a multipart body holds, as the JSON form of :class:`~flagpipe.server.models.FlagIn`.

    The ``values`` and ``metadata`` parts are JSON, each bounded by ``max_depth`` and ``max_nodes``.
    """

    async def replay() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(request.scope, replay).form(max_files=100, max_fields=100, max_part_size=len(body) + 1)
    except Exception as exc:  # noqa: BLE001 - Starlette raises its own errors for malformed multipart bodies
        raise ApiError(422, "invalid", f"not a valid multipart body: {exc}") from None
    flag: dict[str, Any] = {"files": {}}
    try:
        for name, part in form.multi_items():
            if isinstance(part, UploadFile):
                data = await part.read()
                flag["files"][name] = {
                    "data": base64.b64encode(data).decode(),
                    "name": part.filename or name,
                    "content_type": part.content_type,
                }
            elif name in _TEXT_PARTS:
                flag[name] = part
            elif name in _JSON_PARTS:
                value = await run_in_threadpool(parse_json, part.encode(), max_depth, max_nodes)
                if not isinstance(value, dict):
                    raise invalid([name], "must be a JSON object")
                flag[name] = value
            else:
                raise invalid([name], "unknown part; files must be sent as file parts")
    finally:
        await form.close()
    return flag
