"""Reading flags back: :func:`read_flags` turns any supported source into a pandas DataFrame.

Every source is read into :class:`~flagpipe.data.records.FlagRecord` objects first (one per flag),
then laid out by :func:`~flagpipe.data.frame.records_to_frame`; a Parquet export is read as a table
directly. :func:`detect_csv_format` tells flagpipe's CSV layout from Gradio's.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flagpipe.data.csv_cells import is_aware, read_csv_rows
from flagpipe.data.flagpipe_csv import TRAILING_COLUMNS, parse_flagpipe_csv
from flagpipe.data.frame import records_to_frame
from flagpipe.data.gradio_csv import gradio_csv_files, parse_gradio_csv, unescape_gradio
from flagpipe.data.jsonl import parse_jsonl
from flagpipe.data.parquet import read_parquet
from flagpipe.data.records import FlagRecord, RecordFilter, SourceError, iter_journal_records, iter_source_records
from flagpipe.data.sources import is_url, open_flag_source

if TYPE_CHECKING:
    import os
    from collections.abc import Collection, Iterable, Mapping, Sequence
    from datetime import datetime
    from typing import Any

    import pandas as pd

    from flagpipe.core.host import PluginHost

__all__ = ["SourceError", "detect_csv_format", "parse_csv", "read_flags"]


def detect_csv_format(path: Path) -> str:
    """``flagpipe`` (written by the csv callback or ``flagpipe export``), ``gradio-classic`` or ``gradio``.

    ``gradio-classic`` is the ``log.csv`` of Gradio 3/4 (and ``ClassicCSVLogger``): it always has
    ``flag`` and ``username`` columns. ``gradio`` is Gradio 5/6's ``CSVLogger`` (``dataset1.csv``).
    """
    rows = read_csv_rows(path)
    if not rows:
        raise SourceError(f"{path} is empty")
    header = [unescape_gradio(c) for c in rows[0]]
    if "timestamp" not in header:
        raise SourceError(f"{path} has no 'timestamp' column: not a flagging CSV (Gradio's SimpleCSVLogger?)")
    where = len(header) - 1 - header[::-1].index("timestamp")
    trailing = header[where + 1 :]
    if trailing and all(c in TRAILING_COLUMNS for c in trailing):
        return "flagpipe"
    tail = header[max(0, where - 2) : where]
    if tail == ["flag", "username"]:
        if len(rows) > 1 and len(rows[1]) == len(header) and is_aware(rows[1][where]):
            return "flagpipe"  # flagpipe writes ISO 8601 with an offset; Gradio writes naive local time
        if path.name.startswith("log"):
            return "gradio-classic"
    return "gradio"


def parse_csv(path: Path, *, known_options: Collection[str] = ()) -> list[FlagRecord]:
    """Read any supported flagging CSV (see :func:`detect_csv_format`)."""
    if detect_csv_format(path) == "flagpipe":
        return parse_flagpipe_csv(path)
    return parse_gradio_csv(path, known_options=known_options)


def read_flags(
    source: str | os.PathLike[str],
    *,
    since: datetime | str | None = None,
    options: Sequence[str | None] | None = None,
    apps: Sequence[str | None] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    plugins: PluginHost | None = None,
) -> pd.DataFrame:
    """Read flags into a pandas DataFrame: one row per flag, one typed column per field.

    :param source: a flagging directory or a ``flagging.yaml`` (read from the journal, the source of
        truth); a CSV written by flagpipe or by Gradio (``log.csv`` of Gradio 3/4 or
        ``ClassicCSVLogger``, ``dataset<N>.csv`` of Gradio 5/6); a folder of Gradio CSVs without a
        journal; a ``.jsonl`` / ``.parquet`` file written by ``flagpipe export``; or a URL a plugin
        reads (``flagpipe_open_flag_source``), such as the database of a ``sql`` callback
        (``postgresql+psycopg://...``, ``mysql+pymysql://...``, ``sqlite:///flags.db``), where the
        filters run in the query.
    :param since: keep flags made at or after this time (a datetime or an ISO 8601 string; naive
        values are local time). Flags without a timestamp are dropped when it is given.
    :param options: keep flags whose option is in this list (``None`` in the list keeps flags without
        an option).
    :param apps: keep flags of these apps (the config's ``app``; ``None`` keeps flags without one).
    :param storage_options: passed to the plugin that reads a URL source (for the ``sql`` plugin:
        ``table_prefix``, ``schema``, ``directory`` (the flagging dir that file paths are relative
        to), ``password``); ignored for local paths.
    :param plugins: the plugin host asked to open a URL source (by default one built from the
        environment's plugin policy, as a :class:`flagpipe.Flagger` builds it).
    :returns: columns: the fields (file fields as absolute paths), ``option``, ``username``,
        ``comment``, ``timestamp`` (UTC), ``id``, ``mode``, ``session_id``, ``app``, then
        ``metadata.<key>`` (nested keys dotted). ``frame.attrs["flagpipe_kinds"]`` maps columns to kinds.
    :raises SourceError: (a ``ValueError``) when the source cannot be read.
    :raises FileNotFoundError: when it does not exist.
    """
    keep = RecordFilter(since, options, apps)
    if is_url(source):
        with open_flag_source(str(source), storage_options, plugins=plugins) as flags:
            return records_to_frame(iter_source_records(flags, keep.flag_filter()))
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"no such file or directory: {path}")
    suffix = path.suffix.lower()
    if path.is_dir():
        from flagpipe.core.journal import JOURNAL_PATH

        if (path / JOURNAL_PATH).is_file():
            records: Iterable[FlagRecord] = iter_journal_records(
                path.resolve(), since=since, options=options, apps=apps
            )
            return records_to_frame(records)
        files = gradio_csv_files(path)
        if not files:
            raise SourceError(f"no flags in {path}: no journal ({JOURNAL_PATH}) and no log.csv or dataset*.csv")
        records = [r for f in files for r in parse_csv(f)]
    elif suffix in (".yaml", ".yml"):
        from flagpipe.config.loader import config_directory

        directory = config_directory(path)
        return records_to_frame(iter_journal_records(directory, since=since, options=options, apps=apps))
    elif suffix == ".csv":
        records = parse_csv(path)
    elif suffix in (".jsonl", ".ndjson"):
        records = parse_jsonl(path)
    elif suffix == ".parquet":
        return read_parquet(path, keep)
    else:
        raise SourceError(f"cannot read flags from {path}: expected a directory, .yaml, .csv, .jsonl or .parquet")
    return records_to_frame(r for r in records if keep(r.timestamp, r.option, r.app))
