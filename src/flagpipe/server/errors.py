"""The errors the API answers with, as one JSON shape: ``{"error", "message", "problems"}``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, Field
from starlette.responses import JSONResponse

__all__ = ["ApiError", "AsciiJSONResponse", "ErrorBody", "Problem", "invalid"]


class AsciiJSONResponse(JSONResponse):
    """JSON in ASCII: whatever text a caller sent (even a lone surrogate) is escaped, so it always encodes."""

    def render(self, content: Any) -> bytes:
        """``content`` as compact JSON, every non-ASCII character as a ``\\u`` escape."""
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


class Problem(BaseModel):
    """One thing wrong with a request: where (a path of keys and indexes) and what."""

    loc: list[str | int] = Field(description="The path to the bad part, such as ['values', 'age'].")
    message: str = Field(description="What is wrong there.")


class ErrorBody(BaseModel):
    """Every error answer: a short code, a sentence, and for 422 the problems with their paths."""

    error: str = Field(description="unauthorized, forbidden, too_large, invalid, rate_limited, not_found, ...")
    message: str = Field(description="What went wrong, for a person.")
    problems: list[Problem] = Field(default_factory=list, description="For invalid requests: each problem.")


class ApiError(Exception):
    """Raised by the API's parts; the app turns it into the HTTP answer."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        *,
        problems: Sequence[Problem] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = ErrorBody(error=error, message=message, problems=list(problems))
        self.headers = dict(headers or {})

    def response(self) -> AsciiJSONResponse:
        """The HTTP answer: the status, the error body and the headers."""
        return AsciiJSONResponse(self.body.model_dump(), status_code=self.status, headers=self.headers)


def invalid(loc: Sequence[str | int], message: str) -> ApiError:
    """A 422 naming the field path of the problem."""
    return ApiError(
        422,
        "invalid",
        f"{'.'.join(map(str, loc)) or 'body'}: {message}",
        problems=[Problem(loc=list(loc), message=message)],
    )
