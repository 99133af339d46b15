"""Reading CSV cells back as typed values: the file's rows, each column's kind, and file cells as paths.

CSV keeps no kinds, so a column's kind is inferred from its non-empty cells (see
:func:`infer_kind`). Used for flagpipe's own CSVs and for Gradio's.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flagpipe.data.records import SourceError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "convert",
    "file_cell",
    "file_inside",
    "infer_kind",
    "is_aware",
    "read_csv_rows",
    "row_key",
    "typed_fields",
]

_JSON_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


def read_csv_rows(path: Path) -> list[list[str]]:
    """The non-empty rows of a CSV file, cells as written.

    :raises SourceError: when the file cannot be read as UTF-8 CSV.
    """
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return [row for row in csv.reader(handle) if row]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(f"cannot read {path}: {exc}") from None


def is_aware(text: str) -> bool:
    """True for an ISO 8601 time with an offset (as flagpipe writes), False for Gradio's naive times."""
    try:
        return "T" in text and datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def _resolve_file(cell: str, base: Path) -> Path:
    """A file cell as an absolute path: as is when absolute, else the first existing match under ``base``.

    Gradio writes paths relative to the working directory of the app (``flagged/image/<hex>/x.png``),
    so the leading parts are dropped one by one until the rest exists under the CSV's folder.
    """
    path = Path(cell)
    if path.is_absolute():
        return path
    parts = path.parts
    for start in range(len(parts)):
        candidate = base.joinpath(*parts[start:])
        if candidate.is_file():
            return candidate
    cwd = Path.cwd() / path
    if cwd.is_file():
        return cwd
    return base / path


def file_cell(cell: str, base: Path) -> Path | None:
    """The existing file a cell names (a path or a Gradio 4 FileData JSON), or None if it names none.

    Reading only: the file may be anywhere (an export names the flagging directory's files). To take
    files *in*, use :func:`file_inside`.
    """
    text = cell
    if cell.startswith("{"):
        try:
            payload = json.loads(cell)
        except ValueError:
            return None
        if not (isinstance(payload, dict) and isinstance(payload.get("path"), str)):
            return None
        text = payload["path"]
    if not text or "\n" in text or "\x00" in text:
        return None
    try:
        resolved = _resolve_file(text, base)
        return resolved if resolved.is_file() else None
    except (OSError, ValueError):
        return None


def file_inside(cell: str, base: Path) -> tuple[Path | None, Path | None]:
    """``(file, outside)``: the file a cell names if it is inside ``base``, else the file outside it.

    Symbolic links are resolved first, so neither ``../../etc/passwd``, nor ``/etc/hostname``, nor a
    link inside ``base`` that points out of it counts as a file of the folder.
    """
    found = file_cell(cell, base)
    if found is None:
        return None, None
    try:
        real = found.resolve()
        if real.is_relative_to(base.resolve()):
            return real, None
    except (OSError, RuntimeError):
        pass
    return None, found


def infer_kind(cells: Sequence[str], base: Path) -> str:
    """The kind of a CSV column from its non-empty cells: number, bool, json, file or text."""
    values = [c for c in cells if c != ""]
    if not values:
        return "text"
    if all(c in ("true", "false") for c in values):
        return "bool"
    if all(_JSON_NUMBER.fullmatch(c) for c in values):
        return "number"
    if all(file_cell(c, base) is not None for c in values):
        return "file"
    if all(c.startswith(("{", "[")) and _is_json(c) for c in values):
        return "json"
    return "text"


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def convert(cell: str, kind: str, base: Path) -> Any:
    """A cleaned cell as a value of ``kind`` (files: an absolute path string)."""
    if kind == "text":
        return cell
    if cell == "":
        return None
    if kind == "bool":
        return cell == "true"
    if kind in ("number", "json"):
        return json.loads(cell)
    found = file_cell(cell, base)
    return None if found is None else str(found)


def row_key(name: str, index: int, row: Sequence[str]) -> str:
    """A stable key of a CSV row: a hash of the file's name, the row's number and its cells."""
    digest = hashlib.sha256()
    digest.update(f"{name}\n{index}\n".encode())
    digest.update("\x1f".join(row).encode("utf-8"))
    return digest.hexdigest()


def typed_fields(
    names: Sequence[str], rows: Sequence[Sequence[str]], base: Path
) -> tuple[list[str], list[list[tuple[str, str, Any]]]]:
    """Each column's inferred kind, and each row's ``(name, kind, value)`` fields; files are taken from ``base``."""
    kinds = [infer_kind([r[i] for r in rows], base) for i in range(len(names))]
    typed = [
        [(name, kind, convert(row[i], kind, base)) for i, (name, kind) in enumerate(zip(names, kinds, strict=True))]
        for row in rows
    ]
    return kinds, typed
