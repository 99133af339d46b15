"""API keys: ``Authorization: Bearer <key>``, compared in constant time with every configured key's hash."""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING

from flagpipe.server.errors import ApiError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from flagpipe.config.server_model import ApiKey, Scope

__all__ = ["KeyRing"]

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="flagpipe"'}


class KeyRing:
    """The configured keys; finds the key a request presents without revealing which comparison failed."""

    def __init__(self, keys: Sequence[ApiKey]) -> None:
        self._keys = [(key, key.digest.removeprefix("sha256:").encode()) for key in keys]

    def authenticate(self, authorization: str | None) -> ApiKey:
        """The key named by an ``Authorization`` header; :class:`ApiError` 401 when missing or unknown."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise ApiError(
                401, "unauthorized", "an API key is required: Authorization: Bearer <key>", headers=_CHALLENGE
            )
        presented = hashlib.sha256(token.encode()).hexdigest().encode()
        found: ApiKey | None = None
        for key, digest in self._keys:  # every key is compared, so timing does not tell which one matched
            if hmac.compare_digest(presented, digest):
                found = key
        if found is None:
            raise ApiError(401, "unauthorized", "the API key is not valid", headers=_CHALLENGE)
        return found

    @staticmethod
    def require(key: ApiKey, scope: Scope) -> None:
        """Raise :class:`ApiError` 403 unless ``key`` has ``scope``."""
        if scope not in key.scopes:
            raise ApiError(403, "forbidden", f"the API key {key.id!r} lacks the {scope!r} scope")

    @staticmethod
    def require_app(key: ApiKey, app: str | None) -> None:
        """Raise :class:`ApiError` 403 when ``key`` is limited to some apps and ``app`` is not one of them."""
        if key.apps is not None and app not in key.apps:
            raise ApiError(403, "forbidden", f"the API key {key.id!r} may not flag for app {app!r}")
