"""Value conversion: plain values' shortcut, no local path read where the caller says so, references checked once."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pytest

from flagpipe import FieldSpec, Flagger
from flagpipe.core import values
from flagpipe.core.files import FileStore
from flagpipe.core.values import ValueConverter, no_local_paths

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe.core.host import PluginHost


class _Text(str):
    """A str subclass: not a plain value, so it takes the general path."""


@pytest.mark.parametrize("value", ["text", "", "-12", 0, -12, 2**70, 1.5, -0.0, True, None, _Text("x"), [1], {"a": 1}])
def test_plain_values_convert_as_the_general_path_converts_them(tmp_path: Path, value: Any) -> None:
    converter = ValueConverter(FileStore(tmp_path, max_bytes=None, fsync=False), [])
    fast = converter.convert("field", value, None)
    general = converter._convert("field", value, None, None)
    assert fast.model_dump() == general.model_dump()
    assert type(fast.value) is type(general.value)


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_a_number_that_cannot_be_stored_is_refused_on_either_path(tmp_path: Path, value: float) -> None:
    converter = ValueConverter(FileStore(tmp_path, max_bytes=None, fsync=False), [])
    with pytest.raises(ValueError, match="not a finite number"):
        converter.convert("field", value, None)


def test_a_blank_name_is_refused_whatever_the_value(tmp_path: Path) -> None:
    converter = ValueConverter(FileStore(tmp_path, max_bytes=None, fsync=False), [])
    with pytest.raises(ValueError, match="must not be empty"):
        converter.convert("  ", "text", None)


def test_no_local_paths_refuses_text_and_path_objects_for_file_and_chat_fields(
    tmp_path: Path, plugins: PluginHost
) -> None:
    upload = tmp_path / "note.txt"
    upload.write_text("on this machine")
    config = {"dir": str(tmp_path / "flags"), "delivery": {"mode": "inline"}}
    with Flagger(config, plugins=plugins, fields=[FieldSpec("doc", kind="file"), FieldSpec("chat", kind="chat")]) as f:
        for value in ({"doc": str(upload)}, {"doc": upload}, {"chat": [{"role": "user", "content": (str(upload),)}]}):
            with pytest.raises(ValueError, match="not as a path on the server"):
                f._submit(value, "manual", {}, paths=no_local_paths)
        assert f.flag({"doc": upload}).stored  # the app's own code may pass paths
        assert f.count == 1


def test_a_stored_file_referenced_many_times_is_checked_once(tmp_path: Path, plugins: PluginHost) -> None:
    screened: list[str] = []

    def counting(path: Path, media_type: str | None) -> int:
        screened.append(path.name)
        return 0

    from flagpipe import Detector
    from flagpipe.testing import DetectorPlugin

    upload = tmp_path / "note.txt"
    upload.write_text("a note")
    config = {"dir": str(tmp_path / "flags"), "delivery": {"mode": "inline"}, "redact": {"detect": ["counting"]}}
    with (
        plugins.registered(DetectorPlugin(Detector("counting", scan_file=counting))),
        Flagger(config, plugins=plugins, fields=[FieldSpec("doc", kind="file"), FieldSpec("chat", kind="chat")]) as f,
    ):
        f.flag({"doc": upload})
        stored = f.latest(1)[0].field("doc").file
        assert (stored is not None and screened == [stored.path.rsplit("/", 1)[-1]]) or len(screened) == 1
        part = {"type": "file", "file": stored.model_dump(mode="json")}
        screened.clear()
        assert f.flag({"chat": [{"role": "user", "content": [part] * 50}]}).stored
    assert len(screened) == 1


def test_a_conversation_carries_a_bounded_number_of_files(
    tmp_path: Path, plugins: PluginHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(values, "MAX_CHAT_FILES", 3)  # a small bound instead of 1,000 files
    config = {"dir": str(tmp_path / "flags"), "delivery": {"mode": "inline"}}
    files = [bytes([i]) * 8 for i in range(4)]
    with Flagger(config, plugins=plugins, fields=[FieldSpec("chat", kind="chat")]) as f:
        assert f.flag({"chat": [{"role": "user", "content": files[:3]}]}).stored
        with pytest.raises(ValueError, match="more than 3 files in one conversation"):
            f.flag({"chat": [{"role": "user", "content": files}]})
        assert f.count == 1
