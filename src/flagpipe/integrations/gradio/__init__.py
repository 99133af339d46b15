"""Gradio integration: a drop-in ``gradio.FlaggingCallback`` backed by a flagpipe Flagger.

Install with ``pip install "flagpipe[gradio]"``. Importing this package imports gradio; importing
``flagpipe`` does not.

With an Interface, let the config choose the mode, the options and the directory::

    import gradio as gr
    from flagpipe.integrations.gradio import interface_kwargs

    demo = gr.Interface(calculator, inputs, outputs, **interface_kwargs("flagging.yaml"))

With Blocks, call ``setup()`` and wire a button to ``flag()``, as in Gradio's guide::

    callback = FlagpipeCallback("flagging.yaml")

    def flag(*args):
        callback.flag(list(args))  # returns nothing: the click has no output

    with gr.Blocks() as demo:
        ...
        callback.setup([img_input, strength, img_output], "flagged")
        btn.click(flag, [img_input, strength, img_output], None, preprocess=False)
        notice(callback)  # the privacy notice, beside the button

With a chatbot, ``demo = chat_flagging(gr.ChatInterface(bot), "flagging.yaml")`` stores each like,
dislike and flag on a reply with the conversation (``chat``: the adapter for chats).

To move an app written for Gradio's own classes, change one import line: ``HuggingFaceDatasetSaver``,
``CSVLogger`` and ``SimpleCSVLogger`` take Gradio's arguments (module ``dropins``), and so does
``ChatCSVLogger`` (module ``chat_logger``).

See ``docs/gradio.md`` for how component values become fields. The modules: ``callback`` (the
adapter), ``kinds`` (components to fields), ``roles`` (inputs and outputs), ``values`` (payloads to
values), ``interface`` and ``privacy`` (Interface keywords, the notice), ``sources`` (config forms),
and ``_compat``, the only module that touches Gradio's private APIs and version differences.
"""

from __future__ import annotations

from .callback import FlagpipeCallback
from .chat import ChatFlagging, chat_flagging
from .chat_logger import ChatCSVLogger
from .dropins import CSVLogger, HuggingFaceDatasetSaver, SimpleCSVLogger
from .interface import interface_kwargs, notice, notice_text
from .kinds import component_field
from .privacy import DEFAULT_AUTO_NOTICE, NOTICE_CLASS
from .sources import ConfigSource

__all__ = [
    "DEFAULT_AUTO_NOTICE",
    "NOTICE_CLASS",
    "CSVLogger",
    "ChatCSVLogger",
    "ChatFlagging",
    "ConfigSource",
    "FlagpipeCallback",
    "HuggingFaceDatasetSaver",
    "SimpleCSVLogger",
    "chat_flagging",
    "component_field",
    "interface_kwargs",
    "notice",
    "notice_text",
]
