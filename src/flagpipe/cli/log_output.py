"""Where the ``flagpipe`` command's own warnings go: stderr, with URL passwords masked and controls visible.

Without a handler, Python prints warnings through its last-resort handler as they are; a plugin's
error can hold a URL with its password, or bytes a terminal would obey. The command adds one
handler to the ``flagpipe`` logger (the library itself configures no logging).
"""

from __future__ import annotations

import logging
import sys

from flagpipe.cli.common import visible
from flagpipe.core.secrets import mask_userinfo

__all__ = ["SafeMessages", "show_warnings"]


class SafeMessages(logging.Filter):
    """Rewrites each record's message: URL passwords masked, control characters shown visibly."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite, never drop."""
        record.msg, record.args = visible(mask_userinfo(record.getMessage()), keep_lines=True), None
        return True


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (as Python's last-resort handler does)."""

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, value: object) -> None:
        pass


def show_warnings() -> logging.Handler:
    """Send flagpipe's warnings to stderr through :class:`SafeMessages` (once per process)."""
    logger = logging.getLogger("flagpipe")
    for handler in logger.handlers:
        if any(isinstance(f, SafeMessages) for f in handler.filters):
            return handler
    handler = _Stderr()
    handler.setLevel(logging.WARNING)
    handler.addFilter(SafeMessages())
    logger.addHandler(handler)
    return handler
