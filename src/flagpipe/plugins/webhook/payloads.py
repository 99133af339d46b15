"""The request bodies of the ``webhook`` callback: signed JSON, a Slack message or a Discord message.

The JSON body (``format: json``) is ``{"type", "timestamp", "schema_version", "data"}``, where
``data`` is one flag (``flag.created``) or ``{"events": [...]}`` (``flag.batch``); a flag is the
event's own JSON with its files shown as the settings say, never as bytes.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from flagpipe.core.turns import take_turns
from flagpipe.plugins.webhook.chat import chat_headline, chat_quote
from flagpipe.plugins.webhook.markup import discord_text, slack_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from flagpipe import FlagEvent
    from flagpipe.plugins.webhook.settings import WebhookSettings

__all__ = [
    "BATCH_TYPE",
    "EVENT_TYPE",
    "PAYLOAD_VERSION",
    "batch_id",
    "bodies",
    "discord_body",
    "encode",
    "flag_data",
    "json_body",
    "slack_body",
]

#: The ``type`` of the JSON payload of one flag.
EVENT_TYPE = "flag.created"
#: The ``type`` of the JSON payload of a batch of flags.
BATCH_TYPE = "flag.batch"
#: The version of the JSON payload's layout.
PAYLOAD_VERSION = 1


def _file_view(settings: WebhookSettings, path: str, ref: dict[str, Any]) -> dict[str, Any] | None:
    if settings.files == "none":
        return None
    view = {k: ref[k] for k in ("original_name", "media_type", "size", "sha256")}
    if settings.files == "url" and settings.files_url:
        view["url"] = settings.files_url.rstrip("/") + "/" + path
    else:
        view["path"] = path
    return view


def flag_data(event: FlagEvent, settings: WebhookSettings) -> dict[str, Any]:
    """The JSON view of one flag: the event's own JSON with files shown as the settings say."""
    data: dict[str, Any] = event.model_dump(mode="json", exclude={"schema_version"})
    for field in data["fields"]:
        if field.get("file") is not None:
            field["file"] = _file_view(settings, field["file"]["path"], field["file"])
    return data


def json_body(events: Sequence[FlagEvent], settings: WebhookSettings) -> dict[str, Any]:
    """The ``format: json`` body for one flag or a batch."""
    if len(events) == 1 and not settings.batch:
        return {
            "type": EVENT_TYPE,
            "timestamp": events[0].created_at.isoformat(),
            "schema_version": PAYLOAD_VERSION,
            "data": flag_data(events[0], settings),
        }
    return {
        "type": BATCH_TYPE,
        "timestamp": events[0].created_at.isoformat(),
        "schema_version": PAYLOAD_VERSION,
        "data": {"events": [flag_data(e, settings) for e in take_turns(events)]},
    }


def _shown(field: dict[str, Any], limit: int = 300) -> str:
    file = field.get("file")
    if file is not None:
        text = file.get("url") or file.get("path") or ""
    elif field.get("value") is None:
        text = "(empty)"
    else:
        value = field["value"]
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _headline(event: FlagEvent) -> str:
    chat = chat_headline(event)
    if chat is not None:
        return chat
    reason = event.option or "flagged"
    app = f" in {event.app}" if event.app else ""
    return f"Flag{app}: {reason}"


def slack_body(event: FlagEvent, settings: WebhookSettings) -> dict[str, Any]:
    """A Slack incoming-webhook message: reason, who, when, inputs and outputs, file links.

    Every text from the flag is escaped for mrkdwn (:func:`slack_text`), so it cannot mention or link;
    the header is ``plain_text``, which Slack does not parse.
    """
    data = flag_data(event, settings)
    who = slack_text(event.username or "anonymous")[:1000]
    when = event.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    quote = chat_quote(event, 2900, escape=slack_text)
    lines = (
        [quote]
        if quote is not None
        else [f"*{slack_text(f['name'])}* ({slack_text(f['role'])}): {slack_text(_shown(f))}" for f in data["fields"]]
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _headline(event)[:150]}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*Reason*\n{slack_text(event.option or '-')[:1000]}"},
                {"type": "mrkdwn", "text": f"*Who*\n{who}"},
                {"type": "mrkdwn", "text": f"*When*\n{when}"},
                {"type": "mrkdwn", "text": f"*Flag id*\n{slack_text(event.id)}"},
            ],
        },
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)[:2900] or "(no fields)"}},
    ]
    if event.comment:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": slack_text(event.comment)[:2900]}]})
    text = f"{slack_text(_headline(event))} by {who} at {when}"
    return {"text": text, "blocks": blocks}


def _discord_value(text: str, limit: int) -> str:
    """``text`` escaped for Discord and cut to ``limit`` characters, never ending in half an escape."""
    escaped = discord_text(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    trailing = len(cut) - len(cut.rstrip("\\"))
    return (cut[:-1] if trailing % 2 else cut) + "…"


def discord_body(event: FlagEvent, settings: WebhookSettings) -> dict[str, Any]:
    """A Discord execute-webhook message with one embed.

    Mentions are off (``allowed_mentions``) and every text from the flag that Discord renders as
    Markdown is escaped (:func:`discord_text`), so it cannot hide a link; the title and footer are plain.
    """
    data = flag_data(event, settings)
    fields = [
        {
            "name": f"{_discord_value(f['name'], 200)} ({discord_text(f['role'])})"[:256],
            "value": _discord_value(_shown(f, 1000), 1024) or "-",
            "inline": len(_shown(f)) < 40,
        }
        for f in data["fields"][:20]
    ]
    fields.append({"name": "Who", "value": _discord_value(event.username or "anonymous", 1024), "inline": True})
    quote = chat_quote(event, 3000, bold="**", escape=discord_text)
    if quote is not None:
        fields = fields[-1:]  # the conversation is quoted in the description instead
    comment = _discord_value(event.comment, 1000) if event.comment else None
    description = "\n\n".join(part for part in (quote, comment) if part)
    embed: dict[str, Any] = {
        "title": _headline(event)[:256],
        "description": description[:4000],
        "timestamp": event.created_at.isoformat(),
        "fields": fields,
        "footer": {"text": f"flag {event.id}"},
    }
    content = _discord_value(_headline(event), 2000)
    return {"content": content, "embeds": [embed], "allowed_mentions": {"parse": []}}


def batch_id(events: Sequence[FlagEvent]) -> str:
    """The ``webhook-id`` of a batch: derived from the ids it holds, so a retry keeps it."""
    digest = hashlib.sha256("\n".join(e.id for e in events).encode()).hexdigest()[:32]
    return f"batch_{digest}"


def bodies(events: Sequence[FlagEvent], settings: WebhookSettings) -> list[tuple[str, dict[str, Any]]]:
    """The requests to send for ``events``, as ``(webhook-id, body)``: one per flag, or one per batch."""
    if settings.format == "json":
        if settings.batch:
            msg_id = events[0].id if len(events) == 1 else batch_id(events)
            return [(msg_id, json_body(events, settings))]
        return [(e.id, json_body([e], settings)) for e in events]
    render = slack_body if settings.format == "slack" else discord_body
    return [(e.id, render(e, settings)) for e in events]


def encode(body: dict[str, Any]) -> bytes:
    """The bytes sent (and signed): compact UTF-8 JSON."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
