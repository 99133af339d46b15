"""A plugin whose callback ``type_name`` (``testsink``) is already taken by fptest-good."""

from __future__ import annotations

from typing import TYPE_CHECKING

import fptest_imports

import flagpipe

if TYPE_CHECKING:
    from collections.abc import Sequence

fptest_imports.IMPORTED.append(__name__)


class DupSettings(flagpipe.CallbackSettings):
    """No settings."""


class DupSinkCallback(flagpipe.Callback[DupSettings]):
    """Another ``testsink``."""

    type_name = "testsink"
    Settings = DupSettings

    def deliver(self, events: Sequence[flagpipe.FlagEvent]) -> None:
        """Accept and drop the events."""


@flagpipe.hookimpl
def flagpipe_register_callbacks() -> list[type[flagpipe.Callback[DupSettings]]]:
    return [DupSinkCallback]
