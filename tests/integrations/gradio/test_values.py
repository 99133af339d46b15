"""Gradio payloads to stored values: the pieces the callback's end-to-end tests do not reach."""

from __future__ import annotations

import base64
import math
from pathlib import Path

import pytest

from flagpipe import FieldSpec
from flagpipe.integrations.gradio.values import ValueConverter, data_url_bytes, gradio_folders, plain_value


def test_data_url_bytes() -> None:
    field = FieldSpec("image", kind="image")
    assert data_url_bytes(field, "data:image/png;base64," + base64.b64encode(b"png").decode()) == b"png"
    with pytest.raises(ValueError, match="only base64 data URLs"):
        data_url_bytes(field, "data:text/plain,hello")
    with pytest.raises(ValueError, match="not valid base64"):
        data_url_bytes(field, "data:image/png;base64,@@@")


def test_plain_value_keeps_json_or_falls_back_to_text() -> None:
    data = FieldSpec("data", kind="json")
    assert plain_value(data, {"a": [1, 2]}) == {"a": [1, 2]}
    assert plain_value(data, math.nan) == "nan"  # JSON has no NaN
    assert plain_value(data, {1, 2}) in ("{1, 2}", "{2, 1}")
    assert math.isnan(plain_value(FieldSpec("x", kind="number"), math.nan))  # only json fields are checked


def test_convert_unwraps_updates_and_refuses_payloads_without_a_path(tmp_path: Path) -> None:
    converter = ValueConverter([tmp_path])
    photo = FieldSpec("photo", kind="image")
    assert converter.convert(FieldSpec("x", kind="number"), {"__type__": "update", "value": 3}, []) == 3
    assert converter.convert(photo, None, []) is None
    assert converter.convert(photo, {"composite": {"path": str(tmp_path / "a.png")}}, []) == tmp_path / "a.png"
    with pytest.raises(ValueError, match="no local path"):
        converter.convert(photo, {"url": "http://127.0.0.1/a.png"}, [])


def test_gradio_folders_are_resolved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "cache" / ".." / "cache"))
    assert gradio_folders()[0] == (tmp_path / "cache").resolve()
