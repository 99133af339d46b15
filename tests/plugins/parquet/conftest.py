"""S3 for the parquet callback's tests: moto's server on 127.0.0.1, spoken to by the real s3fs / botocore.

``s3`` is one moto server for the session (started in a thread on a free port); each test gets its
own bucket (``bucket`` fixture). ``s3_auth`` is a second server, in a subprocess, that checks
credentials (moto's ``INITIAL_NO_AUTH_ACTION_COUNT``): a user without policies is denied.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from .targets import Target

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Credentials moto accepts when it does not check them.
KEY, SECRET = "testing-key", "testing-secret"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None = None, seconds: float = 30) -> None:
    """Wait (bounded) until something accepts connections on ``port``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the moto server exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds}s")


@dataclass(frozen=True)
class S3:
    """A moto server: its endpoint, and storage options for s3fs."""

    endpoint: str

    def options(self, key: str = KEY, secret: str = SECRET, **more: Any) -> dict[str, Any]:
        """``storage_options`` for the parquet callback (few retries, short timeouts)."""
        return {
            "key": key,
            "secret": secret,
            "client_kwargs": {"endpoint_url": self.endpoint, "region_name": "us-east-1"},
            "config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 2, "read_timeout": 10},
            **more,
        }

    def client(self, key: str = KEY, secret: str = SECRET) -> Any:
        """A boto3 S3 client on this server."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            region_name="us-east-1",
        )

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        """Every object key in ``bucket`` under ``prefix``."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


@pytest.fixture(scope="session")
def s3() -> Iterator[S3]:
    """One moto S3 server for the whole session, on 127.0.0.1."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    wait_for_port(port)
    try:
        yield S3(f"http://127.0.0.1:{port}")
    finally:
        server.stop()


def new_bucket(s3: S3) -> str:
    """Create a bucket with a fresh name."""
    name = f"flags-{uuid.uuid4().hex[:12]}"
    s3.client().create_bucket(Bucket=name)
    return name


@pytest.fixture
def bucket(s3: S3) -> str:
    """A fresh, empty bucket of this test's own."""
    return new_bucket(s3)


@dataclass(frozen=True)
class AuthS3:
    """A moto server that checks credentials, a bucket on it, and a user without any policy."""

    server: S3
    bucket: str
    user_key: str
    user_secret: str


@pytest.fixture(scope="module")
def s3_auth() -> Iterator[AuthS3]:
    """A moto server in a subprocess that denies a user without policies (after three set-up calls)."""
    port = free_port()
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3"}
    args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        server = S3(f"http://127.0.0.1:{port}")
        name = f"locked-{uuid.uuid4().hex[:10]}"
        server.client().create_bucket(Bucket=name)  # the three calls moto lets through unchecked
        import boto3

        iam = boto3.client(
            "iam",
            endpoint_url=server.endpoint,
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
            region_name="us-east-1",
        )
        iam.create_user(UserName="no-rights")
        made = iam.create_access_key(UserName="no-rights")["AccessKey"]
        yield AuthS3(server, name, made["AccessKeyId"], made["SecretAccessKey"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(params=["local", "s3"])
def target(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Target:
    """Each test once on a local folder and once on a moto bucket."""
    if request.param == "local":
        return Target(str(tmp_path_factory.mktemp("lake") / "flags"))
    server: S3 = request.getfixturevalue("s3")
    return Target(f"s3://{new_bucket(server)}/flags/", server.options())
