"""The chat example in headless Chromium: a dislike, a flag option, a like undone; CSV, journal and webhook agree."""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Any

import gradio as gr
import pytest

from flagpipe.core.journal import Journal

from .conftest import load_example, serve
from .test_browser import browser, wait_for_rows

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_httpserver import HTTPServer

GRADIO_MAJOR = int(gr.__version__.split(".")[0])
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(GRADIO_MAJOR < 5, reason="Gradio 4's Chatbot has no feedback options"),
]

__all__ = ["browser"]


def chat_config(tmp_path: Path, webhook_url: str) -> dict[str, Any]:
    """The example's options and notice, with the CSV and a Slack-format webhook on 127.0.0.1."""
    return {
        "dir": str(tmp_path / "flagged"),
        "app": "rule-bot",
        "options": [["Like", "like"], ["Dislike", "dislike"], "Wrong answer", "Rude"],
        "notice": "Reactions are saved with the conversation.",
        "callbacks": [
            {"type": "csv", "extra_columns": ["session_id", "app"]},
            {"type": "webhook", "format": "slack", "url": webhook_url, "private_addresses": "allow"},
        ],
    }


def wait_for_posts(httpserver: HTTPServer, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(httpserver.log) < count:
        time.sleep(0.1)
    return [json.loads(request.get_data()) for request, _ in httpserver.log]


def test_react_in_a_browser(browser: Any, tmp_path: Path, httpserver: HTTPServer) -> None:
    from playwright.sync_api import expect

    httpserver.expect_request("/slack").respond_with_data("ok")
    demo = load_example("chat").build_demo(chat_config(tmp_path, httpserver.url_for("/slack")))
    with serve(demo) as url:
        page = browser.new_page()
        try:
            page.goto(url)
            expect(page.get_by_text("Reactions are saved with the conversation.")).to_be_visible()
            box = page.get_by_role("textbox").first
            for text, answer in (("hello", "Hello! Ask me"), ("7", "Twice 7 is 15."), ("weather", "always sunny")):
                box.fill(text)
                box.press("Enter")
                expect(page.get_by_text(answer)).to_be_visible()
            page.get_by_role("button", name="Dislike").nth(0).click()  # the greeting
            page.get_by_role("button", name="Feedback").nth(1).click()  # the wrong sum
            page.get_by_role("button", name="Wrong answer").click()  # the one menu open
            like = page.get_by_role("button", name="Like", exact=True).nth(2)  # the weather, liked then undone
            like.click()
            rows = wait_for_rows(tmp_path / "flagged" / "log.csv", 3)
            page.get_by_role("button", name=re.compile(r"^(Liked|clicked like)$")).click()  # 6 | 5
            rows = wait_for_rows(tmp_path / "flagged" / "log.csv", 4)
        finally:
            page.close()
        demo.flagpipe.close()
    # Gradio 6 has only the messages format; Gradio 5's ChatInterface defaults to tuples ([pair, side])
    first, second, third = ("1", "3", "5") if GRADIO_MAJOR >= 6 else ("[0, 1]", "[1, 1]", "[2, 1]")
    assert [(r["index"], r["flag"], r["undo"]) for r in rows] == [
        (first, "dislike", "false"),
        (second, "Wrong answer", "false"),
        (third, "like", "false"),
        (third, "", "true"),
    ]
    assert rows[1]["message"] == "Twice 7 is 15." and rows[0]["app"] == "rule-bot" and rows[0]["session_id"]
    conversation = json.loads(rows[3]["conversation"])
    assert [m["role"] for m in conversation] == ["user", "assistant"] * 3
    assert "always sunny" in json.dumps(conversation[5])
    journal = Journal(tmp_path / "flagged")
    try:
        events = [event for _, event in journal.iter_events()]
    finally:
        journal.close()
    assert [e.option for e in events] == ["dislike", "Wrong answer", "like", None]
    assert events[1].field("index").value == json.loads(second) and events[1].field("conversation").kind == "chat"
    posts = wait_for_posts(httpserver, 4)
    headers = [p["blocks"][0]["text"]["text"] for p in posts]
    assert headers == [
        "Chat in rule-bot: dislike",
        "Chat in rule-bot: Wrong answer",
        "Chat in rule-bot: like",
        "Chat in rule-bot: undo",
    ]
    assert "> Twice 7 is 15." in posts[1]["blocks"][2]["text"]["text"]
    assert "user: 7" in posts[1]["blocks"][2]["text"]["text"]
