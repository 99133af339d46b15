"""Chat reactions through the webhook callback: the rated message quoted with a few turns, bounded."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tests.chat_samples import REACTION_FIELDS, conversation, react

from flagpipe import Flagger

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_httpserver import HTTPServer


def _hook(name: str, url: str, fmt: str) -> dict[str, object]:
    return {"type": "webhook", "name": name, "url": url, "format": fmt, "private_addresses": "allow", "rate_limit": 100}


def test_slack_discord_and_json_hold_the_reaction(tmp_path: Path, httpserver: HTTPServer) -> None:
    for path in ("/slack", "/json"):
        httpserver.expect_request(path).respond_with_data("ok")
    httpserver.expect_request("/discord", query_string="wait=true").respond_with_json({"id": "1"})
    config = {
        "dir": str(tmp_path / "flagged"),
        "app": "bot",
        "delivery": {"mode": "inline"},
        "callbacks": [
            _hook("slack", httpserver.url_for("/slack"), "slack"),
            _hook("discord", httpserver.url_for("/discord"), "discord"),
            {**_hook("json", httpserver.url_for("/json"), "json"), "secret": None},
        ],
    }
    messages = conversation(tmp_path, turns=4)
    messages[-1]["content"] = "a very long answer " * 400
    with Flagger(config) as flagger:
        flagger.setup(REACTION_FIELDS)
        react(flagger, messages, len(messages) - 1, "dislike", username="ann", comment="rambles")
    bodies = {request.path: json.loads(request.get_data()) for request, _ in httpserver.log}
    slack, discord, plain = bodies["/slack"], bodies["/discord"], bodies["/json"]
    assert slack["blocks"][0]["text"]["text"] == "Chat in bot: dislike"
    quote = slack["blocks"][2]["text"]["text"]
    assert len(quote) <= 3000 and "earlier message(s)" in quote
    assert "user: question 3" in quote and "answer 2" in quote and "question 0" not in quote
    assert f"*assistant (message {len(messages) - 1}):*" in quote and "> a very long answer" in quote
    assert quote.endswith("…")
    (embed,) = discord["embeds"]
    assert embed["title"] == "Chat in bot: dislike" and "rambles" in embed["description"]
    assert "**assistant (message" in embed["description"] and len(embed["description"]) <= 4000
    fields = {f["name"]: f for f in plain["data"]["fields"]}
    assert fields["index"]["value"] == len(messages) - 1 and plain["data"]["option"] == "dislike"
    assert fields["conversation"]["kind"] == "chat" and fields["conversation"]["value"][2]["content"] == "A cat."


def test_an_undo_says_so(tmp_path: Path, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/slack").respond_with_data("ok")
    config = {
        "dir": str(tmp_path / "flagged"),
        "delivery": {"mode": "inline"},
        "callbacks": [_hook("slack", httpserver.url_for("/slack"), "slack")],
    }
    messages = conversation(tmp_path, turns=0)
    with Flagger(config) as flagger:
        flagger.setup(REACTION_FIELDS)
        react(flagger, messages, 2, None, undo=True)
    [(request, _)] = list(httpserver.log)
    body = json.loads(request.get_data())
    assert body["blocks"][0]["text"]["text"] == "Chat: undo"
    assert (
        "> A cat." in body["blocks"][2]["text"]["text"] and "user: what is this?" in body["blocks"][2]["text"]["text"]
    )
