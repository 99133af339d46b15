"""A harmless plugin the tests block: importing it is logged, so a test can prove it never happened."""

from __future__ import annotations

import fptest_imports

import flagpipe

fptest_imports.IMPORTED.append(__name__)


@flagpipe.hookimpl
def flagpipe_event_delivered(callback_name: str) -> None:
    """Observe deliveries (and do nothing)."""
