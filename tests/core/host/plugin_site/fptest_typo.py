"""A plugin with a misspelled hook name; ``check_pending`` must reject it."""

from __future__ import annotations

import fptest_imports

import flagpipe

fptest_imports.IMPORTED.append(__name__)


@flagpipe.hookimpl
def flagpipe_register_calbacks() -> list[object]:
    """Meant to be ``flagpipe_register_callbacks``."""
    return []
