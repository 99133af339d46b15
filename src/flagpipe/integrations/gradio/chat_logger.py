"""``ChatCSVLogger``: Gradio's chat logger, with its constructor and methods, backed by flagpipe's ``csv`` callback.

A drop-in for ``gradio.flagging.ChatCSVLogger`` in Blocks apps (``chatbot.like(logger.flag, chatbot)``):
the same ``setup(flagging_dir)`` and ``flag(like_data, messages)``, but a ``log.csv`` whose header
matches its rows (``conversation, index, message, undo, flag, username, timestamp, comment,
session_id, app, id``), the user and session of the request, files in messages stored, undos recorded,
and every reaction kept in the journal first.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import gradio as gr

from .chat import ChatFlagging
from .dropins import merged_config

if TYPE_CHECKING:
    from .sources import ConfigSource

__all__ = ["ChatCSVLogger"]


class ChatCSVLogger:
    """Logs chat reactions to ``<flagging_dir>/log.csv``, with Gradio's ``ChatCSVLogger`` signature.

    :param config: a flagpipe config whose callbacks follow the CSV (a webhook, a Hub dataset ...), as
        for the other drop-ins; its ``dir`` is replaced by the folder given to :meth:`setup`.
    """

    def __init__(self, *, config: ConfigSource | None = None) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._flagging: ChatFlagging | None = None
        self.flagging_dir: str | None = None

    def setup(self, flagging_dir: str) -> None:
        """Start logging to ``flagging_dir`` (created when missing)."""
        with self._lock:
            if self._flagging is not None:
                self._flagging.close()
            self.flagging_dir = flagging_dir
            own = {"type": "csv", "extra_columns": ["comment", "session_id", "app"]}
            self._flagging = ChatFlagging(merged_config(own, self._config, None, inline=True, directory=flagging_dir))

    def flag(self, like_data: gr.LikeData, messages: list[Any], request: gr.Request | None = None) -> None:
        """Store one reaction (Gradio passes ``like_data`` and the request; ``messages`` is the chatbot's value)."""
        with self._lock:
            flagging = self._flagging
        if flagging is None:
            raise RuntimeError("call setup(flagging_dir) before flag()")
        flagging.on_like(messages, like_data, request)

    @property
    def flagging(self) -> ChatFlagging:
        """The :class:`ChatFlagging` behind this logger (after :meth:`setup`)."""
        if self._flagging is None:
            raise RuntimeError("call setup(flagging_dir) first")
        return self._flagging

    def close(self) -> None:
        """Deliver what is pending and release the log."""
        with self._lock:
            if self._flagging is not None:
                self._flagging.close()
                self._flagging = None
