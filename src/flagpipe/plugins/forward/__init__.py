"""The ``flagpipe`` callback: forward flags to a collector (``flagpipe serve``) over its ``/v1`` API.

Batches go to ``/v1/flags/batch``; each flag carries its event id as its idempotency key, so that a
replay after a crash or a timeout never stores a flag twice downstream. 5xx, 408, 429 and
connection errors are retryable (``Retry-After`` honoured); 401, 403, 413 and 422 are permanent.
The key never appears in logs, errors or ``repr``.
"""

from __future__ import annotations

from typing import Any

import flagpipe
from flagpipe.plugins.forward.callback import ForwardCallback, ForwardSettings

__all__ = ["ForwardCallback", "ForwardSettings", "flagpipe_register_callbacks"]


@flagpipe.hookimpl
def flagpipe_register_callbacks() -> list[type[flagpipe.Callback[Any]]]:
    """Register the ``flagpipe`` callback."""
    return [ForwardCallback]
