"""What one running API holds: the Flagger, the keys, the limiter, idempotency keys and metrics."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flagpipe.flagger import Flagger
from flagpipe.server.auth import KeyRing
from flagpipe.server.idempotency import IdempotencyStore
from flagpipe.server.limits import RateLimiter, client_address
from flagpipe.server.metrics import Metrics

if TYPE_CHECKING:
    from collections.abc import Mapping

    from starlette.requests import Request

    from flagpipe.config.loader import LoadedConfig
    from flagpipe.config.server_model import ApiKey, RateLimit, Scope, ServerConfig

__all__ = ["ServerState"]


@dataclass
class ServerState:
    """The collector's parts, built once per app (per worker process)."""

    flagger: Flagger
    owns_flagger: bool
    keys: KeyRing = field(init=False)
    limiter: RateLimiter = field(init=False)
    idempotency: IdempotencyStore = field(init=False)
    metrics: Metrics = field(init=False)

    def __post_init__(self) -> None:
        self.keys = KeyRing(self.settings.keys)
        self.limiter = RateLimiter(self.flagger.directory)
        self.idempotency = IdempotencyStore(self.flagger.directory)
        retention = self.flagger.config.retention.max_age_days
        if retention is not None:
            self.idempotency.forget_older_than(timedelta(days=retention))
        self.metrics = Metrics(self.flagger.journal)
        self._plugin_name = self.flagger.plugins.register(self.metrics, name=f"flagpipe-server-metrics-{id(self)}")

    @classmethod
    def build(cls, config: str | os.PathLike[str] | Flagger | LoadedConfig | Mapping[str, Any]) -> ServerState:
        """From a YAML path, a config mapping or loaded config, or a Flagger (which the caller closes)."""
        if isinstance(config, Flagger):
            return cls(config, owns_flagger=False)
        if isinstance(config, (str, os.PathLike)):
            return cls(Flagger.from_yaml(config), owns_flagger=True)
        return cls(Flagger(config), owns_flagger=True)

    @property
    def settings(self) -> ServerConfig:
        """The config's ``server:`` section."""
        return self.flagger.config.server

    def authorize(self, request: Request, scope: Scope | None) -> ApiKey:
        """Rate-limit the client, authenticate the key, check its scope (if any), rate-limit the key."""
        client = self._client_bucket(request)
        if client is not None:
            self.limiter.take(*client)
        key = self.keys.authenticate(request.headers.get("authorization"))
        if scope is not None:
            self.keys.require(key, scope)
        self.limiter.take(*self._key_bucket(key))
        return key

    def take_more(self, request: Request, key: ApiKey, wanted: int) -> tuple[int, int]:
        """Up to ``wanted`` more tokens from the client's and the key's buckets (a batch's further flags).

        Returns how many were taken and, when fewer than wanted, the seconds until the next token.
        """
        buckets = [b for b in (self._client_bucket(request), self._key_bucket(key)) if b is not None]
        return self.limiter.take_up_to(buckets, wanted)

    def give_back(self, request: Request, key: ApiKey, tokens: int) -> None:
        """Return ``tokens`` taken by :meth:`take_more` and not spent."""
        buckets = [b for b in (self._client_bucket(request), self._key_bucket(key)) if b is not None]
        self.limiter.give_back(buckets, tokens)

    def _client_bucket(self, request: Request) -> tuple[str, RateLimit] | None:
        settings = self.settings
        if settings.client_rate_limit is None:
            return None
        return f"client:{client_address(request, settings.trusted_proxies)}", settings.client_rate_limit

    def _key_bucket(self, key: ApiKey) -> tuple[str, RateLimit]:
        return f"key:{key.id}", key.rate_limit or self.settings.rate_limit

    def close(self) -> None:
        """Stop observing deliveries; close the stores and, when built here, the Flagger."""
        self.flagger.plugins.unregister(self._plugin_name)
        self.idempotency.close()
        self.limiter.close()
        if self.owns_flagger:
            self.flagger.close()
