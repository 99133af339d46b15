"""Redacting events through a Flagger: actions, usernames, which fields, metadata counts, bounded patterns."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest

from flagpipe import Flagger

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe.core.host import PluginHost

KEY = "a-key-of-32-characters-long-xxxx"
TEXT = "I am jane@example.com, call me at +1 415-555-2671"


def flagger(tmp_path: Path, plugins: PluginHost, **redact: Any) -> Flagger:
    redact.setdefault("detect", ["email", "phone"])
    config = {"dir": str(tmp_path), "delivery": {"mode": "inline"}, "redact": redact}
    return Flagger(config, plugins=plugins)


def test_mask_replaces_each_span_and_counts_them_in_the_metadata(tmp_path: Path, plugins: PluginHost) -> None:
    with flagger(tmp_path, plugins) as f:
        f.flag({"prompt": TEXT, "n": 5}, comment="also jo@example.org", metadata={"note": "x@y.io", "k": 1})
        (event,) = f.latest(1)
    assert event.field("prompt").value == "I am <email>, call me at <phone>"
    assert event.field("n").value == 5
    assert event.comment == "also <email>"
    assert event.metadata == {"note": "<email>", "k": 1, "redacted": {"email": 3, "phone": 1}}


def test_an_event_with_nothing_found_is_stored_unchanged(tmp_path: Path, plugins: PluginHost) -> None:
    with flagger(tmp_path, plugins) as f:
        f.flag({"prompt": "5 add 7 = -12"}, metadata={"k": "v"})
        (event,) = f.latest(1)
    assert event.field("prompt").value == "5 add 7 = -12"
    assert event.metadata == {"k": "v"}


def test_strings_inside_json_values_and_lists_are_scanned(tmp_path: Path, plugins: PluginHost) -> None:
    chat = [{"role": "user", "content": "mail jane@example.com"}, {"role": "assistant", "content": "ok"}]
    with flagger(tmp_path, plugins) as f:
        f.flag({"chat": chat})
        (event,) = f.latest(1)
    assert event.field("chat").value == [
        {"role": "user", "content": "mail <email>"},
        {"role": "assistant", "content": "ok"},
    ]


def test_fields_skip_fields_comment_and_metadata_choose_what_is_scanned(tmp_path: Path, plugins: PluginHost) -> None:
    values = {"a": TEXT, "b": TEXT, "c": TEXT}
    with flagger(tmp_path, plugins, fields=["a", "b"], skip_fields=["b"], comment=False, metadata=False) as f:
        f.flag(values, comment=TEXT, metadata={"m": TEXT})
        (event,) = f.latest(1)
    assert [event.field(n).value == TEXT for n in "abc"] == [False, True, True]
    assert (event.comment, event.metadata["m"]) == (TEXT, TEXT)


def test_files_are_never_scanned_without_a_detector_of_files(tmp_path: Path, plugins: PluginHost) -> None:
    upload = tmp_path / "note.txt"
    upload.write_text(TEXT)
    with flagger(tmp_path / "flags", plugins) as f:
        f.flag({"doc": upload})
        (event,) = f.latest(1)
    file = event.field("doc").file
    assert file is not None
    assert (tmp_path / "flags" / file.path).read_text() == TEXT
    assert "redacted" not in event.metadata


def test_drop_stores_nothing_and_the_receipt_says_why(tmp_path: Path, plugins: PluginHost) -> None:
    with flagger(tmp_path, plugins, action="drop") as f:
        receipt = f.flag({"prompt": TEXT})
        kept = f.flag({"prompt": "nothing personal"})
        assert f.latest(10) == [f.latest(1)[0]]
    assert not receipt.stored
    assert receipt.reason is not None
    assert "email (1), phone (1) in field 'prompt'" in receipt.reason
    assert "jane" not in receipt.reason
    assert kept.stored
    assert b"jane@example.com" not in b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def hashed_in_a_new_process(tmp_path: Path, key: str) -> str:
    """The stored prompt after flagging :data:`TEXT` with ``action: hash`` in a fresh interpreter."""
    code = (
        "import json, sys\n"
        "from flagpipe import Flagger\n"
        "config = json.loads(sys.argv[1])\n"
        "with Flagger(config) as f:\n"
        "    f.flag({'prompt': sys.argv[2]}, username='jane')\n"
        "    (event,) = f.latest(1)\n"
        "print(json.dumps([event.field('prompt').value, event.username]))\n"
    )
    redact = {"detect": ["email", "phone"], "action": "hash", "username": "hash", "key": key}
    config = {"dir": str(tmp_path), "delivery": {"mode": "inline"}, "redact": redact}
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(config), TEXT], capture_output=True, text=True, check=True
    )
    return str(json.loads(out.stdout))


def test_hash_is_stable_across_processes_with_one_key_and_differs_with_another(tmp_path: Path) -> None:
    first = hashed_in_a_new_process(tmp_path / "1", KEY)
    again = hashed_in_a_new_process(tmp_path / "2", KEY)
    other = hashed_in_a_new_process(tmp_path / "3", "another-key-of-enough-length")
    assert first == again
    assert first != other
    assert "jane" not in first
    assert "<email:" in first and "<phone:" in first and "<username:" in first


def test_hash_tokens_group_the_same_value(tmp_path: Path, plugins: PluginHost) -> None:
    with flagger(tmp_path, plugins, action="hash", key=KEY) as f:
        f.flag({"p": "a@example.com b@example.com a@example.com"})
        (event,) = f.latest(1)
    first, second, third = str(event.field("p").value).split()
    assert first == third != second


def test_username_drop(tmp_path: Path, plugins: PluginHost) -> None:
    with flagger(tmp_path, plugins, username="drop") as f:
        f.flag({"p": "hi"}, username="jane")
        (event,) = f.latest(1)
    assert event.username is None


def test_a_backtracking_pattern_is_bounded_and_the_flag_refused(tmp_path: Path, plugins: PluginHost) -> None:
    with flagger(tmp_path, plugins, detect=[], patterns={"evil": r"(a|aa)+$"}, timeout=0.05) as f:
        receipt = f.flag({"prompt": "a" * 40 + "!"})
        ok = f.flag({"prompt": "aaa"})
        events = f.latest(10)
    assert not receipt.stored
    assert receipt.reason is not None
    assert "redaction of field 'prompt' failed: scanning took longer than 0.05 s" in receipt.reason
    assert ok.stored
    assert [e.field("prompt").value for e in events] == ["<evil>"]


def test_custom_patterns_are_tried_before_the_built_in_detectors(tmp_path: Path, plugins: PluginHost) -> None:
    with flagger(tmp_path, plugins, patterns={"staff": r"[a-z]+@corp\.example"}) as f:
        f.flag({"p": "ask ops@corp.example or jane@example.com"})
        (event,) = f.latest(1)
    assert event.field("p").value == "ask <staff> or <email>"
    assert event.metadata["redacted"] == {"email": 1, "staff": 1}


def test_without_redact_nothing_is_compiled(tmp_path: Path, plugins: PluginHost) -> None:
    with Flagger({"dir": str(tmp_path), "delivery": {"mode": "inline"}}, plugins=plugins) as f:
        assert f._loaded.redactor is None
        assert all(entry.redactor is None for entry in f._loaded.chain)
        f.flag({"p": TEXT})
        assert f.latest(1)[0].field("p").value == TEXT


@pytest.mark.parametrize("mode", ["background", "inline"])
def test_global_redaction_applies_in_both_delivery_modes(tmp_path: Path, plugins: PluginHost, mode: str) -> None:
    config = {"dir": str(tmp_path), "delivery": {"mode": mode}, "redact": {"detect": ["email"]}}
    with Flagger(config, plugins=plugins) as f:
        f.flag({"p": TEXT})
    assert b"jane@example.com" not in b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_two_flaggers_sharing_a_lane_must_agree_on_its_redaction(tmp_path: Path, plugins: PluginHost) -> None:
    from flagpipe.core.journal_records import LaneConflictError

    plain = {"dir": str(tmp_path), "callbacks": [{"type": "csv"}]}
    redacted = {"dir": str(tmp_path), "callbacks": [{"type": "csv", "redact": {"detect": ["email"]}}]}
    with Flagger(plain, plugins=plugins):
        with pytest.raises(LaneConflictError, match="csv"):
            Flagger(redacted, plugins=plugins)
        with Flagger(plain, plugins=plugins) as same:
            assert same.callback_names == ("csv",)


def _marked(path: Path, media_type: str | None) -> int:
    """A plugin's detector of files: how many times a text file holds the marker ``SECRET-DOC``."""
    if media_type != "text/plain":
        return 0
    return path.read_bytes().count(b"SECRET-DOC")


def test_a_plugins_detector_of_files_screens_files_and_counts_them(tmp_path: Path, plugins: PluginHost) -> None:
    from flagpipe import Detector
    from flagpipe.testing import DetectorPlugin

    marked = Detector("secret_doc", scan_file=_marked, description="text files marked SECRET-DOC")
    secret, public = tmp_path / "a.txt", tmp_path / "b.txt"
    secret.write_text("SECRET-DOC page 1\nSECRET-DOC page 2\n")
    public.write_text("a public note")
    with plugins.registered(DetectorPlugin(marked)), flagger(tmp_path / "flags", plugins, detect=["secret_doc"]) as f:
        f.flag({"doc": secret, "other": public, "p": "SECRET-DOC in text is not a file"})
        (event,) = f.latest(1)
    assert event.field("doc").file is None and event.field("doc").kind == "file"
    assert event.field("other").file is not None
    assert event.field("p").value == "SECRET-DOC in text is not a file"  # a detector of files only scans files
    assert event.metadata["redacted"] == {"secret_doc": 2}
    stored = b"".join(p.read_bytes() for p in (tmp_path / "flags").rglob("*") if p.is_file())
    assert b"SECRET-DOC page" not in stored


def test_a_detector_of_files_that_fails_refuses_the_flag_and_says_which(tmp_path: Path, plugins: PluginHost) -> None:
    from flagpipe import Detector
    from flagpipe.testing import DetectorPlugin

    def broken(path: Path, media_type: str | None) -> int:
        raise RuntimeError("model not loaded")

    def vague(path: Path, media_type: str | None) -> int:
        return "maybe"  # type: ignore[return-value]

    upload = tmp_path / "note.txt"
    upload.write_text("hello")
    for detector, message in (
        (Detector("broken", scan_file=broken), "detector 'broken': RuntimeError: model not loaded"),
        (Detector("vague", scan_file=vague), "detector 'vague' returned 'maybe', not a count"),
    ):
        directory = tmp_path / detector.name
        with plugins.registered(DetectorPlugin(detector)), flagger(directory, plugins, detect=[detector.name]) as f:
            receipt = f.flag({"doc": upload})
            assert f.latest(1) == []
        assert not receipt.stored
        assert receipt.reason is not None
        assert f"redaction of field 'doc' failed: {message}" in receipt.reason
        assert b"hello" not in b"".join(p.read_bytes() for p in directory.rglob("*") if p.is_file())


def test_processes_flagging_into_one_directory_must_agree_on_the_top_level_redaction(
    tmp_path: Path, plugins: PluginHost
) -> None:
    from flagpipe.core.journal_records import LaneConflictError

    plain = {"dir": str(tmp_path), "callbacks": [{"type": "csv"}]}
    redacted = {**plain, "redact": {"detect": ["email"]}}
    other_detectors = {**plain, "redact": {"detect": ["email", "phone"]}}
    hashed = {**plain, "redact": {"detect": ["email"], "action": "hash", "key": KEY}}
    other_key = {**plain, "redact": {"detect": ["email"], "action": "hash", "key": KEY.upper()}}
    with (  # the key is secret, yet two keys are two settings
        Flagger(hashed, plugins=plugins),
        pytest.raises(LaneConflictError, match="another top-level redact:"),
    ):
        Flagger(other_key, plugins=plugins)
    with Flagger(redacted, plugins=plugins) as first:
        for config in (plain, other_detectors):
            with pytest.raises(LaneConflictError, match="another top-level redact:"):
                Flagger(config, plugins=plugins)
        with Flagger(redacted, plugins=plugins) as same:
            same.flag({"p": TEXT})
        first.flag({"p": TEXT})
    with Flagger(plain, plugins=plugins) as later:  # nobody redacts here any more: a new setting may start
        assert later.callback_names == ("csv",)
    assert b"jane@example.com" not in (tmp_path / "log.csv").read_bytes()
