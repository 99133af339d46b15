"""The chat kind: what normalize accepts, how files in messages are stored, and clear errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from tests.chat_samples import PNG

import flagpipe
from flagpipe.core.chat import message_text

if TYPE_CHECKING:
    from pathlib import Path


def _flagger(tmp_path: Path) -> flagpipe.Flagger:
    flagger = flagpipe.Flagger({"dir": str(tmp_path / "flagged")})
    flagger.setup([flagpipe.FieldSpec("conversation", kind="chat")])
    return flagger


def test_forms_of_messages_and_files(tmp_path: Path) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(PNG)
    with _flagger(tmp_path) as flagger:
        flagger.flag({"conversation": [{"role": "user", "content": (str(image), "a cat")}]})
        flagger.flag({"conversation": [[{"path": str(image)}, "a cat"]]})  # Gradio 4 pairs, a file sent
        flagger.flag({"conversation": '[{"role": "user", "content": "as JSON text"}]'})
        flagger.flag({"conversation": [{"role": "user", "content": b"\x89PNG\r\n\x1a\nbytes"}]})
        events = flagger.latest(10)
    first = events[0].field("conversation").value
    file = first[0]["content"][0]["file"]
    assert file["path"].startswith("conversation/") and file["original_name"] == "cat.png"
    assert (tmp_path / "flagged" / file["path"]).read_bytes() == PNG
    assert message_text(first[0]) == "[file: cat.png]"
    second = events[1].field("conversation").value
    assert [m["role"] for m in second] == ["user", "assistant"] and second[0]["content"][0]["file"] == file
    assert events[2].field("conversation").value == [{"role": "user", "content": "as JSON text"}]
    assert events[3].field("conversation").value[0]["content"][0]["file"]["media_type"] == "image/png"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("hello", "expected a list of messages, got str"),
        ("[not json", "not a JSON list of messages"),
        ([{"content": "no role"}], "message 0: a message needs a role"),
        ([{"role": "user", "content": 5}], "message 0: content must be text, a file or a list of parts"),
        ([{"role": "user", "content": "x", "metadata": {"f": object()}}], "message 0: metadata is not JSON"),
        ([{"role": "user", "content": [{"type": "file", "file": {"url": "http://x"}}]}], "has no local path"),
    ],
)
def test_bad_conversations_say_what_and_where(tmp_path: Path, value: object, message: str) -> None:
    with _flagger(tmp_path) as flagger, pytest.raises(ValueError, match=message) as raised:
        flagger.flag({"conversation": value})
    assert "field 'conversation' (chat)" in str(raised.value)
