"""``flagpipe serve`` (the HTTP collector) and ``flagpipe hash-key`` (the stored form of an API key)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from flagpipe.cli.common import _CONFIG_OPTION, _console, _fail, _find_config, _handles_errors, _load
from flagpipe.cli.group import cli


@cli.command()
@_CONFIG_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="The port.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), help="Serve HTTPS with this certificate.")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), help="The certificate's private key.")
@click.option("--log-level", default="info", show_default=True, help="uvicorn's log level.")
@click.pass_context
@_handles_errors
def serve(
    ctx: click.Context,
    config: str | None,
    host: str,
    port: int,
    workers: int,
    tls_cert: str | None,
    tls_key: str | None,
    log_level: str,
) -> None:
    """Run the HTTP collector: apps and browsers POST flags; it stores and delivers them like flag()."""
    if (tls_cert is None) != (tls_key is None):
        _fail("--tls-cert and --tls-key go together")
    loaded = _load(ctx, config)  # a config error is reported here, before any worker starts
    if not loaded.config.server.keys:
        _fail(f"{loaded.source}: server.keys is empty; the collector would refuse every request")
    path = _find_config(config)
    if path is None:
        _fail("no config: pass -c flagging.yaml")
    try:
        import uvicorn

        import flagpipe.server
    except ImportError as exc:
        _fail(f"flagpipe serve needs its extra: pip install 'flagpipe[server]' ({exc})")
    os.environ[flagpipe.server.ENV_SERVE_CONFIG] = str(Path(str(path)).resolve())
    with tempfile.TemporaryDirectory(prefix="flagpipe-metrics-") as metrics_dir:
        if workers > 1:  # the workers' counters meet here, so any worker's /metrics shows them all
            os.environ.setdefault(flagpipe.server.MULTIPROCESS_ENV, metrics_dir)
        uvicorn.run(
            "flagpipe.server:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            ssl_certfile=tls_cert,
            ssl_keyfile=tls_key,
            proxy_headers=False,  # X-Forwarded-For is read only from server.trusted_proxies
            server_header=False,
            log_level=log_level,
        )


@cli.command("hash-key")
@click.option("--key", prompt=True, hide_input=True, help="The API key (prompted for when not given).")
def hash_key(key: str) -> None:
    """Print the sha256 form of an API key, for server.keys[].hash in flagging.yaml."""
    from flagpipe.config.server_model import hash_key as digest

    _console().print(digest(key), highlight=False)
