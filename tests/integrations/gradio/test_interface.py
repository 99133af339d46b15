"""Interface keyword arguments from the config, and the privacy notice."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr
import pytest

from flagpipe import Flagger
from flagpipe.integrations.gradio import (
    DEFAULT_AUTO_NOTICE,
    NOTICE_CLASS,
    FlagpipeCallback,
    interface_kwargs,
    notice,
    notice_text,
)

from .conftest import mode_kwargs

if TYPE_CHECKING:
    from pathlib import Path


def test_interface_kwargs_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "flagging.yaml"
    path.write_text("mode: manual\noptions: [wrong sign, [Off by one, off_by_one]]\ndir: out\nnotice: Kept.\n")
    kwargs = interface_kwargs(path, article="About this app.")
    callback = kwargs.pop("flagging_callback")
    assert isinstance(callback, FlagpipeCallback)
    assert kwargs == {
        **mode_kwargs("manual"),
        "flagging_options": [("Flag as wrong sign", "wrong sign"), ("Flag as Off by one", "off_by_one")],
        "flagging_dir": str(tmp_path / "out"),
        "article": "About this app.\n\nKept.",
    }
    assert interface_kwargs({"dir": str(tmp_path)})["flagging_options"] is None


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, None),
        ({"notice": "Kept for review."}, "Kept for review."),
        ({"mode": "auto"}, DEFAULT_AUTO_NOTICE),
        ({"mode": "auto", "notice": "Saved."}, "Saved."),
        ({"mode": "auto", "notice": False}, None),
        ({"mode": "never", "notice": "Kept."}, None),
    ],
)
def test_notice_text(config: dict[str, object], expected: str | None) -> None:
    assert notice_text(config) == expected


def test_notice_renders_markdown_in_blocks() -> None:
    with gr.Blocks():
        shown = notice({"notice": "**Kept**"}, elem_classes="mine")
        assert notice({}) is None
    assert isinstance(shown, gr.Markdown)
    assert shown.value == "**Kept**"
    assert shown.elem_classes == ["flagpipe-notice", "mine"]


def test_notice_text_takes_every_form_of_config(tmp_path: Path) -> None:
    path = tmp_path / "flagging.yaml"
    path.write_text("mode: auto\ndir: out\n")
    with FlagpipeCallback(path) as callback, Flagger(dir=tmp_path / "f", mode="auto") as flagger:
        for source in (path, str(path), callback, flagger, callback.config):
            assert notice_text(source) == DEFAULT_AUTO_NOTICE
    assert NOTICE_CLASS == "flagpipe-notice"
