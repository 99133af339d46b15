"""How every ``flagpipe`` command prints data: tables that fit the terminal, vertical records, JSON.

The rules, the same for every command and for a terminal or a pipe (the width comes from the
terminal, or ``COLUMNS``, or 80; no colour codes unless the output is a terminal):

- names, numbers, times and ids are never cut;
- event ids are shown short (:func:`flagpipe.cli.ids.short_ids`), the full id is in ``--json``;
- free text (errors, field values, comments) stays on one line, cut with an ellipsis;
- a table whose rows cannot fit even so is printed as one ``key: value`` block per record.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import click

from flagpipe.cli.common import VISIBLE, _console
from flagpipe.cli.ids import short_ids

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from rich.console import Console
    from rich.text import Text

    from flagpipe.core.event import FlagEvent

#: What a column holds: ``name`` and ``number`` are never cut (numbers align right), ``id`` is an
#: event id shown short, ``text`` is free text cut with an ellipsis.
Kind = Literal["name", "number", "id", "text"]

#: The most rows a ``-n`` option asks for (larger numbers are taken as this: every row).
MAX_ROWS = 2**63 - 1
#: The narrowest a free-text column gets; below that the table turns into vertical records.
TEXT_MIN_WIDTH = 16
#: A free-text column grows to this width before the other columns' headers are unwrapped.
TEXT_COMFORT_WIDTH = 30
#: Spaces between two columns.
GAP = 2


@dataclass(frozen=True)
class Column:
    """A table column: its header and what it holds."""

    header: str
    kind: Kind = "name"


#: Line breaks and tabs as spaces, other control characters as visible symbols (``␛``, ``\x9b``), so
#: a value can neither break a row nor send the terminal a command, and what it carried shows.
_ONE_LINE = {**VISIBLE, **dict.fromkeys((9, 10, 11, 12, 13, 0x85, 0x2028, 0x2029), " ")}


def one_line(value: object) -> str:
    """``value`` as text on one line: runs of whitespace become one space, control characters show visibly."""
    return " ".join(str(value).translate(_ONE_LINE).split())


def _cells(columns: Sequence[Column], rows: Sequence[Sequence[str | Text]]) -> list[list[Text]]:
    from rich.text import Text

    table = [
        [
            (cell.copy() if isinstance(cell, Text) else Text(one_line(cell) if column.kind == "text" else _flat(cell)))
            for column, cell in zip(columns, row, strict=True)
        ]
        for row in rows
    ]
    for index, column in enumerate(columns):
        if column.kind == "id":
            shorts = short_ids([row[index].plain for row in table])
            for row, short in zip(table, shorts, strict=True):
                row[index].truncate(len(short))
    return table


def _flat(text: str) -> str:
    """``text`` with each control character as a visible symbol: a name is shown whole, on one line."""
    return text.translate(VISIBLE)


def _longest_word(text: str) -> int:
    return max((len(word) for word in text.split()), default=0)


def _fill(widths: list[int], targets: list[int], indexes: Sequence[int], budget: int) -> int:
    """Widen the columns ``indexes`` toward their targets, evenly, within ``budget``; return what is left."""
    while budget > 0:
        needy = [i for i in indexes if widths[i] < targets[i]]
        if not needy:
            break
        share = max(1, budget // len(needy))
        for i in needy:
            give = min(share, targets[i] - widths[i], budget)
            widths[i] += give
            budget -= give
    return budget


def column_widths(width: int, columns: Sequence[Column], cells: Sequence[Sequence[Text]]) -> list[int] | None:
    """Each column's width in a table ``width`` characters wide, or None when the rows cannot fit.

    Columns other than free text get their widest value (a header may wrap at its spaces); free-text
    columns share the rest, :data:`TEXT_MIN_WIDTH` each at least.
    """
    from rich.cells import cell_len

    natural = [max([cell_len(c.header), *(row[i].cell_len for row in cells)]) for i, c in enumerate(columns)]
    text = [i for i, c in enumerate(columns) if c.kind == "text"]
    other = [i for i, c in enumerate(columns) if c.kind != "text"]
    floor = [
        min(natural[i], max(TEXT_MIN_WIDTH, _longest_word(c.header)))
        if c.kind == "text"
        else max([_longest_word(c.header), *(row[i].cell_len for row in cells)])
        for i, c in enumerate(columns)
    ]
    budget = width - GAP * (len(columns) - 1) - sum(floor)
    if budget < 0:
        return None
    widths = list(floor)
    budget = _fill(widths, [min(natural[i], TEXT_COMFORT_WIDTH) for i in range(len(columns))], text, budget)
    budget = _fill(widths, natural, other, budget)
    _fill(widths, natural, text, budget)
    return widths


def _line(parts: Sequence[Text]) -> Text:
    from rich.text import Text

    line = Text(" " * GAP).join(parts)
    line.rstrip()
    return line


def _rows(console: Console, columns: Sequence[Column], cells: list[list[Text]], widths: list[int]) -> None:
    from rich.text import Text

    headers = [textwrap.wrap(c.header, w, break_long_words=False) or [""] for c, w in zip(columns, widths, strict=True)]
    for n in range(max(len(h) for h in headers)):
        parts = []
        for column, lines, w in zip(columns, headers, widths, strict=True):
            text = lines[n] if n < len(lines) else ""
            parts.append(Text(text.rjust(w) if column.kind == "number" else text.ljust(w), style="bold"))
        console.print(_line(parts))
    rule = "─" if (console.encoding or "").lower().startswith("utf") else "-"
    console.print(Text(rule * (sum(widths) + GAP * (len(widths) - 1)), style="dim"))
    for row in cells:
        parts = []
        for column, cell, w in zip(columns, row, widths, strict=True):
            cell.truncate(w, overflow="ellipsis")
            padding = Text(" " * (w - cell.cell_len))
            parts.append(Text.assemble(padding, cell) if column.kind == "number" else Text.assemble(cell, padding))
        console.print(_line(parts))


def _records(console: Console, columns: Sequence[Column], cells: list[list[Text]]) -> None:
    """One ``key: value`` block per record, a blank line between blocks; free text cut to the width."""
    from rich.text import Text

    key_width = max(len(c.header) for c in columns) + 2
    for n, row in enumerate(cells):
        if n:
            console.print()
        for column, cell in zip(columns, row, strict=True):
            if not cell.plain:
                continue
            if column.kind == "text":
                cell.truncate(max(console.width - key_width, TEXT_MIN_WIDTH), overflow="ellipsis")
            console.print(Text.assemble((f"{column.header}:".ljust(key_width), "bold"), cell))


def print_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[str | Text]],
    *,
    title: str | Text | None = None,
    console: Console | None = None,
) -> None:
    """Print ``rows`` as a table that fits the console, or as vertical records when it cannot.

    A cell is plain text (never read as markup) or a rich ``Text`` for colour.
    """
    from rich.text import Text

    console = console or _console()
    cells = _cells(columns, rows)
    if title is not None:
        console.print(Text(_flat(title), style="bold") if isinstance(title, str) else title)
    widths = column_widths(console.width, columns, cells)
    if widths is None:
        _records(console, columns, cells)
    else:
        _rows(console, columns, cells, widths)


def print_line(head: str | Text, tail: str = "", *, console: Console | None = None) -> None:
    """Print ``head`` whole, then the free text ``tail`` on the same line, cut to the console's width."""
    from rich.text import Text

    console = console or _console()
    line = head.copy() if isinstance(head, Text) else Text(_flat(head))
    if tail:
        rest = Text(one_line(tail))
        rest.truncate(max(console.width - line.cell_len, TEXT_MIN_WIDTH), overflow="ellipsis")
        line.append_text(rest)
    console.print(line)


def print_json(data: Any) -> None:
    """Print ``data`` as one JSON document on stdout: the stable, machine-readable output."""
    click.echo(json.dumps(data, indent=2, default=str))


#: The columns of a table of flags (``show``, the latest flags of ``stats``).
EVENT_COLUMNS = (
    Column("when (UTC)"),
    Column("option"),
    Column("username"),
    Column("fields", "text"),
    Column("id", "id"),
)


def event_cells(event: FlagEvent) -> list[str]:
    """A flag as a row of :data:`EVENT_COLUMNS`: its fields as ``name=value`` (a file field as its path)."""
    fields = ", ".join(
        f"{f.name}={f.file.path if f.file else json.dumps(f.value, ensure_ascii=False)}" for f in event.fields
    )
    return [event.created_at.strftime("%Y-%m-%d %H:%M:%S"), event.option or "", event.username or "", fields, event.id]


#: The ``--json`` option every command that prints data takes.
json_option: Callable[[Callable[..., Any]], Callable[..., Any]] = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document (full ids, nothing cut) instead of text."
)
