"""Tests of the ``jsonl`` callback: flagpipe's callback contract, then what is particular to it."""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING, Any

import flagpipe
import pytest
from flagpipe.core.host import create_plugin_host
from flagpipe.core.policy import PluginPolicy
from flagpipe.testing import CallbackContract, FlaggerFactory
from pydantic import ValidationError

from flagpipe_jsonl import JSONLCallback, JSONLSettings, read_events

if TYPE_CHECKING:
    from pathlib import Path


class TestJSONLContract(CallbackContract):
    """flagpipe's callback contract, run against the jsonl callback."""

    callback_class = JSONLCallback

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"file_name": "contract.jsonl", "fsync": True}

    def stored_ids(self, directory: Path) -> list[str]:
        return [event.id for event in read_events(directory / "contract.jsonl")]

    def fail_retryably(self, callback: flagpipe.Callback[Any]) -> None:
        self.monkeypatch.setattr(os, "write", _failing_write(errno.ENOSPC))

    def fail_permanently(self, callback: flagpipe.Callback[Any]) -> None:
        self.monkeypatch.setattr(os, "write", _failing_write(errno.EROFS))


def _failing_write(code: int) -> Any:
    def write(fd: int, data: bytes) -> int:
        raise OSError(code, os.strerror(code))

    return write


def test_delivering_before_setup_or_after_close_is_a_permanent_error(tmp_path: Path) -> None:
    callback = JSONLCallback(JSONLSettings())
    with pytest.raises(flagpipe.PermanentError, match="before setup"):
        callback.deliver([flagpipe.FlagEvent()])
    callback.setup(flagpipe.FlagSchema.of([]), tmp_path)
    callback.close()
    with pytest.raises(flagpipe.PermanentError):
        callback.deliver([flagpipe.FlagEvent()])


def test_events_round_trip_exactly(make_flagger: FlaggerFactory, flagging_dir: Path) -> None:
    with make_flagger(JSONLCallback, options=["wrong sign"]) as flagger:
        receipt = flagger.flag({"num1": 5, "output": -12, "note": 'ünï, "quoted"\n'}, option="wrong sign")
        event = flagger.latest(1)[0]
    assert receipt.delivered == ("jsonl",)
    assert read_events(flagging_dir / "flags.jsonl") == [event]


def test_a_line_cut_short_by_a_crash_is_skipped_and_ended(tmp_path: Path) -> None:
    path = tmp_path / "flags.jsonl"
    whole = flagpipe.FlagEvent()
    path.write_text(whole.model_dump_json() + "\n" + '{"schema_version": 1, "id": "tor', encoding="utf-8")
    callback = JSONLCallback(JSONLSettings())
    callback.setup(flagpipe.FlagSchema.of([]), tmp_path)
    later = flagpipe.FlagEvent()
    callback.deliver([whole, later])
    callback.close()
    assert [e.id for e in read_events(path)] == [whole.id, later.id]


def test_file_name_must_be_a_plain_name() -> None:
    with pytest.raises(ValidationError, match="plain file name"):
        JSONLSettings(file_name="../outside.jsonl")


def test_a_directory_in_the_way_is_a_permanent_error(tmp_path: Path) -> None:
    (tmp_path / "flags.jsonl").mkdir()
    with pytest.raises(flagpipe.PermanentError, match="is a directory"):
        JSONLCallback(JSONLSettings()).setup(flagpipe.FlagSchema.of([]), tmp_path)


def test_installed_it_is_found_through_its_entry_point() -> None:
    plugins = create_plugin_host(PluginPolicy(allow=frozenset({"flagpipe-jsonl"})))
    callback_type = plugins.callback_type("jsonl")
    assert callback_type.cls is JSONLCallback
    assert (callback_type.plugin.distribution, callback_type.plugin.status) == ("flagpipe-jsonl", "loaded")
