"""The built-in csv callback passes the contract of the plugin-author kit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.csv_log import read_rows

from flagpipe.plugins.csv import CSVCallback
from flagpipe.testing import CallbackContract

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe import Callback


class TestCSVContract(CallbackContract):
    callback_class = CSVCallback

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"file_name": "contract.csv", "extra_columns": ["comment"]}

    def stored_ids(self, directory: Path) -> list[str]:
        return [row["id"] for row in read_rows(directory / "contract.csv")]

    def fail_permanently(self, callback: Callback[Any]) -> None:
        # the log's path becomes a folder: no retry helps until someone fixes it
        assert isinstance(callback, CSVCallback)
        path = callback.path_for(self.schema().names)
        callback.close()
        path.unlink()
        path.mkdir()
