"""``flagpipe import-gradio``: turn a Gradio flagging folder into flagpipe events.

Each row of the folder's ``log.csv`` / ``dataset<N>.csv`` (parsed by
:func:`flagpipe.data.gradio_csv.parse_gradio_csv`) is flagged through a :class:`~flagpipe.Flagger` built from
the config, so files are copied into the flagging directory the usual way and every event goes
through the configured plugins and callback chain.

Importing is idempotent. A row's event id is derived from the row (a UUIDv7 whose time part is the
Gradio timestamp and whose other bits come from a SHA-256 of the CSV's name, the row's number and its
cells), and a row whose id is already in the journal is skipped. The event gets that id and, as
``created_at``, the Gradio timestamp (naive local time taken as this machine's local time).
Each event's metadata records ``imported_from`` (the CSV's path) and ``source_row`` (the row key).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flagpipe.core.chat import CHAT_KIND
from flagpipe.core.event import FILE_KINDS
from flagpipe.core.reactions import REACTION_FIELDS
from flagpipe.data.csv_cells import file_inside
from flagpipe.data.gradio_csv import gradio_csv_files, parse_gradio_csv
from flagpipe.data.read import detect_csv_format
from flagpipe.data.records import SourceError

if TYPE_CHECKING:
    from collections.abc import Callable

    from flagpipe.config.loader import LoadedConfig
    from flagpipe.core.schema import FlagSchema
    from flagpipe.data.records import FlagRecord
    from flagpipe.flagger import Flagger


@dataclass
class ImportReport:
    """What an import did."""

    files: list[Path] = field(default_factory=list)
    imported: int = 0
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)
    pending: tuple[str, ...] = ()


def imported_event_id(key: str, timestamp: datetime | None) -> str:
    """The stable event id of an imported row: a UUIDv7 with the row's time and bits of its key's hash."""
    digest = hashlib.sha256(key.encode()).digest()
    millis = int(timestamp.timestamp() * 1000) if timestamp is not None else 0
    millis &= (1 << 48) - 1
    rand_a = int.from_bytes(digest[:2], "big") & 0xFFF
    rand_b = int.from_bytes(digest[2:10], "big") & ((1 << 62) - 1)
    value = (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))


def _csv_files(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise FileNotFoundError(f"no such file or directory: {source}")
    files = [p for p in gradio_csv_files(source) if detect_csv_format(p) != "flagpipe"]
    if not files:
        raise SourceError(f"no Gradio flagging CSV (log.csv or dataset<N>.csv) in {source}")
    return files


def _values(
    record: FlagRecord, schema: FlagSchema | None, warnings: list[str], where: str, base: Path
) -> tuple[dict[str, Any], list[str]]:
    """The row's values for ``Flagger.flag`` (declared text fields get the cell as written), and missing files.

    Only files inside ``base`` (the imported folder, symlinks resolved) are imported; a cell naming a
    file anywhere else stays text (or, in a declared file field, is stored without it), with a warning.
    """
    values: dict[str, Any] = {}
    missing: list[str] = []
    for name, kind, value in record.fields:
        declared = schema.get(name) if schema is not None else None
        declared_kind = declared.kind if declared is not None else None
        raw = record.raw.get(name, "")
        found, outside = file_inside(raw, base) if raw else (None, None)
        if outside is not None:
            kept = "" if declared_kind in FILE_KINDS else ", kept as text"
            warnings.append(f"{where}: field {name!r} names {raw!r}, a file outside {base}; not imported{kept}")
        if declared_kind == "text" or (outside is not None and declared_kind not in FILE_KINDS):
            values[name] = raw
        elif kind == "file" or declared_kind in FILE_KINDS:
            if found is None and raw:
                missing.append(raw)
                if outside is None:
                    warnings.append(f"{where}: file {raw!r} of field {name!r} not found; stored without it")
            values[name] = found
        else:
            values[name] = value
    return values, missing


def import_gradio(
    source: str | Path,
    loaded: LoadedConfig,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import the Gradio flagging folder (or one of its CSV files) ``source`` through ``loaded``'s chain.

    :param progress: called with ``(rows done, rows in all)`` after every row.
    :raises SourceError: when there is no Gradio CSV to read.
    :raises ValueError: for a row the config refuses (an undeclared field, a value of the wrong kind).
    """
    from flagpipe.flagger import Flagger

    report = ImportReport(files=_csv_files(Path(source)))
    option_names = {c.value for c in loaded.config.options} | {c.label for c in loaded.config.options}
    parsed = [(path, parse_gradio_csv(path, known_options=option_names)) for path in report.files]
    total = sum(len(records) for _, records in parsed)
    done = 0
    with Flagger(loaded) as flagger:
        journal = flagger.journal
        if journal is None:
            raise ValueError("flagging mode is never: nothing can be imported")
        if flagger.schema is None and any(r.fields and r.fields[0][1] == CHAT_KIND for _, rs in parsed for r in rs):
            flagger.setup(REACTION_FIELDS)  # ChatCSVLogger reactions: the conversation is a chat field
        for path, records in parsed:
            for index, record in enumerate(records):
                done += 1
                assert record.source_key is not None
                event_id = imported_event_id(record.source_key, record.timestamp)
                if journal.seq_of(event_id) is not None:
                    report.skipped += 1
                else:
                    _import_row(flagger, record, event_id, path, f"{path.name} row {index + 1}", report)
                if progress is not None:
                    progress(done, total)
        flagger.flush()
        report.pending = tuple(
            status.name for status in journal.status() if status.pending and status.name in flagger.callback_names
        )
    return report


def _import_row(
    flagger: Flagger,
    record: FlagRecord,
    event_id: str,
    path: Path,
    where: str,
    report: ImportReport,
) -> None:
    values, missing = _values(record, flagger.schema, report.warnings, where, path.parent.resolve())
    metadata: dict[str, Any] = {"imported_from": str(path.resolve()), "source_row": record.source_key}
    if missing:
        metadata["missing_files"] = missing
    option = record.option
    allowed = {c.value for c in flagger.options} | {c.label for c in flagger.options}
    if option is not None and allowed and option not in allowed:
        option = next((a for a in allowed if a.casefold() == option.casefold()), option)  # Like / like
    if option is not None and allowed and option not in allowed:
        report.warnings.append(f"{where}: option {option!r} is not configured; kept as metadata gradio_flag")
        metadata["gradio_flag"] = option
        option = None
    try:
        receipt = flagger._submit(  # flag()'s own path, with the row's id and time
            values,
            "manual",
            {"option": option, "username": record.username, "metadata": metadata},
            event_id=event_id,
            created_at=record.timestamp,
        )
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    if receipt.stored:
        report.imported += 1
    else:
        report.warnings.append(f"{where}: not stored: {receipt.reason}")
