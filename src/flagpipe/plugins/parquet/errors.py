"""Turn object-storage errors into the delivery errors of the callback contract.

- Passing problems (throttling such as S3's ``503 SlowDown``, 5xx answers, timeouts, refused or cut
  connections): ``RetryableError``.
- Problems no retry fixes while nobody acts (access denied, a missing bucket, bad or missing
  credentials, an invalid bucket name): ``DestinationDisabledError`` naming the bucket and the
  problem, so the lane stops with a clear message and the flags stay in the journal until
  ``flagpipe retry``.

Works on the errors of s3fs (botocore's error code is kept as the cause), gcsfs and adlfs (an HTTP
status), and plain ``OSError``; messages never hold a value of ``storage_options`` that is a secret.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import flagpipe

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

#: Error codes (S3 and compatible stores) that pass by themselves.
RETRYABLE_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequests",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "InternalError",
        "ServiceUnavailable",
        "OperationAborted",
    }
)
#: Error codes that need a person, with what each means.
PERMANENT_CODES = {
    "AccessDenied": "access denied",
    "AllAccessDisabled": "access denied",
    "AccountProblem": "the account cannot use it",
    "InvalidAccessKeyId": "bad credentials (unknown access key)",
    "SignatureDoesNotMatch": "bad credentials (wrong secret key)",
    "ExpiredToken": "bad credentials (expired token)",
    "InvalidToken": "bad credentials (invalid token)",
    "NoSuchBucket": "the bucket does not exist",
    "InvalidBucketName": "the bucket name is invalid",
    "PermanentRedirect": "the bucket is in another region (set storage_options.client_kwargs.region_name)",
    "AuthorizationHeaderMalformed": "bad credentials or region",
    "NotSignedUp": "the account is not signed up for the service",
}
#: HTTP statuses that mean "fix something first" when no error code says more.
PERMANENT_STATUSES = {401: "bad credentials", 403: "access denied", 404: "the bucket or container does not exist"}
#: Exception type names (botocore, aiohttp, google-auth) of problems that need a person.
PERMANENT_TYPES = {
    "NoCredentialsError": "no credentials found (set storage_options key / secret, or the usual environment)",
    "PartialCredentialsError": "incomplete credentials",
    "DefaultCredentialsError": "no credentials found",
    "ClientAuthenticationError": "bad credentials",
}


def scrub(text: str, secrets: Sequence[str]) -> str:
    """Remove every secret value from ``text``."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _code_and_status(exc: BaseException) -> tuple[str | None, int | None]:
    """The store's error code and HTTP status found anywhere in the exception's chain."""
    code: str | None = None
    status: int | None = None
    for item in _chain(exc):
        response = getattr(item, "response", None)
        if isinstance(response, dict):
            error = response.get("Error") or {}
            code = code or error.get("Code")
            status = status or (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        for name in ("status_code", "status", "code"):
            value = getattr(item, name, None)
            if status is None and isinstance(value, int) and 100 <= value < 600:
                status = value
    return code, status


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def kind_of(exc: BaseException) -> tuple[str, str]:  # noqa: PLR0911 - one answer per kind of problem
    """Classify ``exc``: (``retry`` or ``disable``, the problem in a few words)."""
    code, status = _code_and_status(exc)
    if code in RETRYABLE_CODES:
        return "retry", f"the store is busy ({code})"
    if code in PERMANENT_CODES:
        return "disable", PERMANENT_CODES[code]
    for item in _chain(exc):
        name = type(item).__name__
        if name in PERMANENT_TYPES:
            return "disable", PERMANENT_TYPES[name]
    if status is not None and (status == 429 or status >= 500):
        return "retry", f"the store answered HTTP {status}"
    if status in PERMANENT_STATUSES:
        return "disable", PERMANENT_STATUSES[status]
    if isinstance(exc, PermissionError):
        return "disable", "access denied"
    if isinstance(exc, FileNotFoundError):
        return "disable", "the bucket, container or folder does not exist"
    if isinstance(exc, NotADirectoryError | FileExistsError):
        return "disable", "a file stands where a folder should be"
    if isinstance(exc, TypeError):  # fsspec refused an option
        return "disable", "storage_options do not fit this file system"
    if isinstance(exc, ImportError):
        return "disable", f"a library is missing ({exc.name or exc})"
    return "retry", "the store is unreachable or failed"


def classify(exc: BaseException, *, where: str, doing: str, secrets: Sequence[str]) -> flagpipe.DeliveryError:
    """The delivery error to raise for ``exc`` met while ``doing`` at ``where`` (a bucket or folder)."""
    kind, problem = kind_of(exc)
    detail = scrub(_first_line(exc), secrets)
    if kind == "retry":
        return flagpipe.RetryableError(f"{where}: {problem} while {doing}: {detail}")
    return flagpipe.DestinationDisabledError(
        f"{where}: {problem} while {doing} ({detail}); fix the bucket, credentials or permissions, then "
        "flagpipe retry (the flags stay in the journal)"
    )


__all__ = ["PERMANENT_CODES", "RETRYABLE_CODES", "classify", "kind_of", "scrub"]
