"""The ``server:`` section of ``flagging.yaml``: API keys, CORS, limits and trusted proxies for ``flagpipe serve``."""

from __future__ import annotations

import hashlib
import ipaddress
from collections import Counter
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

#: What a key may do: ``flag`` posts flags; ``read`` reads a flag's delivery state.
Scope = Literal["flag", "read"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def hash_key(key: str) -> str:
    """The stored form of an API key: ``sha256:<hex>`` of its UTF-8 bytes."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class RateLimit(_Strict):
    """A token bucket: ``per_second`` requests on average, bursts of up to ``burst``."""

    per_second: float = Field(gt=0, description="Requests per second on average.")
    burst: int = Field(default=20, ge=1, description="How many requests may come at once.")


class ApiKey(_Strict):
    """One API key: an id (shown in logs and metrics, never the key), its secret or hash, and its scopes."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="The key's name, as logs and metrics show it.")
    key: SecretStr | None = Field(default=None, description="The key itself, usually ${ENV}; never logged.")
    hash: str | None = Field(
        default=None,
        pattern=r"^sha256:[0-9a-f]{64}$",
        description="Instead of key: sha256:<hex> of the key (flagpipe hash-key prints it).",
    )
    scopes: tuple[Scope, ...] = Field(default=("flag",), min_length=1, description="flag, read or both.")
    apps: tuple[str, ...] | None = Field(
        default=None, description="When set, the key may flag only for these app names (the request's app)."
    )
    rate_limit: RateLimit | None = Field(default=None, description="This key's own limit (default: server's).")

    @model_validator(mode="after")
    def _one_secret(self) -> ApiKey:
        if (self.key is None) == (self.hash is None):
            raise ValueError(f"API key {self.id!r} needs exactly one of key or hash")
        if self.key is not None and len(self.key.get_secret_value()) < 16:
            raise ValueError(f"API key {self.id!r} is shorter than 16 characters")
        return self

    @property
    def digest(self) -> str:
        """The key's ``sha256:<hex>`` form, compared in constant time with a presented key's."""
        if self.key is not None:
            return hash_key(self.key.get_secret_value())
        assert self.hash is not None
        return self.hash


class ServerConfig(_Strict):
    """How ``flagpipe serve`` authenticates, limits and answers requests."""

    keys: tuple[ApiKey, ...] = Field(default=(), description="The API keys; without any, every request is refused.")
    cors_origins: tuple[str, ...] = Field(
        default=(), description="Browser origins allowed to call the API (exact, such as https://app.example)."
    )
    max_body_bytes: int = Field(default=10 * 1024 * 1024, gt=0, description="The largest request body (413 above).")
    max_batch: int = Field(default=100, ge=1, le=10_000, description="The most flags one batch request may hold.")
    max_json_depth: int = Field(default=32, ge=2, le=256, description="How deeply JSON bodies may nest.")
    max_json_nodes: int = Field(
        default=100_000,
        ge=100,
        description="The most elements (objects, arrays, keys, scalars) a JSON body may hold (413 above).",
    )
    rate_limit: RateLimit = Field(
        default_factory=lambda: RateLimit(per_second=50, burst=100), description="The default limit per key."
    )
    client_rate_limit: RateLimit | None = Field(
        default=None, description="A limit per client address (the same for every key)."
    )
    trusted_proxies: tuple[str, ...] = Field(
        default=(), description="Addresses or networks whose X-Forwarded-For is believed (a reverse proxy)."
    )

    @field_validator("keys")
    @classmethod
    def _unique_ids(cls, value: tuple[ApiKey, ...]) -> tuple[ApiKey, ...]:
        repeated = sorted(key_id for key_id, n in Counter(k.id for k in value).items() if n > 1)
        if repeated:
            raise ValueError(f"API key ids must be unique; repeated: {', '.join(repeated)}")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"trusted_proxies: {item!r} is not an address or network") from None
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if origin == "*" or not origin.startswith(("http://", "https://")) or origin.endswith("/"):
                raise ValueError(f"cors_origins: {origin!r} must be an exact origin such as https://app.example")
        return value


__all__ = ["ApiKey", "RateLimit", "Scope", "ServerConfig", "hash_key"]
