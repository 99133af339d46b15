"""A ``ChatCSVLogger`` folder written by the installed gradio: read_flags, read_reactions and import-gradio."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

import flagpipe
from flagpipe.cli import cli

if TYPE_CHECKING:
    from pathlib import Path

gr = pytest.importorskip("gradio")
if int(gr.__version__.split(".")[0]) < 5:
    pytest.skip("Gradio 4 has no ChatCSVLogger (ChatInterface flagging is new in 5)", allow_module_level=True)

MESSAGES: list[dict[str, Any]] = [
    {"role": "user", "content": "hello"},
    {"role": "assistant", "content": "Hello! Ask me anything."},
    {"role": "user", "content": "2+2?"},
    {"role": "assistant", "content": "5", "metadata": {"title": "Thinking", "log": "adding"}},
]


def write_chat_log(folder: Path) -> None:
    """Four reactions, through Gradio's own ChatCSVLogger and LikeData: what a ChatInterface writes."""
    from gradio.events import LikeData
    from gradio.flagging import ChatCSVLogger

    logger = ChatCSVLogger()
    logger.setup(str(folder))
    for index, liked in ((1, True), (3, False), (3, "Wrong answer"), (1, "")):
        rated = MESSAGES[index]["content"]
        logger.flag(LikeData(None, {"index": index, "value": [rated], "liked": liked}), MESSAGES)


def test_the_misaligned_header_is_read_right(tmp_path: Path) -> None:
    write_chat_log(tmp_path / "gradio")
    lines = (tmp_path / "gradio" / "log.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "conversation,index,value,flag,timestamp"  # five names over four-cell rows
    frame = flagpipe.read_flags(tmp_path / "gradio")
    assert frame["option"].tolist()[:3] == ["like", "dislike", "Wrong answer"]
    assert frame["index"].tolist() == [1, 3, 3, 1]
    assert frame["conversation"][0][3]["metadata"] == {"title": "Thinking", "log": "adding"}
    assert frame["message"].tolist() == ["Hello! Ask me anything.", "5", "5", "Hello! Ask me anything."]
    assert frame["timestamp"].notna().all()
    states = flagpipe.read_reactions(tmp_path / "gradio")
    assert dict(zip(states["index"], states["reaction"], strict=True)) == {1: None, 3: "Wrong answer"}


def test_import_gradio_stores_chat_reactions(tmp_path: Path) -> None:
    write_chat_log(tmp_path / "gradio")
    config = tmp_path / "flagging.yaml"
    options = '[[Like, like], [Dislike, dislike], "Wrong answer"]'
    config.write_text(f"version: 1\ndir: flagged\napp: bot\noptions: {options}\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["import-gradio", str(tmp_path / "gradio"), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "imported 4 flags" in result.output
    again = CliRunner().invoke(cli, ["import-gradio", str(tmp_path / "gradio"), "--config", str(config)])
    assert "imported 0 flags, skipped 4" in again.output
    with flagpipe.Flagger(flagpipe_config(config)) as flagger:
        events = flagger.latest(10)
    assert [e.option for e in events] == ["like", "dislike", "Wrong answer", None]
    assert [e.field("undo").value for e in events] == [False, False, False, True]
    conversation = events[1].field("conversation")
    assert conversation.kind == "chat" and conversation.value == [
        {k: v for k, v in m.items()} for m in json.loads(json.dumps(MESSAGES))
    ]
    stats = CliRunner().invoke(cli, ["stats", "-c", str(config), "--json"])
    chat = json.loads(stats.output)["chat"]
    assert chat["total"] == 4 and chat["undos"] == 1
    assert chat["by_app"] == [{"app": "bot", "like": 0, "dislike": 0, "other": 1, "like_ratio": None}]


def flagpipe_config(path: Path) -> Any:
    from flagpipe.config.loader import load_config

    return load_config(path)
