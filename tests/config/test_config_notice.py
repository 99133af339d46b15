"""The ``notice`` key: Markdown for UIs, or ``false`` to turn off the default notice of auto mode."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from flagpipe import ConfigError
from flagpipe.config.loader import load_config

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(("text", "expected"), [("notice: false", False), ("notice: Kept.", "Kept."), ("", None)])
def test_notice_is_markdown_false_or_absent(tmp_path: Path, text: str, expected: object) -> None:
    path = tmp_path / "flagging.yaml"
    path.write_text(f"mode: auto\n{text}\n", encoding="utf-8")
    assert load_config(path).config.notice == expected


@pytest.mark.parametrize("value", [True, 3])
def test_notice_true_or_a_number_is_an_error(value: object) -> None:
    with pytest.raises(ConfigError, match="notice"):
        load_config(data={"notice": value})
