"""Reading chat reactions back: each message's final state from any source, and the stats' counts."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from tests.chat_samples import REACTION_FIELDS, conversation, react

import flagpipe
from flagpipe.cli import cli
from flagpipe.config.loader import load_config
from flagpipe.data.chat import chat_stats

if TYPE_CHECKING:
    from pathlib import Path


def _flag_history(tmp_path: Path, callbacks: list[dict[str, Any]] | None = None) -> Path:
    """Two sessions of one app and one of another: dislikes, likes, a changed mind and an undo."""
    messages = conversation(tmp_path)
    config = tmp_path / "flagging.yaml"
    chain = callbacks or [{"type": "csv", "extra_columns": ["comment", "session_id", "app"]}]
    config.write_text(json.dumps({"dir": "flagged", "app": "bot", "callbacks": chain}))
    with flagpipe.Flagger(load_config(config)) as flagger:
        flagger.setup(REACTION_FIELDS)
        react(flagger, messages, 2, "dislike", session_id="s1", comment="not a cat")
        react(flagger, messages, 4, "like", session_id="s1")
        react(flagger, messages, 4, "dislike", session_id="s1")  # changed their mind
        react(flagger, messages, 6, "like", session_id="s1")
        react(flagger, messages, 6, None, undo=True, session_id="s1")
        react(flagger, messages, 2, "dislike", session_id="s2")
        react(flagger, messages, 8, "off topic", session_id="s2")
        assert flagger.flush(30)
    with flagpipe.Flagger({"dir": str(tmp_path / "flagged"), "app": "other", "callbacks": chain}) as flagger:
        flagger.setup(REACTION_FIELDS)
        react(flagger, messages, 2, "like", session_id="s3")
        assert flagger.flush(30)
    return config


@pytest.mark.parametrize("source", ["journal", "csv", "yaml"])
def test_each_message_ends_in_its_last_state(tmp_path: Path, source: str) -> None:
    config = _flag_history(tmp_path)
    where = {"journal": tmp_path / "flagged", "csv": tmp_path / "flagged" / "log.csv", "yaml": config}[source]
    frame = flagpipe.read_flags(where)
    assert isinstance(frame["conversation"][0], list) and frame["conversation"][0][2]["content"] == "A cat."
    reactions = flagpipe.read_reactions(where)
    states = {(r["session_id"], r["index"]): r["reaction"] for r in reactions.to_dict("records")}
    assert states == {
        ("s1", 2): "dislike",
        ("s1", 4): "dislike",
        ("s1", 6): None,
        ("s2", 2): "dislike",
        ("s2", 8): "off topic",
        ("s3", 2): "like",
    }
    first = reactions.to_dict("records")[0]
    assert first["message"] == "A cat." and first["role"] == "assistant" and first["comment"] == "not a cat"
    assert list(reactions["reactions"]) == [1, 2, 2, 1, 1, 1]


def test_a_frame_without_reactions_has_none(tmp_path: Path) -> None:
    with flagpipe.Flagger({"dir": str(tmp_path)}) as flagger:
        flagger.flag({"text": "hi"})
    assert flagpipe.read_reactions(tmp_path).empty


def test_stats_count_reactions_per_day_app_and_disliked_reply(tmp_path: Path) -> None:
    config = _flag_history(tmp_path)
    with flagpipe.Flagger(load_config(config)) as flagger:
        counts = chat_stats(flagger.latest(100))
    assert counts["total"] == 8 and counts["undos"] == 1
    assert [(r["reaction"], r["count"]) for r in counts["by_day"]] == [("dislike", 3), ("like", 3), ("off topic", 1)]
    assert counts["by_app"] == [
        {"app": "bot", "like": 0, "dislike": 3, "other": 1, "like_ratio": 0.0},
        {"app": "other", "like": 1, "dislike": 0, "other": 0, "like_ratio": 1.0},
    ]
    assert counts["most_disliked"] == [{"message": "A cat.", "dislikes": 2}, {"message": "answer 0", "dislikes": 1}]
    result = CliRunner().invoke(cli, ["stats", "--config", str(config)], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    assert "8 chat reactions (1 undone)" in result.output
    assert "most disliked replies" in result.output and "A cat." in result.output
    data = json.loads(CliRunner().invoke(cli, ["stats", "-c", str(config), "--json"]).output)
    assert data["chat"]["by_app"] == counts["by_app"]
