"""The settings of the ``webhook`` callback, validated from its entry in ``flagging.yaml``."""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

import flagpipe
from flagpipe.plugins.webhook.guard import looks_like_host
from flagpipe.plugins.webhook.signing import secret_bytes

__all__ = ["DEFAULT_RATE", "WebhookSettings"]

#: Requests per second allowed by default for each format (Slack allows about one a second per webhook).
DEFAULT_RATE: dict[str, float | None] = {"json": None, "slack": 1.0, "discord": 0.5}


class WebhookSettings(flagpipe.CallbackSettings):
    """Settings of the ``webhook`` callback."""

    url: SecretStr = Field(description="Where to POST (kept secret: webhook URLs often hold a token).")
    headers: dict[str, SecretStr] = Field(
        default_factory=dict, description="Extra request headers; values may use ${ENV} and are kept secret."
    )
    timeout: float = Field(default=15.0, gt=0, le=120, description="Seconds to wait for an answer.")
    format: Literal["json", "slack", "discord"] = Field(
        default="json", description="json: the event as signed JSON; slack or discord: a readable message."
    )
    secret: SecretStr | list[SecretStr] | None = Field(
        default=None,
        description="Standard Webhooks signing secret(s), whsec_ + base64; several during a rotation.",
    )
    files: Literal["none", "paths", "url"] = Field(
        default="paths",
        description="How files appear: not at all, as paths in the flagging dir, or as URLs under files_url.",
    )
    files_url: str | None = Field(
        default=None, description="Base URL where the flagging dir's files are served (for files: url)."
    )
    batch: bool = Field(
        default=False, description="json only: send a batch of flags in one request instead of one each."
    )
    rate_limit: float | None = Field(
        default=None,
        gt=0,
        description="Requests per second to this destination (default: 1 for slack, 0.5 for discord, none for json).",
    )
    allow_addresses: list[str] = Field(
        default_factory=list,
        description="Hosts, addresses or networks (CIDR) allowed even though a range rule refuses them.",
    )
    private_addresses: Literal["allow", "refuse"] = Field(
        default="refuse",
        description="refuse (the default): also refuse loopback, private (RFC 1918, fc00::/7), shared and "
        "site-local addresses; allow: let an internal webhook reach them (allow_addresses is narrower).",
    )
    follow_redirects: bool = Field(default=False, description="Follow redirects (off: a redirect is an error).")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: SecretStr) -> SecretStr:
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an http:// or https:// URL with a host")
        return value

    @field_validator("secret")
    @classmethod
    def _valid_secrets(cls, value: SecretStr | list[SecretStr] | None) -> SecretStr | list[SecretStr] | None:
        for secret in [] if value is None else value if isinstance(value, list) else [value]:
            try:
                key = secret_bytes(secret.get_secret_value())
            except ValueError:
                raise ValueError("secret must be whsec_ followed by base64") from None
            if not 24 <= len(key) <= 64:
                raise ValueError("secret must decode to 24 to 64 bytes (Standard Webhooks)")
        return value

    @field_validator("allow_addresses")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            if not looks_like_host(item):
                ipaddress.ip_network(item, strict=False)
        return value

    @field_validator("files_url")
    @classmethod
    def _files_base(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("files_url must be an http:// or https:// URL")
        return value

    def secrets(self) -> list[str]:
        """The configured signing secrets, in order."""
        if self.secret is None:
            return []
        items = self.secret if isinstance(self.secret, list) else [self.secret]
        return [s.get_secret_value() for s in items]

    def requests_per_second(self) -> float | None:
        """The rate limit in force: ``rate_limit``, or the format's default (None: no limit)."""
        return self.rate_limit or DEFAULT_RATE[self.format]
