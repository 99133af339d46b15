"""Standard Webhooks signing: the ``webhook-signature`` header of each request.

A signature is ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``, keyed with the base64 part of a
``whsec_`` secret; see https://www.standardwebhooks.com/.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["SECRET_PREFIX", "secret_bytes", "sign", "signature_header"]

#: The prefix of Standard Webhooks secrets.
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def secret_bytes(secret: str) -> bytes:
    """The key of a secret: the base64 after ``whsec_`` (padding optional).

    :raises ValueError: when the rest is not base64.
    """
    raw = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the Standard Webhooks ``v1`` signature of ``body`` (``v1,<base64 HMAC-SHA256>``)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> str | None:
    """The ``webhook-signature`` value: one signature per secret, separated by spaces (None without secrets)."""
    signatures = [sign(s, msg_id, timestamp, body) for s in secrets]
    return " ".join(signatures) if signatures else None
