"""Conversations in Parquet shards: a typed list-of-struct column, read back equal, loaded typed by datasets."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow.parquet as pq
from tests.chat_samples import PNG, REACTION_FIELDS, conversation, react

import flagpipe
from flagpipe.core.journal import Journal
from flagpipe.plugins.parquet.read import read_events

if TYPE_CHECKING:
    from pathlib import Path


def _flag_some(tmp_path: Path, lake: Path) -> list[flagpipe.FlagEvent]:
    config = {
        "dir": str(tmp_path / "flagged"),
        "app": "bot",
        "callbacks": [{"type": "parquet", "url": str(lake), "partition_by": [], "commit_every": 0.1}],
    }
    messages = conversation(tmp_path)
    with flagpipe.Flagger(config) as flagger:
        flagger.setup(REACTION_FIELDS)
        react(flagger, messages, 2, "dislike", comment="not a cat")
        react(flagger, messages, 4, "like")
        react(flagger, messages, 4, None, undo=True)
        assert flagger.flush(30)
    journal = Journal(tmp_path / "flagged")
    try:
        return [event for _, event in journal.iter_events()]
    finally:
        journal.close()


def test_the_conversation_is_a_typed_list_of_message_structs(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    events = _flag_some(tmp_path, lake)
    [shard] = sorted(lake.rglob("*.parquet"))
    table = pq.read_table(shard)
    column = table.schema.field("conversation").type
    assert str(column.value_type.field("role").type) == "string"
    assert str(column.value_type.field("parts").type.value_type.field("file").type.field("size").type) == "int64"
    first = table.column("conversation").to_pylist()[0]
    assert [m["role"] for m in first] == [
        "user",
        "assistant",
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
    ]
    assert first[0]["content"] == "what is this?\n[file: cat.png]"
    stored = first[0]["parts"][1]["file"]
    assert (lake / stored["path"]).read_bytes() == PNG  # the message's file, stored by content beside the shards
    assert first[1]["metadata"] == '{"duration": 0.5, "status": "done", "title": "Thinking"}'
    assert table.column("index").to_pylist() == ["2", "4", "4"]
    assert table.column("option").to_pylist() == ["dislike", "like", None]
    back = list(read_events(str(lake)))
    assert [e.id for e in back] == [e.id for e in events]
    restored = back[0].field("conversation").value
    original = events[0].field("conversation").value
    assert isinstance(restored, list) and isinstance(original, list)
    assert restored[1:] == original[1:]
    assert restored[0]["content"][0] == original[0]["content"][0]
    assert restored[0]["content"][1]["file"]["sha256"] == original[0]["content"][1]["file"]["sha256"]


def test_datasets_loads_the_conversation_column_typed(tmp_path: Path) -> None:
    import datasets

    lake = tmp_path / "lake"
    _flag_some(tmp_path, lake)
    files = sorted(str(p) for p in lake.rglob("*.parquet"))
    loaded = datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path / "hf"))
    feature = loaded.features["conversation"]
    assert isinstance(feature, datasets.List)
    assert feature.feature["role"] == datasets.Value("string")
    assert loaded[0]["conversation"][2] == {"role": "assistant", "content": "A cat.", "parts": None, "metadata": None}
    assert loaded["option"] == ["dislike", "like", None]
