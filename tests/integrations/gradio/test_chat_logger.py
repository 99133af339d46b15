"""The ``ChatCSVLogger`` drop-in: Gradio's signature, a log.csv whose header matches its rows."""

from __future__ import annotations

import csv
import inspect
from typing import TYPE_CHECKING

import gradio as gr
import pytest

if int(gr.__version__.split(".")[0]) < 5:
    pytest.skip("Gradio 4 has no ChatCSVLogger to stand in for", allow_module_level=True)

from gradio.events import LikeData
from gradio.flagging import ChatCSVLogger as GradioChatCSVLogger

import flagpipe
from flagpipe.integrations.gradio.chat_logger import ChatCSVLogger

if TYPE_CHECKING:
    from pathlib import Path

MESSAGES_FORMAT = {"type": "messages"} if "type" in inspect.signature(gr.Chatbot.__init__).parameters else {}
MESSAGES = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello there"}]


def test_same_signature_as_gradios() -> None:
    assert inspect.signature(ChatCSVLogger.__init__).parameters.keys() == {"self", "config"}  # config: keyword only
    ours, theirs = inspect.signature(ChatCSVLogger.setup), inspect.signature(GradioChatCSVLogger.setup)
    assert list(ours.parameters) == list(theirs.parameters)
    assert list(inspect.signature(ChatCSVLogger.flag).parameters)[:3] == ["self", "like_data", "messages"]


def test_reactions_land_in_an_aligned_csv(tmp_path: Path) -> None:
    logger = ChatCSVLogger()
    logger.setup(str(tmp_path / "flagged"))
    for liked in (False, True, ""):
        logger.flag(LikeData(None, {"index": 1, "value": ["hello there"], "liked": liked}), MESSAGES)
    logger.close()
    with (tmp_path / "flagged" / "log.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header, data = rows[0], rows[1:]
    assert header[:7] == ["conversation", "index", "message", "undo", "flag", "username", "timestamp"]
    assert all(len(row) == len(header) for row in data)
    assert [(r[1], r[2], r[3], r[4]) for r in data] == [
        ("1", "hello there", "false", "dislike"),
        ("1", "hello there", "false", "like"),
        ("1", "hello there", "true", ""),
    ]
    final = flagpipe.read_reactions(tmp_path / "flagged")
    assert final["reaction"].tolist() == [None] and final["reactions"].tolist() == [3]


def test_a_config_adds_sinks_behind_the_log(tmp_path: Path) -> None:
    extra = tmp_path / "flagged" / "extra.csv"
    logger = ChatCSVLogger(
        config={"dir": str(tmp_path / "ignored"), "callbacks": [{"type": "csv", "file_name": "extra.csv"}]}
    )
    logger.setup(str(tmp_path / "flagged"))
    logger.flag(LikeData(None, {"index": 1, "value": ["hello there"], "liked": False}), MESSAGES)
    logger.close()
    for path in (tmp_path / "flagged" / "log.csv", extra):
        with path.open(encoding="utf-8", newline="") as handle:
            [row] = list(csv.DictReader(handle))
        assert (row["index"], row["flag"]) == ("1", "dislike")
    assert not (tmp_path / "ignored").exists()


def test_it_plugs_into_a_chatbot_like_event(tmp_path: Path) -> None:
    logger = ChatCSVLogger()
    logger.setup(str(tmp_path))
    with gr.Blocks() as demo:
        chatbot = gr.Chatbot(MESSAGES, **MESSAGES_FORMAT)
        chatbot.like(logger.flag, chatbot, None)
    assert any(getattr(fn, "fn", None) == logger.flag for fn in demo.fns.values())
    logger.close()
