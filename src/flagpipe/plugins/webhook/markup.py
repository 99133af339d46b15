"""Flag text made inert for chat markup: no mention, link or formatting a flag can smuggle in.

Slack's mrkdwn turns ``<!channel>``, ``<@U123>`` and ``<https://a|b>`` into mentions and links, so
``&``, ``<`` and ``>`` become ``&amp;``, ``&lt;`` and ``&gt;`` (Slack's own escaping). Discord's
Markdown turns ``[text](url)`` into a link whose text hides where it leads, so its markup characters
get a backslash; its mentions are already off (``allowed_mentions: {parse: []}``).
"""

from __future__ import annotations

import re

__all__ = ["discord_text", "slack_text"]

_DISCORD_MARKUP = re.compile(r"([\\\[\]()<>*_~`|#])")


def slack_text(text: str) -> str:
    """``text`` for a Slack ``text`` or mrkdwn field: ``&``, ``<`` and ``>`` as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def discord_text(text: str) -> str:
    """``text`` for Discord Markdown: each markup character (brackets, parentheses, ...) escaped."""
    return _DISCORD_MARKUP.sub(r"\\\1", text)
