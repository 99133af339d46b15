"""The errors the API answers with, as one JSON shape: ``{"error", "message", "problems"}``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field

__all__ = ["ApiError", "ErrorBody", "Problem", "invalid"]


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


def invalid(loc: Sequence[str | int], message: str) -> ApiError:
    """A 422 naming the field path of the problem."""
    return ApiError(
        422,
        "invalid",
        f"{'.'.join(map(str, loc)) or 'body'}: {message}",
        problems=[Problem(loc=list(loc), message=message)],
    )
