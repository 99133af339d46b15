"""The drop-ins for Gradio's own classes: Gradio's constructors, Gradio's tests' return values, flagpipe's sinks."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

import gradio as gr
import pytest

from flagpipe.integrations.gradio import CSVLogger, FlagpipeCallback, HuggingFaceDatasetSaver, SimpleCSVLogger
from flagpipe.integrations.gradio._compat import csv_logger_file_name

from .conftest import fn_index, hub_rows, mode_kwargs

if TYPE_CHECKING:
    from pathlib import Path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def echo_interface(tmp_path: Path, callback: gr.FlaggingCallback) -> gr.Interface:
    """Gradio's tests' Interface: text in, text out, flags in ``tmp_path``."""
    return gr.Interface(
        lambda x: x, "text", "text", flagging_dir=str(tmp_path), flagging_callback=callback, **mode_kwargs("manual")
    )


# -- Gradio's own tests (test/test_flagging.py), with the drop-ins ------------------------------------------


def test_csv_logger_returns_the_row_count_as_in_gradios_test(tmp_path: Path) -> None:
    io = echo_interface(tmp_path, CSVLogger())
    try:
        assert io.flagging_callback.flag(["test", "test"]) == 1
        assert io.flagging_callback.flag(["test", "test"]) == 2
    finally:
        io.flagging_callback.close()
    # the installed Gradio's file name: log.csv (4.x) or dataset1.csv (5.x on), as its own CSVLogger writes
    with (tmp_path / csv_logger_file_name()).open(encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    assert header[:2] == ["x", "output"]  # the Interface's labels: the function's argument, and "output"
    assert [row[:2] for row in rows] == [["test", "test"], ["test", "test"]]


def test_simple_csv_logger_returns_gradios_count_minus_one(tmp_path: Path) -> None:
    io = echo_interface(tmp_path, SimpleCSVLogger())
    try:
        assert io.flagging_callback.flag(["test", "test"]) == 0  # "no header in SimpleCSVLogger"
        assert io.flagging_callback.flag(["test", "test"]) == 1
    finally:
        io.flagging_callback.close()
    assert len(read_csv(tmp_path / "log.csv")) == 2


def test_the_file_name_follows_the_installed_gradio() -> None:
    gradio_major = int(gr.__version__.split(".")[0])
    assert csv_logger_file_name() == ("log.csv" if gradio_major < 5 else "dataset1.csv")


def test_csv_logger_takes_gradio_5s_keywords_and_writes_before_returning(tmp_path: Path) -> None:
    logger = CSVLogger(simplify_file_data=False, verbose=False, dataset_file_name="mine.csv")
    with logger:
        logger.setup([gr.Number(label="num1"), gr.Textbox(label="output")], str(tmp_path))
        assert logger.flag([5, "-12"], "wrong sign", "alice") == 1
        # inline delivery: the row is in the file when flag() returns, as with Gradio's logger
        (row,) = read_csv(tmp_path / "mine.csv")
    assert (row["num1"], row["output"], row["flag"], row["username"]) == ("5", "'-12", "wrong sign", "alice")


def test_blocks_use_as_in_the_guide(tmp_path: Path) -> None:
    callback = CSVLogger()
    with gr.Blocks() as demo:
        text = gr.Textbox(label="text")
        shown = gr.Textbox(label="shown")
        button = gr.Button("Flag")
        text.submit(lambda t: t.upper(), text, shown)
        callback.setup([text, shown], str(tmp_path / "flagged_data_points"))
        button.click(lambda *args: callback.flag(list(args)), [text, shown], None, preprocess=False)
    try:
        flag_event = fn_index(demo, lambda block_fn: len(block_fn.inputs) == 2)
        demo("hi", "HI", fn_index=flag_event)
        event = callback.flagger.latest(1)[0]
    finally:
        callback.close()
    (row,) = read_csv(tmp_path / "flagged_data_points" / csv_logger_file_name())
    assert (row["text"], row["shown"]) == ("hi", "HI")
    assert [(f.name, f.role) for f in event.fields] == [("text", "input"), ("shown", "output")]


def test_a_config_adds_sinks_behind_the_same_object(tmp_path: Path) -> None:
    config = tmp_path / "flagging.yaml"
    config.write_text(
        "options: [wrong sign]\ncallbacks:\n  - type: csv\n    name: wrong-sign\n    file_name: wrong-sign.csv\n",
        encoding="utf-8",
    )
    io = echo_interface(tmp_path / "flagged", CSVLogger(config=config))
    try:
        assert io.flagging_callback.flagger.callback_names == ("csv", "wrong-sign")
        io.flagging_callback.flag(["a", "a"], "wrong sign")
    finally:
        io.flagging_callback.close()
    assert len(read_csv(tmp_path / "flagged" / csv_logger_file_name())) == 1
    assert [r["flag"] for r in read_csv(tmp_path / "flagged" / "wrong-sign.csv")] == ["wrong sign"]


def test_the_spaces_default_does_not_switch_a_drop_in_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On Spaces a config without ``mode`` means never; a drop-in stores whatever Gradio hands it, as Gradio's do."""
    monkeypatch.setenv("SPACE_ID", "alice/calculator")
    assert FlagpipeCallback({"dir": str(tmp_path)}).mode == "never"
    assert CSVLogger(config={"options": ["x"]}).mode == "manual"
    assert CSVLogger(config={"mode": "never"}).mode == "never"
    monkeypatch.setenv("FLAGPIPE_MODE", "never")
    assert CSVLogger().mode == "never"


def test_a_callback_is_not_a_config() -> None:
    with pytest.raises(TypeError, match="config= takes a flagpipe config"):
        CSVLogger(config=FlagpipeCallback())


# -- HuggingFaceDatasetSaver against the test Hub -------------------------------------------------------------


def test_hf_saver_a_bare_name_goes_to_the_token_owners_namespace(
    tmp_path: Path, hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    saver = HuggingFaceDatasetSaver("hf_good_token", "crowdsourced-calculator-demo")
    assert saver.dataset_id == "alice/crowdsourced-calculator-demo"

    def add(num1: float, num2: float) -> float:
        return num1 + num2

    io = gr.Interface(
        add,
        ["number", "number"],
        "number",
        flagging_dir=str(tmp_path),
        flagging_options=["wrong sign"],
        flagging_callback=saver,
        **mode_kwargs("manual"),
    )
    try:
        assert saver.flag([5, 7, -12], "wrong sign", "bob") == 1
        assert saver.flag([1, 1, 2]) == 2
    finally:
        io.flagging_callback.close()  # commits what is pending
    repo = hub.repo("alice/crowdsourced-calculator-demo")
    assert repo.private is False  # Gradio's default
    rows = sorted(hub_rows(hub, "alice/crowdsourced-calculator-demo"), key=lambda r: r["timestamp"])
    assert [(r["num1"], r["num2"], r["output"]) for r in rows] == [(5, 7, -12), (1, 1, 2)]
    assert [(r["option"], r["username"]) for r in rows] == [("wrong sign", "bob"), (None, None)]
    assert len(hub.data_commits("alice/crowdsourced-calculator-demo")) == 1  # one commit for both flags


def test_hf_saver_keeps_a_namespace_and_private_and_takes_gradios_other_arguments(
    tmp_path: Path, hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    saver = HuggingFaceDatasetSaver(
        "hf_good_token", "acme/flags", private=True, info_filename="infos.json", separate_dirs=True
    )
    assert saver.dataset_id == "acme/flags"
    with saver:
        saver.setup([gr.Textbox(label="text")], str(tmp_path))
        saver.flag(["hello"])
    assert hub.repo("acme/flags").private is True
    assert [r["text"] for r in hub_rows(hub, "acme/flags")] == ["hello"]
    assert "infos.json" not in hub.files("acme/flags")


def test_hf_saver_with_a_bad_token_says_what_to_fix(hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    with pytest.raises(ValueError, match=r"cannot tell whose namespace 'demo' goes to: the Hub's whoami failed"):
        HuggingFaceDatasetSaver("hf_wrong_token", "demo")
    with pytest.raises(ValueError, match="dataset_name must be 'name' or 'namespace/name'"):
        HuggingFaceDatasetSaver("hf_good_token", "a/b/c")


def test_hf_saver_with_a_config_also_keeps_a_local_csv(tmp_path: Path, hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    saver = HuggingFaceDatasetSaver("hf_good_token", "flags", config={"callbacks": ["csv"]})
    with saver:
        saver.setup([gr.Textbox(label="text")], str(tmp_path))
        saver.flag(["hello"])
        assert saver.flagger.callback_names == ("hf_dataset", "csv")
    assert [r["text"] for r in read_csv(tmp_path / "log.csv")] == ["hello"]
    assert [r["text"] for r in hub_rows(hub, "alice/flags")] == ["hello"]
