"""Inputs and outputs: from an Interface's components, from a Blocks app's event handlers."""

from __future__ import annotations

import gradio as gr

from flagpipe.integrations.gradio._compat import Handler, InterfaceComponents
from flagpipe.integrations.gradio.roles import fallback_role, interface_roles, is_button, roles_from_events


def test_interface_roles_for_inputs_then_outputs_or_inputs_alone() -> None:
    a, b, out = gr.Number(), gr.Number(), gr.Number()
    interface = InterfaceComponents((a, b), (out,))
    assert interface_roles([a, b, out], interface) == ["input", "input", "output"]
    assert interface_roles([a, b], interface) == ["input", "input"]  # a unified interface
    assert interface_roles([b, a, out], interface) is None  # not the Interface's own order
    assert interface_roles([a, b, out], None) is None  # a Blocks app


def test_roles_from_events() -> None:
    text, extra, shown, untouched, button = gr.Textbox(), gr.Number(), gr.Textbox(), gr.Textbox(), gr.Button()
    handlers = [
        Handler((text, extra), (shown,)),
        Handler((text, shown), (button,)),  # a Flag button's "Saving...": buttons as outputs do not count
        Handler((shown,), (shown,)),  # a component that feeds only itself is not an input
    ]
    roles = roles_from_events(handlers, [text, extra, shown, untouched])
    assert roles == {id(text): "input", id(extra): "input", id(shown): "output"}


def test_fallback_role_and_buttons() -> None:
    assert fallback_role(gr.Textbox(interactive=False)) == "output"
    assert fallback_role(gr.Textbox()) == "input"
    assert is_button(gr.Button()) and is_button(gr.UploadButton()) and is_button(gr.ClearButton())
    assert not is_button(gr.Textbox())
