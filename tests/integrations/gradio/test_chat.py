"""The chat adapter with a served app: gradio_client on /flag_reaction, the Blocks helper in Chromium, options."""

from __future__ import annotations

import inspect
import json
import time
from typing import TYPE_CHECKING, Any

import gradio as gr
import pytest

import flagpipe
from flagpipe.integrations.gradio import ChatFlagging, chat_flagging

from .conftest import serve
from .test_browser import browser

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["browser"]

GRADIO_MAJOR = int(gr.__version__.split(".")[0])
#: Gradio 5's Chatbot needs type="messages" (its default is tuples); Gradio 6 has only messages.
MESSAGES_FORMAT = {"type": "messages"} if "type" in inspect.signature(gr.Chatbot.__init__).parameters else {}
MESSAGES = [
    {"role": "user", "content": "what is 2+2?"},
    {"role": "assistant", "content": "5"},
    {"role": "user", "content": "sure?"},
    {"role": "assistant", "content": "yes"},
]


def wait_for_events(directory: Path, count: int, timeout: float = 20.0) -> list[flagpipe.FlagEvent]:
    from flagpipe.core.journal import Journal

    deadline = time.monotonic() + timeout
    events: list[flagpipe.FlagEvent] = []
    while time.monotonic() < deadline:
        journal = Journal(directory)
        try:
            events = [event for _, event in journal.iter_events()]
        finally:
            journal.close()
        if len(events) >= count:
            return events
        time.sleep(0.1)
    raise AssertionError(f"{len(events)} events after {timeout} s, expected {count}")


def test_options_become_thumbs_and_menu(tmp_path: Path) -> None:
    plain = ChatFlagging({"dir": str(tmp_path / "a")})
    assert plain.feedback_options == ["Like", "Dislike"]
    assert (plain.reaction_value(True), plain.reaction_value(False), plain.reaction_value("")) == (
        "like",
        "dislike",
        None,
    )
    plain.close()
    mixed = ChatFlagging({"dir": str(tmp_path / "b"), "options": [["Thumbs up", "LIKE"], "Dislike", "Off topic"]})
    assert mixed.feedback_options == ["Like", "Dislike", "Off topic"]
    assert (mixed.reaction_value("Like"), mixed.reaction_value(False)) == ("LIKE", "Dislike")
    mixed.close()
    menu = ChatFlagging({"dir": str(tmp_path / "c"), "options": ["Off topic", "Rude"]})
    assert menu.feedback_options == ["Off topic", "Rude"]
    menu.close()


@pytest.mark.skipif(GRADIO_MAJOR < 5, reason="Gradio 4's ChatInterface has no flagging_mode")
def test_a_flagging_chat_interface_is_refused(tmp_path: Path) -> None:
    demo = gr.ChatInterface(lambda m, h: m, flagging_mode="manual", flagging_dir=str(tmp_path / "gradio"))
    with pytest.raises(ValueError, match="already flags with Gradio's ChatCSVLogger"):
        chat_flagging(demo, {"dir": str(tmp_path)})


@pytest.mark.skipif(GRADIO_MAJOR < 5, reason="gr.ChatMessage is new in Gradio 5")
def test_tuples_and_chat_messages_are_stored_as_messages(tmp_path: Path) -> None:
    flagging = ChatFlagging({"dir": str(tmp_path)})
    try:
        pairs = flagging.react([["hi", "hello"], ["2+2?", "5"]], (1, 1), "dislike")
        typed = flagging.react(
            [
                gr.ChatMessage(role="user", content="hi"),
                gr.ChatMessage(role="assistant", content="hm", metadata={"title": "Thinking"}),
            ],
            1,
            "like",
        )
    finally:
        flagging.close()
    assert pairs.stored and typed.stored
    events = wait_for_events(tmp_path, 2)
    assert events[0].field("conversation").value[3] == {"role": "assistant", "content": "5"}
    assert events[0].field("index").value == [1, 1] and events[0].field("message").value == "5"
    assert events[1].field("conversation").value[1]["metadata"] == {"title": "Thinking"}


def test_a_conversation_from_the_browser_reads_no_file_outside_gradios_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reaction handlers check every file path in the messages; the app's own react() may pass a Path."""
    from pathlib import Path as RealPath

    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))  # tmp_path itself is in the temp folder
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "tmp" / "gradio"))
    secret = tmp_path / "elsewhere" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("not for flags")
    flagging = ChatFlagging({"dir": str(tmp_path / "flags"), "delivery": {"mode": "inline"}})
    try:
        for content in (
            {"path": str(secret)},
            {"name": str(secret)},
            [{"type": "file", "file": {"path": None, "name": str(secret)}}],
            [{"type": "file", "file": str(secret)}],
        ):
            messages = [{"role": "user", "content": content}, {"role": "assistant", "content": "ok"}]
            with pytest.raises(ValueError, match="outside Gradio's cache"):
                flagging.api_react(messages, 1, "like")
        pairs = [[{"name": str(secret)}, "ok"]]
        with pytest.raises(ValueError, match="outside Gradio's cache"):
            flagging.api_react(pairs, [0, 1], "like")  # type: ignore[arg-type]
        own = flagging.react(
            [{"role": "user", "content": (RealPath(secret),)}, {"role": "assistant", "content": "ok"}], 1, "like"
        )
    finally:
        flagging.close()
    assert own.stored
    assert b"not for flags" in b"".join(p.read_bytes() for p in (tmp_path / "flags").rglob("*.txt"))
    assert len(wait_for_events(tmp_path / "flags", 1)) == 1


@pytest.mark.skipif(GRADIO_MAJOR < 5, reason="gr.api (the /flag_reaction endpoint) needs Gradio 5")
def test_gradio_client_reacts_with_a_comment(tmp_path: Path) -> None:
    from gradio_client import Client

    def bot(message: str, history: list[Any]) -> str:
        return f"echo {message}"

    demo = chat_flagging(gr.ChatInterface(bot), {"dir": str(tmp_path), "app": "echo"})
    with serve(demo) as url:
        client = Client(url, verbose=False)
        first = client.predict(MESSAGES, 1, "dislike", "2+2 is 4", api_name="/flag_reaction")
        client.predict(MESSAGES, 1, None, None, api_name="/flag_reaction")
    demo.flagpipe.close()
    events = wait_for_events(tmp_path, 2)
    assert events[0].id == first and events[0].option == "dislike" and events[0].comment == "2+2 is 4"
    assert events[0].field("message").value == "5" and events[0].session_id and events[0].app == "echo"
    assert events[1].option is None and events[1].field("undo").value is True


@pytest.mark.slow
@pytest.mark.skipif(GRADIO_MAJOR < 5, reason="Gradio 4's Chatbot has no feedback options")
def test_the_blocks_helper_in_a_browser(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    with gr.Blocks() as demo:
        chatbot = gr.Chatbot(MESSAGES, **MESSAGES_FORMAT)
        flagging = chat_flagging(chatbot, {"dir": str(tmp_path), "options": ["Like", "Dislike", "Wrong"]})
    with serve(demo) as url:
        page = browser.new_page()
        try:
            page.goto(url)
            expect(page.get_by_text("yes", exact=True)).to_be_visible()
            page.get_by_role("button", name="Dislike").first.click()
            wait_for_events(tmp_path, 1)
            page.get_by_role("button", name="Feedback").nth(1).click()
            page.get_by_role("button", name="Wrong").click()
            events = wait_for_events(tmp_path, 2)
        finally:
            page.close()
    flagging.close()
    assert [(e.option, e.field("index").value, e.field("message").value) for e in events] == [
        ("Dislike", 1, "5"),
        ("Wrong", 3, "yes"),
    ]
    first = events[0].field("conversation").value[0]
    assert first["role"] == "user" and "what is 2+2?" in json.dumps(first["content"])


def test_the_example_runs_with_only_its_csv(tmp_path: Path) -> None:
    from .conftest import EXAMPLES, load_example

    example = load_example("chat")
    config = example.csv_only()
    assert [c["type"] for c in config["callbacks"]] == ["csv"]
    assert config["dir"] == str(EXAMPLES / "chat" / "flagged")
    assert example.reply("7", []) == "Twice 7 is 15." and example.reply({"text": "hello"}, []).startswith("Hello!")
    flagging = ChatFlagging({**config, "dir": str(tmp_path)})
    try:
        assert flagging.feedback_options == ["Like", "Dislike", "Wrong answer", "Rude"]
        assert flagging.notice_text is not None and "Reactions are saved" in flagging.notice_text
    finally:
        flagging.close()
