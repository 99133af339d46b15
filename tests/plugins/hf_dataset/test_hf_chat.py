"""The chat example's chain (csv, hf_dataset, a Slack webhook) against the test Hub and a receiver on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests.chat_samples import PNG, REACTION_FIELDS, conversation, react

import flagpipe
from flagpipe.config.loader import load_config

if TYPE_CHECKING:
    from pytest_httpserver import HTTPServer

    from .hub import Hub

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "chat" / "flagging.yaml"
REPO = "alice/rule-bot-reactions"


def test_the_example_chain_holds_typed_conversations(
    tmp_path: Path, hub: Hub, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    httpserver.expect_request("/slack").respond_with_data("ok")
    shutil.copy(EXAMPLE, tmp_path / "flagging.yaml")
    env = {
        "HF_REPO": REPO,
        "HF_TOKEN": "hf_good_token",
        "HF_ENDPOINT": hub.url,
        "HF_COMMIT_EVERY": "1",
        "SLACK_WEBHOOK_URL": httpserver.url_for("/slack"),
    }
    loaded = load_config(tmp_path / "flagging.yaml", env=env)
    webhook = next(c for c in loaded.config.callbacks if c.type == "webhook")
    data = loaded.config.model_dump(mode="json", exclude_unset=True, context={"reveal_secrets": True})
    data["callbacks"][2]["private_addresses"] = "allow"  # the receiver is on 127.0.0.1
    data["dir"] = str(tmp_path / "flagged")
    assert webhook.settings["format"] == "slack"
    messages = conversation(tmp_path)
    with flagpipe.Flagger(load_config(data=data, env=env)) as flagger:
        flagger.setup(REACTION_FIELDS)
        react(flagger, messages, 2, "dislike", username="ann", session_id="s1")
        react(flagger, messages, 4, "Wrong answer", session_id="s1")
        assert flagger.flush(60)
    rows = (tmp_path / "flagged" / "log.csv").read_text(encoding="utf-8")
    assert rows.count("rule-bot") == 2 and '""content"": ""A cat.""' in rows
    assert [json.loads(r.get_data())["blocks"][0]["text"]["text"] for r, _ in httpserver.log] == [
        "Chat in rule-bot: dislike",
        "Chat in rule-bot: Wrong answer",
    ]
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "datasets-cache"))
    datasets = pytest.importorskip("datasets")
    snapshot = tmp_path / "snapshot"
    for path, content in hub.files(REPO).items():
        (snapshot / path).parent.mkdir(parents=True, exist_ok=True)
        (snapshot / path).write_bytes(content)
    dataset = datasets.load_dataset(str(snapshot), split="train")
    assert isinstance(dataset.features["conversation"], datasets.List)
    assert dataset["option"] == ["dislike", "Wrong answer"]
    first = dataset[0]["conversation"]
    assert first[2]["content"] == "A cat." and json.loads(first[1]["metadata"])["title"] == "Thinking"
    image = first[0]["parts"][1]["file"]
    assert image["original_name"] == "cat.png" and (snapshot / image["path"]).read_bytes() == PNG
