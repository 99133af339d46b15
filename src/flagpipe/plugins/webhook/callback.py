"""The ``webhook`` callback: POSTs each flag (or a batch) and classifies the answer for its lane."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import flagpipe
from flagpipe.plugins.webhook.guard import DestinationGuard, guarded_transport
from flagpipe.plugins.webhook.payloads import bodies, encode
from flagpipe.plugins.webhook.rate_limit import RateLimiter
from flagpipe.plugins.webhook.redaction import mask_http_logs, redact_url, scrub, secret_parts
from flagpipe.plugins.webhook.responses import classify
from flagpipe.plugins.webhook.settings import WebhookSettings
from flagpipe.plugins.webhook.signing import signature_header

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import httpx

    from flagpipe import FlagEvent, FlagSchema

__all__ = ["WebhookCallback"]


class WebhookCallback(flagpipe.Callback[WebhookSettings]):
    """POSTs flags to a URL: signed JSON, a Slack message or a Discord message."""

    type_name = "webhook"
    Settings = WebhookSettings

    def __init__(self, settings: WebhookSettings) -> None:
        super().__init__(settings)
        self.max_batch_size = None if settings.format == "json" and settings.batch else 1
        self._client: httpx.Client | None = None
        self._url = settings.url.get_secret_value()
        if settings.format == "discord":
            separator = "&" if urlsplit(self._url).query else "?"
            self._url += f"{separator}wait=true"
        self._secrets = secret_parts(self._url, [v.get_secret_value() for v in settings.headers.values()])
        self._safe_url = redact_url(self._url)
        self._rate = settings.requests_per_second()
        #: The address check every request passes, redirects included.
        self.guard = DestinationGuard(settings.allow_addresses, refuse_private=settings.private_addresses == "refuse")

    def setup(self, schema: FlagSchema, directory: Path) -> None:
        """Open the HTTP client (once; a second call keeps it)."""
        self._ensure_client()

    def _ensure_client(self) -> httpx.Client:
        if self._client is None:
            try:
                import httpx
            except ImportError:
                raise flagpipe.PermanentError(
                    "the webhook callback needs httpx: pip install 'flagpipe[webhook]'"
                ) from None
            mask_http_logs(self._secrets)
            self._client = httpx.Client(
                timeout=self.settings.timeout,
                follow_redirects=self.settings.follow_redirects,
                transport=guarded_transport(self.guard),
                event_hooks={"request": [self.guard.on_request]},
            )
        return self._client

    def deliver(self, events: Sequence[FlagEvent]) -> None:
        """Send the events (one request each, or one for the batch); classify the answer."""
        self._ensure_client()
        for msg_id, payload in bodies(events, self.settings):
            RateLimiter.wait(self._url, self._rate)
            self._send(msg_id, encode(payload))

    def _send(self, msg_id: str, body: bytes) -> None:
        import httpx

        client = self._ensure_client()
        timestamp = int(time.time())
        headers = {k: v.get_secret_value() for k, v in self.settings.headers.items()}
        headers["content-type"] = "application/json"
        headers["user-agent"] = f"flagpipe/{flagpipe.__version__}"
        headers["webhook-id"] = msg_id
        headers["webhook-timestamp"] = str(timestamp)
        signature = signature_header(self.settings.secrets(), msg_id, timestamp, body)
        if signature is not None:
            headers["webhook-signature"] = signature
        try:
            response = client.post(self._url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise flagpipe.RetryableError(
                f"no answer from {self._safe_url} within {self.settings.timeout:g}s"
            ) from None
        except httpx.HTTPError as exc:
            raise flagpipe.RetryableError(f"could not reach {self._safe_url}: {self._scrub(exc)}") from None
        classify(response, self.settings.format, self._safe_url, self._scrub)

    def _scrub(self, value: object) -> str:
        return scrub(str(value), self._secrets)

    def healthcheck(self) -> str | None:
        """Resolve the host and open a TCP connection to it, without sending a flag."""
        parts = urlsplit(self._url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        self.guard.check_host(self._url)
        try:
            with self.guard.connect(parts.hostname or "", port, self.settings.timeout, self._safe_url):
                pass
        except OSError as exc:
            raise flagpipe.RetryableError(f"cannot connect to {self._safe_url}: {exc}") from None
        return f"{self._safe_url} reachable"

    def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def __repr__(self) -> str:
        return f"<WebhookCallback format={self.settings.format!r} url={self._safe_url!r}>"
