"""Slack and Discord bodies: nothing a flag holds can mention people or hide a link."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from tests.chat_samples import REACTION_FIELDS, react

from flagpipe import Flagger
from flagpipe.plugins.webhook.payloads import discord_body, slack_body
from flagpipe.plugins.webhook.settings import WebhookSettings

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from flagpipe import FlagEvent

PROMPT = "<!channel> urgent <https://evil.example|https://bank.example/login>"
ANSWER = "@everyone [click](https://evil.example) & more"
SLACK = WebhookSettings(url="https://hooks.slack.com/services/T/B/X", format="slack")
DISCORD = WebhookSettings(url="https://discord.com/api/webhooks/1/x", format="discord")


@pytest.fixture
def flagger(tmp_path: Path) -> Iterator[Flagger]:
    with Flagger({"dir": str(tmp_path / "flagged"), "callbacks": [], "app": "<!here>"}) as flagger:
        yield flagger


def hostile(flagger: Flagger) -> FlagEvent:
    receipt = flagger.flag(
        {"prompt": PROMPT, "answer": ANSWER, "<@U1>[x](https://e.example)": 1},
        option="<!subteam^S1> [wrong](https://evil.example)",
        username="<!everyone>",
        comment="<@U012AB3CD> <!here> [see](https://evil.example)",
    )
    return stored(flagger, receipt.id)


def stored(flagger: Flagger, event_id: str) -> FlagEvent:
    assert flagger.journal is not None
    event = flagger.journal.get(event_id)
    assert event is not None
    return event


def mrkdwn_texts(body: dict[str, Any]) -> list[str]:
    """Every string of a Slack body that Slack parses for mentions and links (all but plain_text)."""
    texts = [body["text"]]
    for block in body["blocks"]:
        if block["type"] == "section":
            texts += [f["text"] for f in block.get("fields", [])]
            texts += [block["text"]["text"]] if "text" in block else []
        if block["type"] == "context":
            texts += [e["text"] for e in block["elements"]]
    return texts


def test_slack_bodies_escape_everything_a_flag_sent(flagger: Flagger) -> None:
    body = slack_body(hostile(flagger), SLACK)
    texts = mrkdwn_texts(body)
    assert len(texts) == 7
    for text in texts:
        assert "<" not in text and ">" not in text, text
    joined = "\n".join(texts)
    assert "&lt;!channel&gt; urgent &lt;https://evil.example|https://bank.example/login&gt;" in joined
    assert "&lt;!everyone&gt;" in body["text"] and "&lt;!here&gt;" in body["text"]
    assert "[click](https://evil.example) &amp; more" in joined
    assert body["blocks"][0]["text"]["type"] == "plain_text"


def test_discord_bodies_escape_masked_links_and_keep_mentions_off(flagger: Flagger) -> None:
    body = discord_body(hostile(flagger), DISCORD)
    assert body["allowed_mentions"] == {"parse": []}
    (embed,) = body["embeds"]
    rendered = [body["content"], embed["description"]]
    rendered += [f["name"] for f in embed["fields"]] + [f["value"] for f in embed["fields"]]
    for text in rendered:
        assert "](" not in text.replace("\\](", ""), text  # no unescaped masked link
        assert "<" not in text.replace("\\<", ""), text
    values = {f["name"]: f["value"] for f in embed["fields"]}
    assert values["answer (input)"] == r"@everyone \[click\]\(https://evil.example\) & more"
    assert values["Who"] == r"\<!everyone\>"
    assert r"\[see\]\(https://evil.example\)" in embed["description"]


def test_discord_values_stay_within_discords_limits_when_escaped(flagger: Flagger) -> None:
    receipt = flagger.flag({"a": "[" * 5000, "b": "x" * 5000}, comment="(" * 5000)
    body = discord_body(stored(flagger, receipt.id), DISCORD)
    (embed,) = body["embeds"]
    for field in embed["fields"]:
        assert len(field["value"]) <= 1024 and len(field["name"]) <= 256
        head = field["value"].removesuffix("…")
        assert (len(head) - len(head.rstrip("\\"))) % 2 == 0  # no escape cut in half
    assert len(embed["description"]) <= 4000


def test_a_chat_quote_escapes_the_conversation(flagger: Flagger) -> None:
    flagger.setup(REACTION_FIELDS)
    messages = [
        {"role": "user", "content": "<!channel> [hi](https://evil.example)"},
        {"role": "<@U1>", "content": "answer <https://evil.example|safe>"},
    ]
    react(flagger, messages, 1, "dislike")
    assert flagger.journal is not None
    ((_, event),) = flagger.journal.events_after(0, 10)
    slack = slack_body(event, SLACK)["blocks"][2]["text"]["text"]
    assert "<" not in slack and ">" not in slack.replace("\n> ", "\n")
    assert "&lt;!channel&gt;" in slack and "*&lt;@U1&gt; (message 1):*" in slack
    description = discord_body(event, DISCORD)["embeds"][0]["description"]
    assert r"\[hi\]\(https://evil.example\)" in description and r"**\<@U1\> (message 1):**" in description
