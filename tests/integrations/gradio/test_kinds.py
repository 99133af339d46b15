"""Components to fields: the kind from the class, the name from the label."""

from __future__ import annotations

import gradio as gr
import pytest

from flagpipe import FieldSpec
from flagpipe.integrations.gradio import component_field
from flagpipe.integrations.gradio.kinds import field_names


@pytest.mark.parametrize(
    ("component", "kind"),
    [
        (gr.Number(), "number"),
        (gr.Slider(0, 10), "number"),
        (gr.Checkbox(), "bool"),
        (gr.Textbox(), "text"),
        (gr.Radio(["a", "b"]), "text"),
        (gr.Dropdown(["a", "b"]), "text"),
        (gr.Dropdown(["a", "b"], multiselect=True), "json"),
        (gr.CheckboxGroup(["a", "b"]), "json"),
        (gr.Image(), "image"),
        (gr.Audio(), "audio"),
        (gr.Video(), "video"),
        (gr.File(), "file"),
        (gr.JSON(), "json"),
    ],
)
def test_component_kinds(component: gr.components.Component, kind: str) -> None:
    assert component_field(component, 3) == FieldSpec("component 3", kind=kind)


def test_a_subclass_maps_like_its_base_and_an_unknown_component_is_json() -> None:
    assert component_field(gr.Sketchpad(label="drawing"), 0) == FieldSpec("drawing", kind="image")
    assert component_field(gr.Label(), 2) == FieldSpec("component 2", kind="json")


def test_field_names_number_repeated_labels() -> None:
    components = [gr.Number(label="x"), gr.Textbox(), gr.Number(label="x"), gr.Textbox(label="x")]
    assert field_names(components) == ["x", "component 1", "x 2", "x 3"]
