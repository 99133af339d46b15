"""Collector fixtures: keys, a config, the app in process (httpx ASGITransport) and real uvicorn processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import yaml

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

WRITER = "writer-key-0123456789abcdef"
READER = "reader-key-0123456789abcdef"
BROWSER = "browser-key-0123456789abcdef"
ORIGIN = "http://page.test"


def auth(key: str = WRITER) -> dict[str, str]:
    """The Authorization header for ``key``."""
    return {"Authorization": f"Bearer {key}"}


def collector_config(directory: Path, **server: Any) -> dict[str, Any]:
    """A collector config: options, a CSV sink (inline delivery) and three keys."""
    from flagpipe.config.server_model import hash_key

    settings: dict[str, Any] = {
        "keys": [
            {"id": "writer", "key": WRITER, "scopes": ["flag", "read"]},
            {"id": "reader", "hash": hash_key(READER), "scopes": ["read"]},
            {"id": "browser", "key": BROWSER, "scopes": ["flag"], "apps": ["web"]},
        ],
        "cors_origins": [ORIGIN],
        **server,
    }
    return {
        "options": ["wrong sign", ["Off by one", "off_by_one"]],
        "dir": str(directory / "flagged"),
        "notice": "Flags are kept for review.",
        "delivery": {"mode": "inline"},
        "server": settings,
    }


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def make_client(tmp_path: Path):
    """Build the app for a config (``server`` keys override) and an httpx client on it, in process."""
    from flagpipe.server import app

    opened: list[Any] = []

    def make(**server: Any) -> httpx.AsyncClient:
        api = app(collector_config(tmp_path, **server))
        opened.append(api)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=api), base_url="http://collector.test")

    yield make
    for api in opened:
        api.state.flagpipe.close()


@pytest.fixture
async def client(make_client) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as c:
        yield c


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(directory: Path, config: dict[str, Any]) -> Path:
    """Write ``config`` as ``flagging.yaml`` in ``directory``."""
    path = directory / "flagging.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def start_serve(config: Path, port: int, *, workers: int = 1, own_group: bool = False) -> subprocess.Popen[bytes]:
    """Start ``flagpipe serve`` and wait (bounded) until ``/healthz`` answers.

    ``own_group`` puts it in a process group of its own, so that ``killpg`` reaches every worker.
    """
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flagpipe",
            "serve",
            "-c",
            str(config),
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=own_group,
    )
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"flagpipe serve exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("flagpipe serve did not answer /healthz")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """A real ``flagpipe serve`` process (uvicorn) on 127.0.0.1; yields its base URL."""
    config = write_config(tmp_path, collector_config(tmp_path, rate_limit={"per_second": 1000, "burst": 1000}))
    port = free_port()
    process = start_serve(config, port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
