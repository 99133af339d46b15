"""Value conversion: the shortcut for plain undeclared values gives what the general path gives."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pytest

from flagpipe.core.files import FileStore
from flagpipe.core.values import ValueConverter

if TYPE_CHECKING:
    from pathlib import Path


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
