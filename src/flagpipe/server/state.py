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
    from flagpipe.config.server_model import ApiKey, Scope, ServerConfig

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
        settings = self.settings
        if settings.client_rate_limit is not None:
            address = client_address(request, settings.trusted_proxies)
            self.limiter.take(f"client:{address}", settings.client_rate_limit)
        key = self.keys.authenticate(request.headers.get("authorization"))
        if scope is not None:
            self.keys.require(key, scope)
        self.limiter.take(f"key:{key.id}", key.rate_limit or settings.rate_limit)
        return key

    def close(self) -> None:
        """Stop observing deliveries; close the stores and, when built here, the Flagger."""
        self.flagger.plugins.unregister(self._plugin_name)
        self.idempotency.close()
        self.limiter.close()
        if self.owns_flagger:
            self.flagger.close()
