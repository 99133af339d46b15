"""Apps served on 127.0.0.1 and driven through gradio_client, as the browser's calls would be."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

import gradio as gr
import pytest
from gradio_client import Client, handle_file
from PIL import Image

from flagpipe.integrations.gradio import FlagpipeCallback, interface_kwargs

from .conftest import api_name, fn_index, load_example, serve, upload_png

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def is_flag_method(label: str):
    return lambda block_fn: type(block_fn.fn).__name__ == "FlagMethod" and block_fn.fn.label == label


def test_calculator_interface_manual_mode_stores_option_value_and_username(example_config) -> None:
    config = example_config("calculator", **{"  - off by one\n": "  - [Off by one, off_by_one]\n"})
    demo = load_example("calculator").build_demo(config)
    callback = demo.flagging_callback
    assert isinstance(callback, FlagpipeCallback)
    try:
        with serve(demo, auth=("alice", "secret")) as url:
            client = Client(url, auth=("alice", "secret"), verbose=False)
            assert client.predict(5, "add", 7, api_name=api_name("calculator")) == -12
            # What the browser sends when "Flag as Off by one" is clicked: inputs and outputs, unprocessed.
            client.predict(5, "add", 7, -12, fn_index=fn_index(demo, is_flag_method("Flag as Off by one")))
            assert callback.flagger.flush(10)
    finally:
        callback.close()
    (row,) = read_rows(config.parent / "flagged" / "log.csv")
    assert {k: row[k] for k in ("num1", "operation", "num2", "output", "flag", "username")} == {
        "num1": "5",
        "operation": "add",
        "num2": "7",
        "output": "-12",
        "flag": "off_by_one",
        "username": "alice",
    }


def multiply(a: float, b: float) -> float:
    return a * b


def identity(a: float) -> float:
    return a


def test_auto_mode_stores_every_prediction(tmp_path: Path) -> None:
    kwargs = interface_kwargs({"mode": "auto", "dir": str(tmp_path / "flagged"), "delivery": {"mode": "inline"}})
    callback = kwargs["flagging_callback"]
    demo = gr.Interface(multiply, [gr.Number(label="a"), gr.Number(label="b")], gr.Number(label="product"), **kwargs)
    # Gradio flags in auto mode from a `.success` event that the page triggers after each prediction.
    auto_flag = fn_index(demo, lambda block_fn: type(block_fn.fn).__name__ == "FlagMethod")
    assert not [b for b in demo.blocks.values() if isinstance(b, gr.Button) and str(b.value).startswith("Flag")]
    try:
        with serve(demo) as url:
            client = Client(url, verbose=False)
            for a, b in [(2, 3), (4, 5), (6, 7)]:
                product = client.predict(a, b, api_name=api_name("multiply"))
                client.predict(a, b, product, fn_index=auto_flag)
        events = callback.flagger.latest(10)
    finally:
        callback.close()
    assert [(e.mode, e.field("product").value) for e in events] == [("auto", 6), ("auto", 20), ("auto", 42)]
    assert [r["product"] for r in read_rows(tmp_path / "flagged" / "log.csv")] == ["6", "20", "42"]


def test_never_mode_shows_no_button_and_stores_nothing(tmp_path: Path) -> None:
    kwargs = interface_kwargs({"mode": "never", "dir": str(tmp_path / "flagged")})
    callback = kwargs["flagging_callback"]
    demo = gr.Interface(identity, gr.Number(label="a"), gr.Number(label="b"), **kwargs)
    buttons = [str(b.value) for b in demo.blocks.values() if isinstance(b, gr.Button)]
    assert not [label for label in buttons if "Flag" in label]
    assert not [fn for fn in demo.fns.values() if type(fn.fn).__name__ == "FlagMethod"]
    assert "article" not in kwargs
    try:
        with serve(demo) as url:
            assert Client(url, verbose=False).predict(1, api_name=api_name("identity")) == 1
    finally:
        callback.close()
    assert not (tmp_path / "flagged").exists()


def test_sepia_blocks_stores_the_images_and_refers_to_them(
    example_config, tmp_path: Path, recwarn: pytest.WarningsRecorder
) -> None:
    config = example_config("sepia")
    demo, callback = load_example("sepia").build_demo(config)
    image = upload_png(tmp_path)
    filter_event = fn_index(demo, lambda block_fn: getattr(block_fn.fn, "__name__", "") == "sepia")
    flag_event = fn_index(demo, lambda block_fn: len(block_fn.inputs) == 3)
    try:
        with serve(demo, auth=("carol", "pw")) as url:
            client = Client(url, auth=("carol", "pw"), verbose=False)
            filtered = client.predict(handle_file(image), 0.5, fn_index=filter_event)
            client.predict(handle_file(image), 0.5, handle_file(filtered), fn_index=flag_event)
            assert callback.flagger.flush(10)
        event = callback.flagger.latest(1)[0]
    finally:
        callback.close()
    # the Flag button's handler returns nothing to its click, which has no output
    assert not [w for w in recwarn if "too many output values" in str(w.message)]
    directory = config.parent / "flagged"
    (row,) = read_rows(directory / "log.csv")
    assert [(f.name, f.role, f.kind) for f in event.fields] == [
        ("component 0", "input", "image"),
        ("component 1", "input", "number"),
        ("component 2", "output", "image"),
    ]
    assert event.username == "carol"  # from the request, though the guide's lambda passes no username
    assert row["component 1"] == "0.5"
    for name in ("component 0", "component 2"):
        stored = directory / row[name]
        assert row[name].startswith(f"{name}/") and stored.is_file()
        with Image.open(stored) as picture:
            assert picture.size == (8, 6)
    assert (directory / row["component 0"]).read_bytes() == image.read_bytes()
