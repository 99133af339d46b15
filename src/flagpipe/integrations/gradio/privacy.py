"""The privacy notice's rules: which text a config shows beside the Flag buttons, if any."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flagpipe.config.model import FlagpipeConfig

__all__ = ["DEFAULT_AUTO_NOTICE", "NOTICE_CLASS", "notice_for"]

#: Shown beside the app in ``auto`` mode when the config has no ``notice`` (``notice: false`` hides it).
DEFAULT_AUTO_NOTICE = (
    "**Your submissions are saved.** This app keeps every input you submit, with the result it returns, "
    "so that its developers can review and improve it."
)

#: CSS class of the notice's ``gr.Markdown``, to style or find it.
NOTICE_CLASS = "flagpipe-notice"


def notice_for(config: FlagpipeConfig) -> str | None:
    """The config's ``notice`` when it is a string; :data:`DEFAULT_AUTO_NOTICE` in ``auto`` mode without one.

    None when ``notice: false``, in ``never`` mode, or in ``manual`` mode without a notice.
    """
    if config.mode == "never":
        return None
    text: object = config.notice
    if isinstance(text, str):
        return text.strip() or None
    if text is None and config.mode == "auto":
        return DEFAULT_AUTO_NOTICE
    return None  # notice: false, or manual mode without a notice
