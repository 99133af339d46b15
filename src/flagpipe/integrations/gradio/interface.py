"""Helpers for apps: ``gr.Interface`` keyword arguments from the config, and the privacy notice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr

from ._compat import interface_mode_keyword
from .callback import FlagpipeCallback
from .privacy import NOTICE_CLASS, notice_for
from .sources import config_of

if TYPE_CHECKING:
    from .sources import ConfigSource

__all__ = ["interface_kwargs", "notice", "notice_text"]


def interface_kwargs(
    config: ConfigSource | FlagpipeCallback | None = None, *, article: str | None = None
) -> dict[str, Any]:
    """The ``gr.Interface`` keyword arguments for flagging, taken from the config.

    Returns ``flagging_mode`` (``allow_flagging`` for Gradio 4), ``flagging_options`` as
    ``("Flag as <label>", value)`` pairs (None without options: Gradio's plain Flag button),
    ``flagging_dir``, ``flagging_callback``, and ``article`` holding the privacy notice (after the
    ``article`` given here) when there is one.
    """
    callback = config if isinstance(config, FlagpipeCallback) else FlagpipeCallback(config)
    kwargs: dict[str, Any] = {
        interface_mode_keyword(): callback.mode,
        "flagging_options": [(f"Flag as {o.label}", o.value) for o in callback.options] or None,
        "flagging_dir": str(callback.directory),
        "flagging_callback": callback,
    }
    parts = [part for part in (article, callback.notice_text) if part]
    if parts:
        kwargs["article"] = "\n\n".join(parts)
    return kwargs


def notice_text(config: ConfigSource | FlagpipeCallback | None = None) -> str | None:
    """The notice to show beside the Flag buttons, or None.

    The config's ``notice`` when it is a string; in ``auto`` mode without one,
    :data:`~flagpipe.integrations.gradio.DEFAULT_AUTO_NOTICE`; nothing when ``notice: false`` or the
    mode is ``never``.
    """
    if isinstance(config, FlagpipeCallback):
        return config.notice_text
    return notice_for(config_of(config))


def notice(config: ConfigSource | FlagpipeCallback | None = None, **markdown_kwargs: Any) -> gr.Markdown | None:
    """Render the privacy notice as a ``gr.Markdown`` where it is called (inside ``gr.Blocks``).

    Returns the component, or None (rendering nothing) when there is no notice to show. Extra keyword
    arguments go to ``gr.Markdown``; the component has the CSS class ``flagpipe-notice``.
    """
    text = notice_text(config)
    if not text:
        return None
    extra = markdown_kwargs.pop("elem_classes", None) or []
    classes = [NOTICE_CLASS, *([extra] if isinstance(extra, str) else extra)]
    return gr.Markdown(text, elem_classes=classes, **markdown_kwargs)
