"""The collector's ASGI app: the ``/v1`` API, health, readiness and metrics (FastAPI).

Build it with :func:`flagpipe.server.app`; mount it in another ASGI app or serve it with uvicorn.
"""

from __future__ import annotations

import os
import time
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.middleware.cors import CORSMiddleware

from flagpipe._version import __version__
from flagpipe.server.errors import ApiError, AsciiJSONResponse, Problem
from flagpipe.server.models import BatchIn, FlagIn
from flagpipe.server.routes import router
from flagpipe.server.state import ServerState

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from starlette.requests import Request
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from flagpipe.config.loader import LoadedConfig
    from flagpipe.flagger import Flagger

__all__ = ["create_app"]


class _Timing:
    """Records each request's latency by route template (pure ASGI: no per-request task).

    The labels stay few whatever clients send: the route's template (``unmatched`` for any other path)
    and the method as one of a fixed set (see :meth:`Metrics.observe`).
    """

    def __init__(self, app: ASGIApp, state: ServerState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self.state.metrics.observe(path, scope["method"], status, time.perf_counter() - start)


def _openapi(api: FastAPI) -> dict[str, Any]:
    """FastAPI's document, plus the request bodies the routes read themselves and the bearer scheme."""
    if api.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        document = get_openapi(title=api.title, version=api.version, description=api.description, routes=api.routes)
        components = document.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        for model in (FlagIn, BatchIn):
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
        components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
        api.openapi_schema = document
    return api.openapi_schema


def create_app(config: str | os.PathLike[str] | Flagger | LoadedConfig | Mapping[str, Any]) -> FastAPI:
    """The collector for ``config`` (a YAML path, a mapping, a loaded config, or a Flagger).

    A Flagger passed in stays the caller's to close; one built here is closed when the app shuts down
    (or by ``app.state.flagpipe.close()`` when no lifespan runs).
    """
    state = ServerState.build(config)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()

    api = FastAPI(
        title="flagpipe collector",
        version=__version__,
        description="Send flags over HTTP; the collector stores each in its journal and delivers it.",
        lifespan=lifespan,
        default_response_class=AsciiJSONResponse,
    )
    api.state.flagpipe = state
    api.include_router(router)
    api.openapi = lambda: _openapi(api)  # type: ignore[method-assign]

    @api.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> AsciiJSONResponse:
        state.metrics.refused.labels(exc.body.error).inc()
        return exc.response()

    @api.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> AsciiJSONResponse:
        problems = [Problem(loc=[str(p) for p in e["loc"]], message=e["msg"]) for e in exc.errors()]
        error = ApiError(422, "invalid", problems[0].message if problems else "invalid request", problems=problems)
        return await _api_error(_, error)

    settings = state.settings
    if settings.cors_origins:
        api.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            max_age=600,
        )
    api.add_middleware(_Timing, state=state)
    return api
