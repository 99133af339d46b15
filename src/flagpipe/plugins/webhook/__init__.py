"""The ``webhook`` callback: POST each flag as signed JSON, or as a Slack or Discord message.

Requests carry the Standard Webhooks headers (``webhook-id`` is the event id, the same on every
retry; ``webhook-timestamp`` is the attempt; ``webhook-signature`` holds one ``v1,<base64>`` HMAC
per configured secret). Responses are classified for the delivery lanes: 2xx is success; 408, 425,
429, 5xx, timeouts and connection errors are retryable (``Retry-After`` passed on); 410 and a
Slack or Discord webhook that no longer exists disable the destination; other answers, redirects
included, are permanent. The URL, headers and secrets never appear in logs, errors or ``repr``.

One module per job: :mod:`~flagpipe.plugins.webhook.settings`,
:mod:`~flagpipe.plugins.webhook.payloads` (the bodies), :mod:`~flagpipe.plugins.webhook.signing`,
:mod:`~flagpipe.plugins.webhook.guard` (addresses and redirects),
:mod:`~flagpipe.plugins.webhook.responses` (classifying answers),
:mod:`~flagpipe.plugins.webhook.redaction`, :mod:`~flagpipe.plugins.webhook.rate_limit` and
:mod:`~flagpipe.plugins.webhook.callback`. This package registers the callback.
"""

from __future__ import annotations

from typing import Any

import flagpipe
from flagpipe.plugins.webhook.callback import WebhookCallback
from flagpipe.plugins.webhook.settings import WebhookSettings
from flagpipe.plugins.webhook.signing import sign

__all__ = ["WebhookCallback", "WebhookSettings", "flagpipe_register_callbacks", "sign"]


@flagpipe.hookimpl
def flagpipe_register_callbacks() -> list[type[flagpipe.Callback[Any]]]:
    """Register the ``webhook`` callback."""
    return [WebhookCallback]
