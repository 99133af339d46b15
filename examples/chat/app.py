"""A small rule-based chatbot whose replies people can like, dislike or flag, stored by flagpipe.

Run (a CSV, a Hugging Face dataset and a Slack channel, as flagging.yaml beside this file says)::

    pip install "flagpipe[gradio,hf]"
    HF_REPO=you/rule-bot-reactions HF_TOKEN=hf_... SLACK_WEBHOOK_URL=https://hooks.slack.com/... \
        python examples/chat/app.py

or ``python examples/chat/app.py --csv-only`` to keep only the CSV. Thumbs, the flag menu's options
and the privacy notice come from the same file. No model is downloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from flagpipe.integrations.gradio import chat_flagging

HERE = Path(__file__).parent

RULES = (
    ("hello", "Hello! Ask me about the weather, the time or a number."),
    ("weather", "It is always sunny in this example."),
    ("time", "Time to flag a few replies."),
)


def reply(message: Any, history: list[Any]) -> str:
    """Answer by a few rules, echo the rest; numbers are doubled wrongly, so there is something to dislike."""
    text = message.get("text", "") if isinstance(message, dict) else str(message)
    for word, answer in RULES:
        if word in text.lower():
            return answer
    if text.strip().lstrip("-").isdigit():
        return f"Twice {text.strip()} is {int(text) * 2 + 1}."  # off by one, on purpose
    return f"You said: {text}"


def build_demo(config: str | Path | dict[str, Any] = HERE / "flagging.yaml") -> gr.ChatInterface:
    """The ChatInterface, its reactions stored as flagging.yaml says (thumbs, flag menu, notice)."""
    return chat_flagging(gr.ChatInterface(reply, title="Rule bot"), config)


def csv_only(config: str | Path = HERE / "flagging.yaml") -> dict[str, Any]:
    """The example's config with only its CSV callback (no Hub, no Slack), as a dict."""
    import yaml

    data: dict[str, Any] = yaml.safe_load(Path(config).read_text(encoding="utf-8"))
    data["callbacks"] = [c for c in data["callbacks"] if c["type"] == "csv"]
    data["dir"] = str(Path(config).parent / data["dir"])
    return data


if __name__ == "__main__":
    import sys

    build_demo(csv_only() if "--csv-only" in sys.argv else HERE / "flagging.yaml").launch()
