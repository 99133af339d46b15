"""Flag text made inert for Slack's mrkdwn and Discord's Markdown."""

from __future__ import annotations

from flagpipe.plugins.webhook.markup import discord_text, slack_text


def test_slack_text_escapes_the_three_characters_slack_parses() -> None:
    assert slack_text("<!channel> & <https://evil.example|bank>") == (
        "&lt;!channel&gt; &amp; &lt;https://evil.example|bank&gt;"
    )
    assert slack_text("&lt;") == "&amp;lt;"  # an entity sent as text stays text
    assert slack_text("plain *bold* text") == "plain *bold* text"


def test_discord_text_escapes_masked_links_and_markup() -> None:
    assert discord_text("[click](https://evil.example)") == r"\[click\]\(https://evil.example\)"
    assert discord_text(r"\[x](y)") == r"\\\[x\]\(y\)"  # a backslash sent cannot undo the escape
    assert discord_text("<@123> **b** `c` ~~d~~ ||e||") == r"\<@123\> \*\*b\*\* \`c\` \~\~d\~\~ \|\|e\|\|"
    assert discord_text("plain words, 2024") == "plain words, 2024"
