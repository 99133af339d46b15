"""The ``flagpipe`` callback and its settings: POST batches to a collector, classify its answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field, SecretStr, field_validator

import flagpipe
from flagpipe.plugins.forward.payload import batch_body
from flagpipe.plugins.http_retry import parse_retry_after, require_httpx

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import httpx

    from flagpipe import FlagEvent, FlagSchema

__all__ = ["RETRYABLE_STATUSES", "ForwardCallback", "ForwardSettings", "classify"]

#: Answers below 500 worth another try; every 5xx is too.
RETRYABLE_STATUSES = frozenset({408, 425, 429})


class ForwardSettings(flagpipe.CallbackSettings):
    """Settings of the ``flagpipe`` callback."""

    url: str = Field(description="The collector's base URL, such as https://flags.example (no /v1).")
    key: SecretStr = Field(description="An API key with the flag scope, usually ${FLAGPIPE_KEY}; kept secret.")
    timeout: float = Field(default=30.0, gt=0, le=300, description="Seconds to wait for the collector's answer.")
    batch_size: int = Field(default=100, ge=1, le=10_000, description="Flags per request (the collector's max_batch).")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("url must start with http:// or https://")
        return value.rstrip("/")


def classify(response: httpx.Response, url: str) -> None:
    """Return when the collector took every flag; otherwise raise the error the lane acts on."""
    status = response.status_code
    detail = f"HTTP {status} from {url}"
    if status in RETRYABLE_STATUSES or status >= 500:
        raise flagpipe.RetryableError(detail, retry_after=parse_retry_after(response.headers.get("retry-after")))
    if status != 200:
        raise flagpipe.PermanentError(f"{detail}: {response.text[:200].strip()}")
    items = response.json().get("items", [])
    refused = [(i, item) for i, item in enumerate(items) if item.get("flag") is None]
    if not refused:
        return
    index, item = refused[0]
    message = f"the collector refused flag {index} of the batch: {item.get('status')} {item.get('message')}"
    if any(it.get("status") in RETRYABLE_STATUSES or int(it.get("status", 0)) >= 500 for _, it in refused):
        # The accepted ones are kept; a replay does not repeat them. Past the rate limit, wait as the collector says.
        raise flagpipe.RetryableError(message, retry_after=parse_retry_after(response.headers.get("retry-after")))
    raise flagpipe.PermanentError(message)


class ForwardCallback(flagpipe.Callback[ForwardSettings]):
    """Forwards flags to a collector (``flagpipe serve``): edge → collector → sinks, each hop durable."""

    type_name = "flagpipe"
    Settings = ForwardSettings
    _client: httpx.Client | None = None
    _directory: Path | None = None

    def __init__(self, settings: ForwardSettings) -> None:
        super().__init__(settings)
        self.max_batch_size = settings.batch_size  # one request per batch: the collector's max_batch

    def setup(self, schema: FlagSchema, directory: Path) -> None:
        """Remember the flagging dir (files are read from it) and open the HTTP client."""
        self._directory = directory
        self._ensure_client()

    def _ensure_client(self) -> httpx.Client:
        if self._client is None:
            httpx = require_httpx("flagpipe", "server")
            self._client = httpx.Client(timeout=self.settings.timeout, follow_redirects=False)
        return self._client

    def deliver(self, events: Sequence[FlagEvent]) -> None:
        """POST the batch to ``/v1/flags/batch``; classify the answer and each item's."""
        import httpx

        if self._directory is None:
            raise flagpipe.PermanentError("the flagpipe callback was not set up (no flagging directory)")
        try:
            body = batch_body(events, self._directory)
        except OSError as exc:
            raise flagpipe.PermanentError(f"cannot read a flagged file: {exc}") from None
        headers = {
            "authorization": f"Bearer {self.settings.key.get_secret_value()}",
            "user-agent": f"flagpipe/{flagpipe.__version__}",
        }
        url = self.settings.url
        try:
            response = self._ensure_client().post(f"{url}/v1/flags/batch", json=body, headers=headers)
        except httpx.TimeoutException:
            raise flagpipe.RetryableError(f"no answer from {url} within {self.settings.timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise flagpipe.RetryableError(f"could not reach {url}: {type(exc).__name__}") from None
        classify(response, url)

    def healthcheck(self) -> str | None:
        """Ask the collector's ``/readyz``."""
        import httpx

        try:
            response = self._ensure_client().get(f"{self.settings.url}/readyz")
        except httpx.HTTPError as exc:
            raise flagpipe.RetryableError(f"cannot reach {self.settings.url}: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise flagpipe.RetryableError(f"{self.settings.url} is not ready: {response.text.strip()[:200]}")
        return f"{self.settings.url} ready"

    def close(self) -> None:
        """Close the HTTP client (a later delivery opens a new one)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def __repr__(self) -> str:
        return f"<ForwardCallback url={self.settings.url!r} batch_size={self.max_batch_size}>"
