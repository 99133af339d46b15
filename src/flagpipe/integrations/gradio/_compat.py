"""Every use of Gradio's private APIs and of its version differences, in one module.

The rest of the integration asks these functions and never reaches into ``gradio.context``,
``Blocks.fns``, the call stack or a Gradio release's own spelling itself. Each function answers
neutrally (None, an empty list) when the installed Gradio lacks what it reads, so a change in a
future Gradio is fixed here and only here.
"""

from __future__ import annotations

import inspect
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import gradio as gr

if TYPE_CHECKING:
    from gradio.blocks import Blocks
    from gradio.components import Component

__all__ = [
    "Handler",
    "InterfaceComponents",
    "calling_interface",
    "csv_logger_file_name",
    "current_request",
    "interface_mode_keyword",
    "option_or_none",
    "python_handlers",
    "root_blocks",
    "running_blocks",
    "unwrap_update",
    "upload_folder",
]


class InterfaceComponents(NamedTuple):
    """The input and output components of a ``gr.Interface``, in its order."""

    inputs: tuple[Component, ...]
    outputs: tuple[Component, ...]


class Handler(NamedTuple):
    """One Python event handler of a Blocks app: the components it reads and those it writes."""

    inputs: tuple[Any, ...]
    outputs: tuple[Any, ...]


def calling_interface() -> InterfaceComponents | None:
    """The components of the ``gr.Interface`` whose method called the caller of this function.

    ``FlaggingCallback.setup`` is called by ``Interface.__init__`` (Gradio 4 to 6) with the inputs
    and outputs; a Blocks app calls it from its own code. Gradio passes no hint of which, so this
    looks one frame up from the caller for a ``self`` that is an Interface. None otherwise.
    """
    frame = inspect.currentframe()
    try:
        caller = frame.f_back if frame is not None else None  # the function that asks (setup)
        owner_frame = caller.f_back if caller is not None else None  # who called it
        owner = owner_frame.f_locals.get("self") if owner_frame is not None else None
    finally:
        del frame  # frames hold their locals: break the cycle at once
    if not isinstance(owner, gr.Interface):
        return None
    return InterfaceComponents(
        tuple(getattr(owner, "input_components", None) or ()),
        tuple(getattr(owner, "output_components", None) or ()),
    )


def root_blocks() -> Blocks | None:
    """The Blocks being built when called inside ``with gr.Blocks()``, else None."""
    try:
        from gradio.context import Context
    except ImportError:  # pragma: no cover - every supported Gradio has it
        return None
    root = getattr(Context, "root_block", None)
    return root if isinstance(root, gr.Blocks) else None


def running_blocks() -> Blocks | None:
    """The Blocks whose event handler is running in this context (a served app), else None."""
    try:
        from gradio.context import LocalContext
    except ImportError:  # pragma: no cover - every supported Gradio has it
        return None
    var = getattr(LocalContext, "blocks", None)
    blocks = var.get(None) if var is not None else None
    return blocks if isinstance(blocks, gr.Blocks) else None


def current_request() -> Any:
    """The ``gr.Request`` of the event being handled, when Gradio exposes it (4.x and later), else None."""
    try:
        from gradio.context import LocalContext
    except ImportError:  # pragma: no cover - every supported Gradio has it
        return None
    var = getattr(LocalContext, "request", None)
    return var.get(None) if var is not None else None


def python_handlers(blocks: Blocks) -> list[Handler]:
    """The app's event handlers that run Python code (JavaScript-only ones, such as Clear, left out).

    ``Blocks.fns`` is a dict of index to handler from Gradio 4.x on, a list before.
    """
    fns = getattr(blocks, "fns", None) or {}
    handlers = fns.values() if isinstance(fns, Mapping) else fns
    return [
        Handler(tuple(getattr(h, "inputs", None) or ()), tuple(getattr(h, "outputs", None) or ()))
        for h in handlers
        if getattr(h, "fn", None) is not None
    ]


def upload_folder() -> Path:
    """Gradio's cache of uploaded and produced files (``GRADIO_TEMP_DIR``, by default ``<temp>/gradio``)."""
    try:
        from gradio.utils import get_upload_folder
    except ImportError:  # pragma: no cover - Gradio 4 before get_upload_folder
        return Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")
    return Path(get_upload_folder())


def interface_mode_keyword() -> str:
    """The ``gr.Interface`` keyword for the flagging mode: ``flagging_mode`` (5.x on), ``allow_flagging`` (4.x)."""
    parameters = inspect.signature(gr.Interface.__init__).parameters
    return "flagging_mode" if "flagging_mode" in parameters else "allow_flagging"


def csv_logger_file_name() -> str:
    """The file name of Gradio's ``CSVLogger``: ``dataset1.csv`` from 5.0 on, ``log.csv`` in 4.x."""
    parameters = inspect.signature(gr.CSVLogger.__init__).parameters
    return "dataset1.csv" if "dataset_file_name" in parameters else "log.csv"


def option_or_none(flag_option: str | None) -> str | None:
    """The option a ``flag()`` call names, or None: Gradio 4 passes ``""`` for the plain Flag button."""
    return flag_option or None


def unwrap_update(value: Any) -> Any:
    """The value inside a ``gr.update(value=...)`` payload (a ``{"__type__": "update"}`` dict), else ``value``."""
    if isinstance(value, Mapping) and value.get("__type__") == "update":
        return value.get("value")
    return value
