"""The Gradio example apps' event wiring, called through Gradio without a server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import gradio as gr

from .conftest import fn_index, load_example, upload_png

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def too_many_outputs(records: pytest.WarningsRecorder) -> list[str]:
    return [str(w.message) for w in records if "too many output values" in str(w.message)]


def test_sepia_flag_button_returns_nothing_to_its_missing_output(
    example_config, tmp_path: Path, recwarn: pytest.WarningsRecorder
) -> None:
    config = example_config("sepia")
    demo, callback = load_example("sepia").build_demo(config)
    image = upload_png(tmp_path)
    flag_event = fn_index(demo, lambda block_fn: len(block_fn.inputs) == 3)
    assert demo.fns[flag_event].outputs == []  # the guide's button has no output
    try:
        # Blocks.__call__ runs the handler through Gradio's process_api, which checks what it returns.
        # Blocks.__call__ takes a file as its path on Gradio 4 and 6 (and wraps it as file data itself);
        # Gradio 5 wants the file data a browser sends, even with preprocess=False.
        payload: object = str(image)
        if gr.__version__.startswith("5."):
            payload = {"path": str(image), "orig_name": image.name, "meta": {"_type": "gradio.FileData"}}
        assert demo(payload, 0.5, payload, fn_index=flag_event) == []
        assert callback.flagger.flush(10)
        event = callback.flagger.latest(1)[0]
    finally:
        callback.close()
    assert too_many_outputs(recwarn) == []
    assert [(f.name, f.role, f.kind) for f in event.fields] == [
        ("component 0", "input", "image"),
        ("component 1", "input", "number"),
        ("component 2", "output", "image"),
    ]
    assert event.field("component 1").value == 0.5


def test_a_flag_handler_returning_the_count_is_what_gradio_warns_about(
    example_config, recwarn: pytest.WarningsRecorder
) -> None:
    """The check above can fail: Gradio's guide's lambda, which returns flag()'s count, is warned about."""

    from flagpipe.integrations.gradio import FlagpipeCallback

    with FlagpipeCallback(example_config("sepia")) as callback, gr.Blocks() as demo:
        number = gr.Number(label="x")
        button = gr.Button("Flag")
        callback.setup([number], "ignored")
        button.click(lambda *args: callback.flag(list(args)), [number], None, preprocess=False)
        demo(1, fn_index=fn_index(demo, lambda block_fn: block_fn.inputs == [number]))
    # Gradio 5 added the warning; Gradio 4 drops the extra value silently.
    assert len(too_many_outputs(recwarn)) == (0 if gr.__version__.startswith("4.") else 1)
