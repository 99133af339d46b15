"""Reading a CSV log written by the csv callback, for assertions: rows as dicts, cells as they were given."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

from flagpipe.core.cells import unneutralize

if TYPE_CHECKING:
    from pathlib import Path


def read_rows(path: Path) -> list[dict[str, str]]:
    """The rows of ``path`` keyed by column, with the leading ``'`` of neutralized cells removed."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return []
    header = [unneutralize(c) for c in rows[0]]
    return [dict(zip(header, (unneutralize(c) for c in row), strict=False)) for row in rows[1:]]
