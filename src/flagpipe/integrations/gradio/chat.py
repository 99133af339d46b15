"""Chat flagging: reactions to a chatbot's messages (thumbs, flag options, undos) stored by a flagpipe Flagger.

With ``gr.ChatInterface``, one call after building it::

    demo = chat_flagging(gr.ChatInterface(bot), "flagging.yaml")

With a ``gr.Chatbot`` in Blocks, the one line goes inside the ``with gr.Blocks()`` block::

    chat_flagging(chatbot, "flagging.yaml")

The config's options become the chatbot's ``feedback_options``: an option whose label or value is
``like`` / ``dislike`` (in any case) is a thumb, the others are in the flag menu; without options the
thumbs store ``like`` and ``dislike``. Each reaction is a flag with the fields of
:data:`flagpipe.core.reactions.REACTION_FIELDS`, the user and the session from the request.
"""

from __future__ import annotations

import inspect
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import gradio as gr

from flagpipe.core.chat import message_text
from flagpipe.core.reactions import REACTION_FIELDS, message_at
from flagpipe.core.schema import FieldSpec
from flagpipe.flagger import Flagger

from .privacy import NOTICE_CLASS, notice_for
from .sources import load_source
from .values import ValueConverter

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from flagpipe.config.model import FlagpipeConfig
    from flagpipe.core.receipt import FlagReceipt
    from flagpipe.core.values import PathCheck

    from .sources import ConfigSource

__all__ = ["ChatFlagging", "chat_flagging", "rated_text"]

log = logging.getLogger("flagpipe.gradio")

_THUMBS = {"like": ("Like", True), "dislike": ("Dislike", False)}
_FILE_FIELD = FieldSpec("conversation", kind="file")
#: How many (session, message) reactions are remembered to skip repeats.
_REMEMBERED = 10_000


class ChatFlagging:
    """Stores reactions to chat messages through a flagpipe :class:`~flagpipe.Flagger`.

    :param config: a ``flagging.yaml`` path, a dict of its keys, a config, or a ready ``Flagger``
        (which is then not closed here); None means the defaults (a CSV log in ``flagged``).
    :param allowed_paths: folders besides Gradio's cache and the temp folder that files in messages
        may come from.
    :param env: the environment for ``${VAR}`` and ``FLAGPIPE_*`` (default ``os.environ``).
    """

    def __init__(
        self,
        config: ConfigSource | None = None,
        *,
        allowed_paths: Sequence[str | os.PathLike[str]] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._owns = not isinstance(config, Flagger)
        self.flagger = config if isinstance(config, Flagger) else Flagger(load_source(config, env))
        self.flagger.setup(REACTION_FIELDS)
        self._paths = ValueConverter(allowed_paths)
        #: The last reaction per (session, message), to skip a repeat that changes nothing (Gradio 6
        #: sends a flag-menu choice twice); bounded, oldest forgotten first.
        self._last: OrderedDict[tuple[str, str], str | None] = OrderedDict()
        self._last_lock = threading.Lock()

    @property
    def config(self) -> FlagpipeConfig:
        """The validated config."""
        return self.flagger.config

    @property
    def notice_text(self) -> str | None:
        """The privacy notice to show beside the chat, or None."""
        return notice_for(self.config)

    @property
    def feedback_options(self) -> list[str]:
        """The chatbot's ``feedback_options``: ``Like`` / ``Dislike`` for the thumbs, then the other labels."""
        options = self.config.options
        if not options:
            return ["Like", "Dislike"]
        thumbs = [_THUMBS[k][0] for k in _THUMBS if self._thumb_value(k) is not None]
        return thumbs + [o.label for o in options if _thumb(o.label, o.value) is None]

    def _thumb_value(self, kind: str) -> str | None:
        """The stored value of the ``like`` or ``dislike`` option (the plain word without options)."""
        if not self.config.options:
            return kind
        return next((o.value for o in self.config.options if _thumb(o.label, o.value) == kind), None)

    def reaction_value(self, liked: bool | str | None) -> str | None:
        """The option to store for Gradio's ``LikeData.liked``: None means an undo (``None`` or ``""``)."""
        if liked is True or liked == "Like":
            return self._thumb_value("like") or "like"
        if liked is False or liked == "Dislike":
            return self._thumb_value("dislike") or "dislike"
        return liked or None

    def react(
        self,
        messages: Any,
        index: Any,
        reaction: str | None,
        *,
        comment: str | None = None,
        username: str | None = None,
        session_id: str | None = None,
        paths: PathCheck | None = None,
    ) -> FlagReceipt:
        """Store one reaction to ``messages[index]``; ``reaction`` None records an undo.

        :param messages: the conversation (Gradio 5/6 messages, ``ChatMessage`` objects, Gradio 4 pairs).
        :param index: the rated message, as Gradio gives it (a number, or ``[i, j]`` with pairs).
        :param reaction: ``like``, ``dislike`` or one of the configured options (label or value).
        :param paths: checks each file path in the messages before it is read; the handlers here pass
            one that accepts only Gradio's folders, since their messages come from the browser. None
            (for the app's own messages) reads any path.
        """
        index = list(index) if isinstance(index, tuple) else index
        reaction = self.reaction_value(reaction)  # Gradio's "Like" / "Dislike" as the thumbs' values
        text = rated_text(messages, index)
        values = {"conversation": messages, "index": index, "message": text, "undo": reaction is None}
        details = {"option": reaction, "comment": comment, "username": username, "session_id": session_id}
        return self.flagger._submit(values, "manual", details, paths=paths)  # type: ignore[arg-type]

    def on_like(self, history: Any, data: gr.LikeData, request: gr.Request | None = None) -> None:
        """The ``Chatbot.like`` handler: store the reaction with the user and session of the request.

        A reaction equal to the last one on the same message in the same session is not stored again.
        """
        reaction = self.reaction_value(data.liked)
        session = getattr(request, "session_hash", None)
        if session and self._repeated(session, data.index, reaction):
            return
        self.react(  # the conversation comes from the browser: its file paths are checked
            history or [],
            _index(data.index),
            reaction,
            username=getattr(request, "username", None) or None,
            session_id=getattr(request, "session_hash", None),
            paths=self._paths.check_path,
        )

    def _repeated(self, session: str, index: Any, reaction: str | None) -> bool:
        key = (session, json.dumps(_index(index)))
        with self._last_lock:
            if key in self._last and self._last[key] == reaction:
                return True
            self._last[key] = reaction
            self._last.move_to_end(key)
            while len(self._last) > _REMEMBERED:
                self._last.popitem(last=False)
        return False

    def api_react(
        self,
        messages: list[dict[str, Any]],
        index: int | list[int],
        reaction: str | None = None,
        comment: str | None = None,
        request: gr.Request | None = None,
    ) -> str:
        """The ``/flag_reaction`` API endpoint: store a reaction (None: an undo); returns the flag's id."""
        receipt = self.react(
            messages,
            index,
            reaction or None,
            comment=comment or None,
            username=getattr(request, "username", None) or None,
            session_id=getattr(request, "session_hash", None),
            paths=self._paths.check_path,
        )
        return receipt.id or ""

    def attach(self, chatbot: gr.Chatbot, *, api_name: str | None = "flag_reaction") -> None:
        """Show the config's options on ``chatbot`` and store its reactions (call inside its Blocks).

        :param api_name: the name of an API endpoint that stores a reaction with a comment
            (:meth:`api_react`, for ``gradio_client``; Gradio 5 and later); None for none.
        """
        if self.config.mode == "never":
            return
        chatbot.feedback_options = self.feedback_options  # Gradio 4 has none: the attribute is then unused
        chatbot.like(self.on_like, chatbot, None, queue=False, show_progress="hidden", **hidden_api())
        if api_name and hasattr(gr, "api"):
            gr.api(self.api_react, api_name=api_name)

    def close(self) -> None:
        """Close the Flagger built here (delivering what is pending); a given one stays open."""
        if self._owns:
            self.flagger.close()


def hidden_api() -> dict[str, Any]:
    """The event keyword that keeps a handler out of the API page (``api_visibility`` from Gradio 6)."""
    parameters = inspect.signature(gr.Chatbot.like).parameters
    return {"api_visibility": "undocumented"} if "api_visibility" in parameters else {"show_api": False}


def _thumb(label: str, value: str) -> str | None:
    for word in (label.casefold(), value.casefold()):
        if word in _THUMBS:
            return word
    return None


def _index(index: Any) -> Any:
    return list(index) if isinstance(index, tuple) else index


def chat_flagging(
    target: gr.ChatInterface | gr.Chatbot,
    config: ConfigSource | ChatFlagging | None = None,
    **kwargs: Any,
) -> Any:
    """Store the reactions of ``target``'s messages; returns ``target`` (a ``ChatInterface``) or the handler.

    With a ``gr.ChatInterface`` (built with its default ``flagging_mode="never"``), the thumbs and flag
    menu come from the config and the privacy notice is added below the chat; the interface is returned,
    so ``demo = chat_flagging(gr.ChatInterface(bot), "flagging.yaml")`` is the whole wiring. With a
    ``gr.Chatbot`` (inside ``with gr.Blocks()``), the :class:`ChatFlagging` is returned.
    Keyword arguments go to :class:`ChatFlagging`.
    """
    flagging = config if isinstance(config, ChatFlagging) else ChatFlagging(config, **kwargs)
    if isinstance(target, gr.ChatInterface):
        if getattr(target, "flagging_mode", "never") != "never":
            raise ValueError(
                "this ChatInterface already flags with Gradio's ChatCSVLogger: build it without "
                "flagging_mode (or with flagging_mode='never') and let flagging.yaml choose"
            )
        with target:
            flagging.attach(target.chatbot)
            if flagging.notice_text and flagging.config.mode != "never":
                gr.Markdown(flagging.notice_text, elem_classes=[NOTICE_CLASS])
        target.flagpipe = flagging  # type: ignore[attr-defined]  # reachable for closing and tests
        return target
    flagging.attach(target)
    return flagging


def rated_text(messages: Any, index: Any) -> str | None:
    """The text of the rated message of a conversation as an app holds it (None when not found)."""
    if isinstance(index, (list, tuple)) and len(index) == 2 and isinstance(messages, list):
        try:
            content = messages[index[0]][index[1]]
        except (IndexError, TypeError, KeyError):
            return None
        return content if isinstance(content, str) else None
    if not isinstance(messages, list):
        return None
    rated = message_at(messages, index)
    if rated is None and 0 <= (index if isinstance(index, int) else -1) < len(messages):
        rated = _as_dict(messages[index])
    return message_text(rated) if rated is not None else None


def _as_dict(message: Any) -> dict[str, Any] | None:
    if hasattr(message, "model_dump"):
        message = message.model_dump()
    elif hasattr(message, "role") and hasattr(message, "content"):
        message = {"role": message.role, "content": message.content}
    return dict(message) if isinstance(message, Mapping) else None
