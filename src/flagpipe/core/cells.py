"""CSV cells that are safe to open in a spreadsheet: one value per cell, formulas neutralized.

Shared by the ``csv`` callback, which writes ``log.csv``, and by ``flagpipe export`` and
:func:`flagpipe.read_flags`, which write and read the same layout.
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["FORMULA_TRIGGERS", "encode_row", "format_cell", "neutralize", "unneutralize"]

#: Characters that make a spreadsheet treat a cell as a formula (plus the quote used to escape them).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "'")


def neutralize(text: str) -> str:
    """Prefix a cell that a spreadsheet could run as a formula with ``'`` (reversibly)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def unneutralize(text: str) -> str:
    """Undo :func:`neutralize`."""
    if text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text


def format_cell(value: Any) -> str:
    """Render one value as a CSV cell: numbers plainly, booleans as true/false, text neutralized, JSON."""
    exact = _BY_TYPE.get(type(value))  # the common types at once; subclasses below
    if exact is not None:
        return exact(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return neutralize(value)
    return neutralize(json.dumps(value, ensure_ascii=False))


def _format_bool(value: bool) -> str:
    return "true" if value else "false"


def _format_none(_value: None) -> str:
    return ""


#: How a value of exactly these types becomes a cell (what :func:`format_cell` does for them).
_BY_TYPE: dict[type, Callable[[Any], str]] = {
    str: neutralize,
    int: repr,
    float: repr,
    bool: _format_bool,
    type(None): _format_none,
}


def encode_row(cells: Sequence[str]) -> bytes:
    """One CSV row as UTF-8 bytes, exactly as ``csv.writer`` writes it (RFC 4180 line end ``\\r\\n``).

    Rows where no cell needs quoting (no comma, quote, CR or LF) are joined directly; any other row
    goes through the ``csv`` module, so the output is byte for byte the same either way.
    """
    line = ",".join(cells)
    if (
        line.count(",") == len(cells) - 1
        and '"' not in line
        and "\n" not in line
        and "\r" not in line
        and (line or len(cells) > 1)  # csv.writer writes a lone empty cell as ""
    ):
        return (line + "\r\n").encode("utf-8")
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)  # RFC 4180 line ends, so cells with a lone CR are quoted
    return buffer.getvalue().encode("utf-8")
