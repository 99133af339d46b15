"""Gradio's flagging CSVs: ``log.csv`` of Gradio 3/4 (and ``ClassicCSVLogger``), ``dataset<N>.csv`` of 5/6.

Gradio escapes cells against CSV injection (:func:`unescape_gradio` undoes it), writes naive local
timestamps, and (in 5/6) lets the ``flag`` and ``username`` cells drift under a header that lacks
them; :func:`parse_gradio_csv` reads all of that back into :class:`~flagpipe.data.records.FlagRecord`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from flagpipe.data.csv_cells import read_csv_rows, row_key, typed_fields
from flagpipe.data.gradio_chat_csv import is_chat_header, parse_chat_csv
from flagpipe.data.records import FlagRecord, SourceError, parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence
    from pathlib import Path

__all__ = ["gradio_csv_files", "parse_gradio_csv", "unescape_gradio"]

#: What Gradio's CSV-injection escaping looks for (``gradio.utils.sanitize_value_for_csv``).
_GRADIO_UNSAFE_PREFIXES = ("=", "+", "-", "@", "\t", "\n")
_GRADIO_UNSAFE_SEQUENCES = (",=", ",+", ",-", ",@", ",\t", ",\n")


def unescape_gradio(text: str) -> str:
    """Undo Gradio's CSV-injection escaping (``'-5`` is ``-5``; ``'a,=b`` is ``a,=b``).

    Gradio prefixes ``'`` to a cell that starts with ``= + - @ \\t \\n`` or contains one of them after
    a comma. A cell that really started with ``'`` followed by such text cannot be told apart; it
    loses its quote.
    """
    if text.startswith("'"):
        rest = text[1:]
        if rest.startswith(_GRADIO_UNSAFE_PREFIXES) or any(s in rest for s in _GRADIO_UNSAFE_SEQUENCES):
            return rest
    return text


def parse_gradio_csv(path: Path, *, known_options: Collection[str] = ()) -> list[FlagRecord]:
    """Read a CSV written by Gradio's ``CSVLogger`` (5/6) or ``ClassicCSVLogger`` / 3.x-4.x ``CSVLogger``.

    - Cells are un-escaped (:func:`unescape_gradio`); numbers, ``true``/``false`` and JSON are parsed
      when every non-empty cell of a column is one; cells naming existing files (paths, or Gradio 4's
      FileData JSON) make a file column, with absolute paths.
    - ``flag`` and ``username`` cells become ``option`` and ``username`` (empty, or ``None`` as Gradio
      5's ``ClassicCSVLogger`` writes it, means none); ``timestamp`` is naive local time -> UTC.
    - A ``ChatCSVLogger`` file (``gr.ChatInterface``'s reactions) is read by
      :func:`~flagpipe.data.gradio_chat_csv.parse_chat_csv`, which undoes its misaligned header.
    - Gradio 5's column drift (``flag``/``username`` cells added to rows under a header that lacks them)
      is undone: two extra cells are the option then the user; a single extra cell is an option when
      its value is in ``known_options`` or is used as an option in rows that say so, a user when it is
      used as a user elsewhere, and otherwise whatever the header has (an option when the header has
      a ``flag`` column, else a user).
    """
    rows = read_csv_rows(path)
    if not rows:
        return []
    header = [unescape_gradio(c) for c in rows[0]]
    if is_chat_header(header):
        return parse_chat_csv(path, unescape_gradio)
    if "timestamp" not in header:
        raise SourceError(f"{path} has no 'timestamp' column: not a flagging CSV")
    ts_index = len(header) - 1 - header[::-1].index("timestamp")
    meta: list[str] = []
    width = ts_index
    while width > 0 and header[width - 1] in ("flag", "username") and header[width - 1] not in meta:
        meta.insert(0, header[width - 1])
        width -= 1
    names = header[:width]
    data = rows[1:]
    field_cells: list[list[str]] = []
    middles: list[list[str]] = []
    stamps: list[str] = []
    for row in data:
        cells = [unescape_gradio(c) for c in row]
        cells += [""] * max(0, width + 1 - len(cells))
        field_cells.append(cells[:width])
        rest = cells[width:]
        stamps.append(rest[-1] if rest else "")
        middles.append(rest[:-1])
    # values seen unambiguously as options or users, to place a single drifted cell
    seen_options = set(known_options)
    seen_users: set[str] = set()
    for middle in middles:
        if len(middle) >= 2:  # only two cells say for sure which is which
            if middle[0] not in ("", "None"):
                seen_options.add(middle[0])
            if middle[1]:
                seen_users.add(middle[1])
    base = path.parent.resolve()
    _, typed = typed_fields(names, field_cells, base)
    records = []
    for index, (row, cells, middle, stamp, fields) in enumerate(
        zip(data, field_cells, middles, stamps, typed, strict=True)
    ):
        option, username = _assign_meta(middle, meta, seen_options, seen_users)
        records.append(
            FlagRecord(
                fields=fields,
                option=option,
                username=username,
                timestamp=parse_timestamp(stamp),
                raw=dict(zip(names, cells, strict=True)),
                source_key=row_key(path.name, index, row),
            )
        )
    return records


def _assign_meta(
    middle: Sequence[str], meta: Sequence[str], options: set[str], users: set[str]
) -> tuple[str | None, str | None]:
    if not middle:
        return None, None
    if len(middle) >= 2:
        option, username = middle[0], middle[1]
    elif len(meta) == 1:
        option, username = (middle[0], "") if meta[0] == "flag" else ("", middle[0])
        value = middle[0]
        if value in options and value not in users:
            option, username = value, ""
        elif value in users and value not in options:
            option, username = "", value
    else:
        value = middle[0]
        as_option = value in options and value not in users
        as_user = value in users and value not in options
        if not as_option and not as_user:
            as_option = "flag" in meta
        option, username = (value, "") if as_option else ("", value)
    return (None if option in ("", "None") else option), (username or None)


def gradio_csv_files(directory: Path) -> list[Path]:
    """The flagging CSVs of a Gradio flagging folder: ``log.csv`` and ``dataset<N>.csv``, in order."""

    def order(path: Path) -> tuple[int, str]:
        digits = re.findall(r"\d+", path.stem)
        return (int(digits[0]) if digits else 0, path.name)

    found = [p for p in directory.glob("*.csv") if p.name == "log.csv" or re.fullmatch(r"dataset\d+\.csv", p.name)]
    return sorted(found, key=order)
