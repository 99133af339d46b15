"""The parquet callback passes the plugin-author kit's contract, on a local folder and on moto's S3."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from flagpipe.plugins.parquet import ParquetCallback
from flagpipe.plugins.parquet.storage import Store
from flagpipe.testing import CallbackContract

from .conftest import free_port, new_bucket
from .helpers import stored_ids
from .targets import Target

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe import Callback

    from .conftest import S3


def _swap_store(callback: Callback[Any], url: str, options: dict[str, Any]) -> None:
    """Point a set-up callback at another place, as if its storage had changed under it."""
    assert isinstance(callback, ParquetCallback)
    callback._store = Store(url, options)


class TestLocalContract(CallbackContract):
    callback_class = ParquetCallback

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"url": str(tmp_path / "lake"), "commit_every": 0.01}

    def stored_ids(self, directory: Path) -> list[str]:
        target = Target(str(self.tmp_path / "lake"))
        return stored_ids(target.fs, target.root)

    def fail_permanently(self, callback: Callback[Any]) -> None:
        blocker = self.tmp_path / "a-file"
        blocker.write_text("not a folder")
        _swap_store(callback, str(blocker / "lake"), {})


class TestS3Contract(CallbackContract):
    callback_class = ParquetCallback

    @pytest.fixture(autouse=True)
    def _s3(self, s3: S3) -> None:
        self.s3 = s3
        self.target = Target(f"s3://{new_bucket(s3)}/flags/", s3.options(secret="contract-secret"))

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return self.target.settings(commit_every=0.01)

    def stored_ids(self, directory: Path) -> list[str]:
        return stored_ids(self.target.fs, self.target.root)

    def fail_retryably(self, callback: Callback[Any]) -> None:
        options = self.s3.options()
        options["client_kwargs"] = {"endpoint_url": f"http://127.0.0.1:{free_port()}", "region_name": "us-east-1"}
        _swap_store(callback, self.target.url, options)

    def fail_permanently(self, callback: Callback[Any]) -> None:
        _swap_store(callback, "s3://no-such-bucket-at-all/flags/", self.s3.options())
