"""The hf_dataset callback passes the plugin-author kit's contract, against the test Hub."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from flagpipe.plugins.hf_dataset import HFDatasetCallback
from flagpipe.testing import CallbackContract

from .test_hf_dataset import REPO, hub_ids

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe import Callback

    from .hub import Hub


class TestHFDatasetContract(CallbackContract):
    callback_class = HFDatasetCallback

    @pytest.fixture(autouse=True)
    def _hub(self, hub: Hub) -> None:
        self.hub = hub

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"repo_id": REPO, "token": "hf_good_token", "endpoint": self.hub.url}

    def stored_ids(self, directory: Path) -> list[str]:
        return hub_ids(self.hub) if ("dataset", REPO) in self.hub.repos else []

    def fail_retryably(self, callback: Callback[Any]) -> None:
        self.hub.commits_per_hour = 0
