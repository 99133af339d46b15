"""The one module that reads Gradio's private APIs: each function against the installed Gradio."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest

from flagpipe.integrations.gradio import _compat
from flagpipe.integrations.gradio._compat import Handler, InterfaceComponents

from .conftest import mode_kwargs


def ask_as_setup() -> InterfaceComponents | None:
    """Stands for ``FlaggingCallback.setup``: the function that asks who called it."""
    return _compat.calling_interface()


class NotAnInterface:
    def method(self) -> InterfaceComponents | None:
        return ask_as_setup()


def interface_method(self: Any) -> InterfaceComponents | None:
    """Stands for ``Interface.__init__``: a frame whose ``self`` is the Interface."""
    return ask_as_setup()


def test_calling_interface_finds_the_interface_one_frame_up() -> None:
    number, radio, output = gr.Number(label="a"), gr.Radio(["x"], label="op"), gr.Number(label="out")
    demo = gr.Interface(lambda a, op: a, [number, radio], output, **mode_kwargs("never"))
    found = interface_method(demo)
    assert found is not None
    assert found.inputs == (number, radio) and found.outputs == (output,)
    assert interface_method(object()) is None
    assert NotAnInterface().method() is None
    assert ask_as_setup() is None


def test_root_blocks_is_the_blocks_being_built() -> None:
    assert _compat.root_blocks() is None
    with gr.Blocks() as demo:
        assert _compat.root_blocks() is demo
    assert _compat.root_blocks() is None


def test_running_blocks_and_request_inside_a_handler_only() -> None:
    seen: dict[str, Any] = {}

    def handler(value: float) -> float:
        seen["blocks"] = _compat.running_blocks()
        seen["request"] = _compat.current_request()
        return value

    with gr.Blocks() as demo:
        number, shown = gr.Number(), gr.Number()
        number.change(handler, number, shown)
    assert _compat.running_blocks() is None
    assert _compat.current_request() is None
    assert demo(3, fn_index=0) == 3
    assert seen["blocks"] is demo
    assert seen["request"] is None  # a direct call has no request; a served one does (see test_server)


def test_python_handlers_leave_out_javascript_only_ones() -> None:
    with gr.Blocks() as demo:
        text, extra, shown = gr.Textbox(), gr.Number(), gr.Textbox()
        text.submit(lambda t, n: t, [text, extra], shown)
        gr.Button("Clear").click(None, [], [text, shown], js="() => ['', '']")
    assert _compat.python_handlers(demo) == [Handler((text, extra), (shown,))]


def test_python_handlers_read_a_list_of_handlers_as_older_gradio_kept_them() -> None:
    class OldHandler:
        def __init__(self, fn: Any, inputs: list[str], outputs: list[str] | None) -> None:
            self.fn, self.inputs, self.outputs = fn, inputs, outputs

    old_blocks = SimpleNamespace(
        fns=[OldHandler(print, ["a"], ["b"]), OldHandler(None, ["c"], ["d"]), OldHandler(print, ["e"], None)]
    )
    assert _compat.python_handlers(old_blocks) == [Handler(("a",), ("b",)), Handler(("e",), ())]  # type: ignore[arg-type]
    assert _compat.python_handlers(object()) == []  # type: ignore[arg-type]


def test_upload_folder_follows_gradio_temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "cache"))
    assert _compat.upload_folder().resolve() == (tmp_path / "cache").resolve()


def test_interface_mode_keyword_follows_the_installed_interface(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = "allow_flagging" if gr.__version__.startswith("4.") else "flagging_mode"  # renamed in 5.0
    assert _compat.interface_mode_keyword() == expected

    class Gradio4Interface:
        def __init__(self, fn: Any, inputs: Any, outputs: Any, allow_flagging: str | None = None) -> None:
            pass

    monkeypatch.setattr(_compat.gr, "Interface", Gradio4Interface)
    assert _compat.interface_mode_keyword() == "allow_flagging"


@pytest.mark.parametrize(("given", "expected"), [("", None), (None, None), ("wrong sign", "wrong sign")])
def test_option_or_none(given: str | None, expected: str | None) -> None:
    assert _compat.option_or_none(given) == expected


def test_unwrap_update() -> None:
    assert _compat.unwrap_update(gr.update(value=3, visible=True)) == 3
    assert _compat.unwrap_update(gr.update(visible=False)) is None
    assert _compat.unwrap_update({"path": "a.png"}) == {"path": "a.png"}
    assert _compat.unwrap_update(7) == 7
