"""``flagpipe serve``: an authenticated HTTP collector that stores flags in a journal and delivers them.

:func:`app` builds the ASGI app (FastAPI) for a config; mount it in an existing ASGI app or serve it
with uvicorn (``flagpipe serve -c flagging.yaml``). Needs ``pip install 'flagpipe[server]'``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from fastapi import FastAPI

    from flagpipe.config.loader import LoadedConfig
    from flagpipe.flagger import Flagger

__all__ = ["ENV_SERVE_CONFIG", "MULTIPROCESS_ENV", "app", "app_from_env"]

#: The environment variable naming the config for :func:`app_from_env` (uvicorn's worker processes).
ENV_SERVE_CONFIG = "FLAGPIPE_SERVE_CONFIG"

#: The directory where several workers' Prometheus counts meet (prometheus_client's multiprocess mode).
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def app(config: str | os.PathLike[str] | Flagger | LoadedConfig | Mapping[str, Any]) -> FastAPI:
    """The collector's ASGI app for ``config``: a YAML path, a mapping, a loaded config or a Flagger."""
    try:
        from flagpipe.server.asgi import create_app
    except ImportError as exc:
        raise ImportError(f"flagpipe serve needs its extra: pip install 'flagpipe[server]' ({exc})") from None
    return create_app(config)


def app_from_env() -> FastAPI:
    """The app for the config named by ``FLAGPIPE_SERVE_CONFIG`` (a factory for uvicorn's workers)."""
    path = os.environ.get(ENV_SERVE_CONFIG)
    if not path:
        raise RuntimeError(f"{ENV_SERVE_CONFIG} must name the config file")
    return app(path)
