"""A test Hub on 127.0.0.1 for the hf_dataset callback (the environment is prepared in tests/conftest.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from .hub import Hub, running_hub

if TYPE_CHECKING:
    from collections.abc import Iterator

TOKENS = {"hf_good_token": "alice", "hf_bob_token": "bob"}


@pytest.fixture
def hub() -> Iterator[Hub]:
    """A fresh Hub: alice (hf_good_token) may write to her namespace and to the org acme; bob to his own."""
    with running_hub(TOKENS, {"acme": {"alice"}}) as running:
        yield running
