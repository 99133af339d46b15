"""Chat reactions in the sql callback's database: the conversation kept as JSON, read back equal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.chat_samples import REACTION_FIELDS, conversation, react

import flagpipe
from flagpipe.core.journal import Journal

from .test_sql_callback import read_back

if TYPE_CHECKING:
    from pathlib import Path

    from .conftest import Database


def test_reactions_round_trip_and_read_as_final_states(database: Database, tmp_path: Path) -> None:
    directory = database.directory or tmp_path / "flagged"
    config = {"dir": str(directory), "app": "bot", "callbacks": [{"type": "sql", **database.settings}]}
    messages = conversation(tmp_path)
    with flagpipe.Flagger(config) as flagger:
        flagger.setup(REACTION_FIELDS)
        react(flagger, messages, 2, "like", session_id="s1")
        react(flagger, messages, 2, "dislike", session_id="s1", comment="wrong animal")
        assert flagger.flush(30)
    journal = Journal(directory)
    try:
        journaled = [event for _, event in journal.iter_events()]
    finally:
        journal.close()
    back = read_back(database, tmp_path)
    assert back == journaled
    assert back[0].field("conversation").kind == "chat"
    assert back[0].field("conversation").value[2] == {"role": "assistant", "content": "A cat."}
