"""From Gradio components to flagpipe fields: a field's name comes from the label, its kind from the class."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flagpipe.core.schema import FieldSpec

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gradio.components import Component

__all__ = ["KINDS", "component_field", "field_names"]

#: Gradio component class name -> flagpipe field kind. A component's classes are looked up from the
#: most derived one, so subclasses (``gr.Sketchpad`` of ``gr.ImageEditor``) map like their base.
KINDS: dict[str, str] = {
    "Number": "number",
    "Slider": "number",
    "Checkbox": "bool",
    "Textbox": "text",
    "TextArea": "text",
    "Radio": "text",
    "Dropdown": "text",  # "json" when multiselect
    "ColorPicker": "text",
    "Code": "text",
    "DateTime": "text",
    "Markdown": "text",
    "HTML": "text",
    "CheckboxGroup": "json",
    "Image": "image",
    "ImageEditor": "image",  # its composite image
    "Audio": "audio",
    "Video": "video",
    "File": "file",  # several files (file_count "multiple" or "directory") are stored as one zip
    "UploadButton": "file",
    "DownloadButton": "file",
    "Model3D": "file",
}


def component_field(component: Component, index: int) -> FieldSpec:
    """The field a component's values become: its label (else ``component <index>``) and its kind.

    The role is ``input``; :class:`~flagpipe.integrations.gradio.FlagpipeCallback` decides the real
    role when it is set up.
    """
    label = getattr(component, "label", None)
    name = str(label) if label else f"component {index}"
    kind = "json"
    for cls in type(component).__mro__:
        if cls.__name__ in KINDS:
            kind = KINDS[cls.__name__]
            break
    if kind == "text" and getattr(component, "multiselect", False):
        kind = "json"
    return FieldSpec(name, kind=kind)


def field_names(components: Sequence[Component]) -> list[str]:
    """Labels as field names; a repeated label gets `` 2``, `` 3``... (Gradio would write it twice)."""
    names: list[str] = []
    for index, component in enumerate(components):
        base = component_field(component, index).name
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base} {n}"
        names.append(name)
    return names
