"""The endpoints: ``/v1/flags``, ``/v1/flags/batch``, ``/v1/flags/{id}``, ``/v1/config``, health and metrics.

Each flag endpoint authorizes the key, applies the rate limits, reads the body up to its cap and
validates it before the Flagger stores anything. Parsing and validating a body is CPU work, so it runs
in a worker thread with the storing, never on the event loop.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import APIRouter
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from flagpipe.server.errors import ApiError, AsciiJSONResponse, ErrorBody, Problem, invalid
from flagpipe.server.intake import accept, flag_status
from flagpipe.server.json_body import parse_json
from flagpipe.server.limits import read_body
from flagpipe.server.models import BatchItemIn, BatchOut, ConfigOut, FlagIn, FlagOut, FlagStatus, ItemOut, OptionOut
from flagpipe.server.multipart import MULTIPART_SCHEMA, parse_multipart

if TYPE_CHECKING:
    from flagpipe.config.server_model import ApiKey
    from flagpipe.server.state import ServerState

__all__ = ["router"]

M = TypeVar("M", bound=BaseModel)

router = APIRouter()


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorBody, "description": _DESCRIPTIONS[status]} for status in statuses}


_DESCRIPTIONS = {
    401: "No API key, or an unknown one.",
    403: "The key lacks the scope, or may not flag for this app.",
    404: "No such flag.",
    413: "The body (or a file) is too large.",
    415: "The body is neither JSON nor multipart/form-data.",
    422: "The body is invalid; problems name the field path.",
    429: "Too many requests; Retry-After says when to retry.",
}
_AUTH: list[dict[str, list[str]]] = [{"bearer": []}]
_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 255},
    "description": "A retry with the same key returns the first flag and stores nothing twice.",
}


def _state(request: Request) -> ServerState:
    state: ServerState = request.app.state.flagpipe
    return state


def _model(model: type[M], data: Any, prefix: tuple[str | int, ...] = ()) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [Problem(loc=[*prefix, *e["loc"]], message=e["msg"]) for e in exc.errors()]
        first = problems[0]
        raise ApiError(
            422, "invalid", f"{'.'.join(map(str, first.loc)) or 'body'}: {first.message}", problems=problems
        ) from None


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= 255:
        raise invalid(["header", "Idempotency-Key"], "must be 1 to 255 characters")
    return key


async def _json_body(request: Request, state: ServerState) -> bytes:
    body = await read_body(request, state.settings.max_body_bytes)
    if "json" not in request.headers.get("content-type", ""):
        raise ApiError(415, "unsupported_media_type", "send application/json")
    return body


def _parse(state: ServerState, body: bytes) -> Any:
    settings = state.settings
    return parse_json(body, settings.max_json_depth, settings.max_json_nodes)


def _accept_one(state: ServerState, key: ApiKey, flag: FlagIn, idempotency_key: str | None) -> FlagOut:
    out = accept(state.flagger, state.idempotency, key, flag, idempotency_key)
    if out.stored and not out.replayed:
        state.metrics.accepted.inc()
    return out


def _accept_data(state: ServerState, key: ApiKey, data: Any, idempotency_key: str | None) -> FlagOut:
    return _accept_one(state, key, _model(FlagIn, data), idempotency_key)


def _accept_json(state: ServerState, key: ApiKey, body: bytes, idempotency_key: str | None) -> FlagOut:
    return _accept_data(state, key, _parse(state, body), idempotency_key)


@router.post(
    "/v1/flags",
    status_code=202,
    response_model=FlagOut,
    summary="Flag one sample",
    responses={
        200: {"model": FlagOut, "description": "Not stored (mode never, or a filter dropped it)."},
        **_errors(401, 403, 413, 415, 422, 429),
    },
    openapi_extra={
        "security": _AUTH,
        "parameters": [_IDEMPOTENCY],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/FlagIn"}},
                "multipart/form-data": {"schema": MULTIPART_SCHEMA},
            },
        },
    },
)
async def post_flag(request: Request) -> AsciiJSONResponse:
    """One flag as JSON (files in base64) or multipart/form-data (files as parts); 202 once journaled."""
    state = _state(request)
    settings = state.settings
    key = state.authorize(request, "flag")
    idempotency_key = _idempotency_key(request)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        body = await read_body(request, settings.max_body_bytes)
        data = await parse_multipart(request, body, settings.max_json_depth, settings.max_json_nodes)
        out = await run_in_threadpool(_accept_data, state, key, data, idempotency_key)
    else:
        body = await _json_body(request, state)
        out = await run_in_threadpool(_accept_json, state, key, body, idempotency_key)
    return AsciiJSONResponse(out.model_dump(), status_code=202 if out.stored else 200)


def _accept_batch(
    state: ServerState, key: ApiKey, items: list[Any], idempotency_key: str | None, tokens: int, wait: int
) -> tuple[BatchOut, int]:
    """Accept each of ``items`` on its own while ``tokens`` last; the rest are refused 429.

    A replayed flag costs no token (so a resent batch gets further each time); returns the tokens left.
    """
    answers = []
    for index, item in enumerate(items):
        if tokens < 1:
            state.metrics.refused.labels("rate_limited").inc()
            message = f"too many flags; retry in {wait} s"
            answers.append(ItemOut(status=429, error="rate_limited", message=message))
            continue
        try:
            flag = _model(BatchItemIn, item, ("flags", index))
            own_key = flag.idempotency_key or (f"{idempotency_key}:{index}" if idempotency_key else None)
            out = _accept_one(state, key, FlagIn(**flag.model_dump(exclude={"idempotency_key"})), own_key)
            tokens -= 0 if out.replayed else 1
            answers.append(ItemOut(status=202 if out.stored else 200, flag=out))
        except ApiError as exc:
            tokens -= 1
            state.metrics.refused.labels(exc.body.error).inc()
            problems = [p.model_dump() for p in exc.body.problems]
            answers.append(
                ItemOut(status=exc.status, error=exc.body.error, message=exc.body.message, problems=problems)
            )
    accepted = sum(1 for a in answers if a.flag is not None)
    return BatchOut(accepted=accepted, refused=len(answers) - accepted, items=answers), tokens


@router.post(
    "/v1/flags/batch",
    response_model=BatchOut,
    summary="Flag several samples, each accepted or refused on its own",
    responses=_errors(401, 403, 413, 415, 422, 429),
    openapi_extra={
        "security": _AUTH,
        "parameters": [_IDEMPOTENCY],
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchIn"}}},
        },
    },
)
async def post_batch(request: Request) -> AsciiJSONResponse:
    """Up to ``server.max_batch`` flags; each item answers with its own status (202 or an error).

    Each flag costs a rate-limit token: the request's own pays for the first, and flags past the tokens
    left are refused 429 each (the answer then carries ``Retry-After``). Replays cost none: their
    tokens go back to the buckets.
    """
    state = _state(request)
    key = state.authorize(request, "flag")
    idempotency_key = _idempotency_key(request)
    data = await run_in_threadpool(_parse, state, await _json_body(request, state))
    if not isinstance(data, dict) or set(data) != {"flags"} or not isinstance(data["flags"], list) or not data["flags"]:
        raise invalid(["flags"], 'the body must be {"flags": [ ...one or more flags... ]}')
    flags: list[Any] = data["flags"]
    if len(flags) > state.settings.max_batch:
        raise invalid(["flags"], f"a batch holds at most {state.settings.max_batch} flags")
    more, wait = await run_in_threadpool(state.take_more, request, key, len(flags) - 1)
    out, left = await run_in_threadpool(_accept_batch, state, key, flags, idempotency_key, 1 + more, wait)
    if min(left, more) > 0:
        await run_in_threadpool(state.give_back, request, key, min(left, more))
    headers = {"Retry-After": str(wait)} if any(item.status == 429 for item in out.items) else None
    return AsciiJSONResponse(out.model_dump(), headers=headers)


@router.get(
    "/v1/flags/{event_id}",
    response_model=FlagStatus,
    summary="A flag's delivery state per callback",
    responses=_errors(401, 403, 404, 422, 429),
    openapi_extra={"security": _AUTH},
)
async def get_flag(event_id: str, request: Request) -> FlagStatus:
    """Per callback: delivered, pending or dead (needs the ``read`` scope)."""
    state = _state(request)
    state.authorize(request, "read")
    found = await run_in_threadpool(flag_status, state.flagger, event_id)
    if found is None:
        raise ApiError(404, "not_found", f"no flag {event_id!r}")
    return found


@router.get(
    "/v1/config",
    response_model=ConfigOut,
    summary="Mode, options and notice, for drawing Flag buttons",
    responses=_errors(401, 429),
    openapi_extra={"security": _AUTH},
)
async def get_config(request: Request) -> ConfigOut:
    """What a front end needs: the mode, the options (label and value) and the privacy notice (any key)."""
    state = _state(request)
    settings = state.settings
    state.authorize(request, None)
    config = state.flagger.config
    return ConfigOut(
        mode=config.mode,
        options=[OptionOut(label=o.label, value=o.value) for o in config.options],
        notice=config.notice if isinstance(config.notice, str) else None,
        app=config.app,
        max_batch=settings.max_batch,
    )


@router.get("/healthz", summary="Alive", responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
async def healthz() -> Response:
    """The process answers."""
    return Response("ok\n", media_type="text/plain")


def _readiness(state: ServerState) -> list[str]:
    problems = []
    journal = state.flagger.journal
    if journal is not None:
        if not os.access(journal.path, os.W_OK) or not os.access(journal.path.parent, os.W_OK):
            problems.append(f"the journal {journal.path} is not writable")
        for name in state.flagger.callback_names:
            reason = journal.lane(name).disabled_reason
            if reason:
                problems.append(f"callback {name} is disabled: {reason}")
    return problems


@router.get(
    "/readyz",
    summary="Ready: the journal is writable and no callback is disabled",
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        503: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "Not ready; the body says why.",
        },
    },
)
async def readyz(request: Request) -> Response:
    """200 when ready; 503 naming what is wrong otherwise."""
    problems = await run_in_threadpool(_readiness, _state(request))
    if problems:
        return Response("\n".join(problems) + "\n", status_code=503, media_type="text/plain")
    return Response("ready\n", media_type="text/plain")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(request: Request) -> Response:
    """Flags accepted and refused, deliveries and failures, pending and dead, request latency."""
    from flagpipe.server.metrics import CONTENT_TYPE

    body = await run_in_threadpool(_state(request).metrics.render)
    return Response(body, media_type=CONTENT_TYPE)
