"""Short event ids, as git abbreviates commit hashes: shown in tables, accepted where a command takes an id."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

#: The fewest characters of an event id shown in a table or accepted as a prefix.
SHORT_ID = 8


def _common(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _shortest(full: str, shared: int) -> str:
    """The prefix of ``full`` one character past ``shared``, :data:`SHORT_ID` long at least, never ending in ``-``."""
    n = max(SHORT_ID, shared + 1)
    while n < len(full) and full[n - 1] == "-":
        n += 1
    return full[:n]


def short_ids(ids: Sequence[str]) -> list[str]:
    """Each id's shortest prefix of :data:`SHORT_ID` characters or more that no other id in ``ids`` starts with.

    Event ids are time-ordered (UUIDv7), so ids made within about a minute share their first 8
    characters; their short forms are then longer, just long enough to tell them apart.
    """
    ordered = sorted(set(ids))
    shared = dict.fromkeys(ordered, 0)
    for a, b in itertools.pairwise(ordered):
        common = _common(a, b)
        shared[a] = max(shared[a], common)
        shared[b] = max(shared[b], common)
    return [_shortest(full, shared[full]) for full in ids]


def resolve_id(text: str, candidates: Iterable[str], *, among: str = "events") -> str:
    """The one id in ``candidates`` that is ``text`` or starts with it.

    :param text: a full id, or a prefix of at least :data:`SHORT_ID` characters.
    :param among: what the candidates are, for the error messages (``"events"``, ``"dead letters"``).
    :raises ValueError: when ``text`` is too short, matches no candidate, or matches several.
    """
    ids = set(candidates)
    if text in ids:
        return text
    if len(text) < SHORT_ID:
        raise ValueError(f"an event id needs at least {SHORT_ID} characters, got {text!r}")
    matches = sorted(i for i in ids if i.startswith(text))
    if not matches:
        raise ValueError(f"no event id starting with {text!r} among the {among}")
    if len(matches) > 1:
        shown = ", ".join(short_ids(matches)[:5]) + (f" and {len(matches) - 5} more" if len(matches) > 5 else "")
        raise ValueError(
            f"event id {text!r} is ambiguous: it starts {len(matches)} ids ({shown}); give more characters"
        )
    return matches[0]
