"""The callback without a server: components to fields, payloads to values, roles, options, config."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import gradio as gr
import pytest
from PIL import Image

from flagpipe import FieldSpec, Flagger
from flagpipe.integrations.gradio import FlagpipeCallback

from .conftest import mode_kwargs


def png_file(folder: Path, name: str = "photo.png", colour: str = "red") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    Image.new("RGB", (4, 4), colour).save(path)
    return path


def inline(tmp_path: Path, **config: object) -> dict[str, object]:
    return {"dir": str(tmp_path / "flagged"), "delivery": {"mode": "inline"}, **config}


def rows(directory: Path) -> list[dict[str, str]]:
    with (directory / "log.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_importing_flagpipe_does_not_import_gradio() -> None:
    code = "import sys, flagpipe; flagpipe.Flagger; flagpipe.read_flags; assert 'gradio' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_labels_are_field_names_with_gradio_fallback_and_repeats_numbered(tmp_path: Path) -> None:
    with FlagpipeCallback(inline(tmp_path)) as callback:
        callback.setup([gr.Number(label="x"), gr.Textbox(), gr.Number(label="x")], "ignored")
        assert [f.name for f in callback.fields or ()] == ["x", "component 1", "x 2"]


def test_interface_declares_inputs_then_outputs_and_maps_values(tmp_path: Path) -> None:
    callback = FlagpipeCallback(inline(tmp_path, options=["wrong sign", ["Off by one", "off_by_one"]]))
    with callback:
        gr.Interface(
            lambda a, op, b, flag: a + b,
            [gr.Number(label="num1"), gr.Radio(["add"], label="operation"), "number", gr.Checkbox(label="ok")],
            "number",
            **mode_kwargs("manual"),
            flagging_callback=callback,
        )
        assert callback.fields == (
            FieldSpec("num1", kind="number"),
            FieldSpec("operation"),
            FieldSpec("b", kind="number"),
            FieldSpec("ok", kind="bool"),
            FieldSpec("output", kind="number", role="output"),
        )
        assert callback.flag([5, "add", 7, True, -12], flag_option="Off by one", username="bob") == 1
        assert callback.flag([1, "add", None, False, 1], flag_option="wrong sign") == 2
        event = callback.flagger.latest(2)[0]
    assert event.option == "off_by_one"
    assert event.username == "bob"
    assert [(f.name, f.role, f.kind, f.value) for f in event.fields] == [
        ("num1", "input", "number", 5),
        ("operation", "input", "text", "add"),
        ("b", "input", "number", 7),
        ("ok", "input", "bool", True),
        ("output", "output", "number", -12),
    ]
    table = rows(tmp_path / "flagged")
    assert [r["flag"] for r in table] == ["off_by_one", "wrong sign"]
    assert table[1]["b"] == ""


def test_gradio4_empty_option_means_no_option(tmp_path: Path) -> None:
    with FlagpipeCallback(inline(tmp_path, options=["wrong sign"])) as callback:
        callback.setup([gr.Number(label="x")], "ignored")
        callback.flag([1], flag_option="")
        assert callback.flagger.latest(1)[0].option is None


def test_unknown_option_is_refused(tmp_path: Path) -> None:
    with FlagpipeCallback(inline(tmp_path, options=["wrong sign"])) as callback:
        callback.setup([gr.Number(label="x")], "ignored")
        with pytest.raises(ValueError, match="not one of the configured options"):
            callback.flag([1], flag_option="too slow")
        assert callback.flagger.count == 0


def test_flag_before_setup_is_an_error(tmp_path: Path) -> None:
    with FlagpipeCallback(inline(tmp_path)) as callback, pytest.raises(RuntimeError, match="setup"):
        callback.flag([1])


def test_file_payloads_are_copied_into_the_flagging_dir(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    image = png_file(cache / "a1")
    audio = cache / "b2" / "clip.wav"
    audio.parent.mkdir()
    audio.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt ")
    video = cache / "c3" / "movie.mp4"
    video.parent.mkdir()
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42")
    doc = cache / "d4" / "notes.txt"
    doc.parent.mkdir()
    doc.write_text("hello", encoding="utf-8")
    callback = FlagpipeCallback(inline(tmp_path), allowed_paths=[cache])
    components = [
        gr.Image(label="photo"),
        gr.Audio(label="clip"),
        gr.Video(label="movie"),
        gr.File(label="doc"),
        gr.Image(label="edited"),
    ]
    payload = {
        "path": str(image),
        "url": "http://127.0.0.1/x",
        "orig_name": "photo.png",
        "meta": {"_type": "gradio.FileData"},
    }
    with callback:
        callback.setup(components, "ignored")
        callback.flag(
            [
                payload,
                {"path": str(audio), "meta": {"_type": "gradio.FileData"}},
                {"video": {"path": str(video)}, "subtitles": None},  # Gradio's VideoData
                str(doc),  # a plain path string
                image,  # a pathlib.Path from Python code
            ]
        )
        event = callback.flagger.latest(1)[0]
    directory = tmp_path / "flagged"
    for name, kind, file_name in [
        ("photo", "image", "photo.png"),
        ("clip", "audio", "clip.wav"),
        ("movie", "video", "movie.mp4"),
        ("doc", "file", "notes.txt"),
        ("edited", "image", "photo.png"),
    ]:
        field = event.field(name)
        assert field.kind == kind
        assert field.file is not None and field.file.path.startswith(f"{name}/")
        assert field.file.path.endswith(file_name)
        assert (directory / field.file.path).is_file()
    assert rows(directory)[0]["photo"] == event.field("photo").file.path  # type: ignore[union-attr]


def test_paths_outside_gradio_folders_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = png_file(tmp_path / "elsewhere")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "tmp" / "gradio"))
    with FlagpipeCallback(inline(tmp_path)) as callback:
        callback.setup([gr.Image(label="photo")], "ignored")
        for payload in ({"path": str(elsewhere)}, str(elsewhere), {"path": str(tmp_path / "tmp" / ".." / "elsewhere")}):
            with pytest.raises(ValueError, match="outside Gradio's cache"):
                callback.flag([payload])
        with pytest.raises(ValueError, match="remote files"):
            callback.flag([{"path": "https://example.invalid/a.png"}])
        callback.flag([elsewhere])  # a pathlib.Path comes from the app's own code: trusted
        assert callback.flagger.count == 1


def test_paths_in_chat_values_are_checked_in_every_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A chat field's messages come from the browser too: every key a file may sit under is checked."""
    elsewhere = png_file(tmp_path / "elsewhere")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "tmp" / "gradio"))
    config = inline(tmp_path, fields=[{"name": "chat", "kind": "chat"}])
    with FlagpipeCallback(config) as callback:
        callback.setup([gr.Chatbot(label="chat")], "ignored")
        for content in (
            {"path": str(elsewhere)},
            {"name": str(elsewhere)},
            [{"type": "file", "file": {"name": str(elsewhere)}}],
            [{"type": "file", "file": str(elsewhere)}],
        ):
            with pytest.raises(ValueError, match="outside Gradio's cache"):
                callback.flag([[{"role": "user", "content": content}]])
        assert callback.flagger.count == 0


def test_several_files_become_one_zip_and_data_urls_bytes(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = png_file(cache / "1", "a.png")
    second = png_file(cache / "2", "a.png", colour="blue")
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, format="PNG")
    import base64

    data_url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    with FlagpipeCallback(inline(tmp_path), allowed_paths=[cache]) as callback:
        callback.setup([gr.File(label="docs", file_count="multiple"), gr.Image(label="old")], "ignored")
        callback.flag([[{"path": str(first)}, {"path": str(second)}], data_url])
        event = callback.flagger.latest(1)[0]
    docs = event.field("docs").file
    assert docs is not None and docs.path.endswith("docs.zip")
    with zipfile.ZipFile(tmp_path / "flagged" / docs.path) as bundle:
        assert sorted(bundle.namelist()) == ["1-a.png", "a.png"]
    old = event.field("old").file
    assert old is not None and old.path.endswith(".png")


def test_config_fields_give_kinds_and_roles_and_must_match_labels(tmp_path: Path) -> None:
    config = inline(tmp_path, fields=[{"name": "answer", "kind": "json", "role": "output"}])
    with FlagpipeCallback(config) as callback:
        callback.setup([gr.Textbox(label="question"), gr.Textbox(label="answer")], "ignored")
        assert callback.fields == (FieldSpec("question"), FieldSpec("answer", kind="json", role="output"))
    with FlagpipeCallback(config) as callback, pytest.raises(ValueError, match="'answer' are declared"):
        callback.setup([gr.Textbox(label="question")], "ignored")


def test_blocks_roles_come_from_the_events(tmp_path: Path) -> None:
    callback = FlagpipeCallback(inline(tmp_path))
    with callback, gr.Blocks():
        text = gr.Textbox(label="text")
        extra = gr.Number(label="extra")
        shown = gr.Textbox(label="shown")
        explicit = gr.Textbox(label="explicit")
        callback.setup([text, extra, shown, explicit], "ignored", outputs=[explicit])
        text.submit(lambda t, n: t.upper(), [text, extra], shown)
        gr.Button("Clear").click(None, [], [text, shown], js="() => ['', '']")
        callback.flag(["a", 1, "A", "z"])
        assert [f.role for f in callback.fields or ()] == ["input", "input", "output", "output"]


def test_auto_mode_records_and_options_still_flag(tmp_path: Path) -> None:
    with FlagpipeCallback(inline(tmp_path, mode="auto", options=["wrong"])) as callback:
        callback.setup([gr.Number(label="x")], "ignored")
        callback.flag([1])
        callback.flag([2], flag_option="wrong")
        assert [e.mode for e in callback.flagger.latest(2)] == ["auto", "manual"]


def test_never_mode_stores_nothing_and_creates_no_directory(tmp_path: Path) -> None:
    with FlagpipeCallback(inline(tmp_path, mode="never")) as callback:
        callback.setup([gr.Number(label="x")], "ignored")
        assert callback.flag([1]) == 0
    assert not (tmp_path / "flagged").exists()


def test_flagging_dir_is_used_only_when_the_config_sets_no_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with FlagpipeCallback({"delivery": {"mode": "inline"}}) as callback:
        callback.setup([gr.Number(label="x")], "from-gradio")
        callback.flag([1])
    assert rows(tmp_path / "from-gradio")[0]["x"] == "1"
    with FlagpipeCallback({"dir": "from-config", "delivery": {"mode": "inline"}}) as callback:
        callback.setup([gr.Number(label="x")], "from-gradio-2")
        callback.flag([1])
    assert (tmp_path / "from-config" / "log.csv").is_file()
    assert not (tmp_path / "from-gradio-2").exists()


def test_a_given_flagger_is_used_and_left_open(tmp_path: Path) -> None:
    with Flagger(dir=tmp_path / "flagged", fields=[FieldSpec("x", kind="number", role="output")]) as flagger:
        with FlagpipeCallback(flagger) as callback:
            callback.setup([gr.Number(label="x")], "ignored")
            assert callback.fields == (FieldSpec("x", kind="number", role="output"),)
            assert callback.flag([3]) == 1
        assert flagger.flag({"x": 4})  # still open


def test_config_fields_for_some_components_open_one_csv(tmp_path: Path) -> None:
    config = inline(tmp_path, fields=[{"name": "answer", "role": "output"}])
    with FlagpipeCallback(config) as callback:
        callback.setup([gr.Textbox(label="question"), gr.Textbox(label="answer")], "ignored")
        callback.flag(["q", "a"])
        assert callback.config.fields is not None
    assert sorted(p.name for p in (tmp_path / "flagged").glob("*.csv")) == ["log.csv"]
    assert rows(tmp_path / "flagged")[0]["answer"] == "a"
