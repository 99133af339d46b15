"""The table of meta columns: every layout derived from it equals the layout its writer has always used."""

from __future__ import annotations

import pytest

from flagpipe import FlagEvent
from flagpipe.core.columns import (
    CSV_EXTRAS,
    CSV_HEAD,
    EXPORT_CSV_COLUMNS,
    FRAME_COLUMNS,
    HUB_COLUMNS,
    JSONL_COLUMNS,
    META_COLUMNS,
    csv_columns,
    names,
)

#: The layouts as pinned by files already written: Gradio's log.csv, exports, DataFrames and Hub shards.
GRADIO_CSV = ("flag", "username", "timestamp")
CSV_LOG = ("flag", "username", "timestamp", "id")
EXPORT_CSV = ("flag", "username", "timestamp", "comment", "session_id", "app", "mode", "metadata", "id")
FRAME = ("option", "username", "comment", "timestamp", "id", "mode", "session_id", "app")
JSONL = (*FRAME, "metadata")
HUB = ("option", "username", "comment", "timestamp", "id", "mode", "app", "session_id", "metadata")


def test_each_layout_equals_its_pinned_header() -> None:
    assert names(CSV_HEAD, csv=True) == GRADIO_CSV
    assert names(csv_columns(id_column=False), csv=True) == GRADIO_CSV
    assert names(csv_columns(), csv=True) == CSV_LOG
    assert names(EXPORT_CSV_COLUMNS, csv=True) == EXPORT_CSV
    assert names(FRAME_COLUMNS) == FRAME
    assert names(JSONL_COLUMNS) == JSONL
    assert names(HUB_COLUMNS) == HUB


def test_csv_extra_columns_keep_the_order_given() -> None:
    assert names(CSV_EXTRAS, csv=True) == ("comment", "session_id", "app", "mode", "metadata")
    chosen = csv_columns(["metadata", "comment"], id_column=False)
    assert names(chosen, csv=True) == (*GRADIO_CSV, "metadata", "comment")


@pytest.mark.parametrize("name", ["flag", "option", "timestamp", "id", "nope"])
def test_only_extra_columns_can_be_chosen(name: str) -> None:
    with pytest.raises(KeyError, match="not an extra CSV column; choose from comment, session_id"):
        csv_columns([name])


def test_the_table_covers_every_event_attribute_once() -> None:
    attributes = [c.attribute for c in META_COLUMNS]
    assert len(set(attributes)) == len(attributes)
    assert set(attributes) == set(FlagEvent.model_fields) - {"schema_version", "fields"}
    for layout in (FRAME_COLUMNS, HUB_COLUMNS):
        places = [getattr(c, "frame" if layout is FRAME_COLUMNS else "hub") for c in layout]
        assert places == list(range(len(layout)))


def test_of_reads_the_events_attribute() -> None:
    event = FlagEvent(option="wrong", username="ada", comment="c", app="calc", metadata={"k": 1})
    values = {c.name: c.of(event) for c in META_COLUMNS}
    assert values["option"] == "wrong"
    assert values["timestamp"] == event.created_at
    assert values["id"] == event.id
    assert values["metadata"] == {"k": 1}
    assert values["mode"] == "manual"


def test_the_writers_use_the_derived_layouts() -> None:
    from flagpipe.plugins.csv import CSVCallback, CSVSettings
    from flagpipe.plugins.hf_dataset import META_COLUMNS as HUB_META

    assert CSVCallback(CSVSettings()).header(["a"]) == ("a", *CSV_LOG)
    gradio_like = CSVCallback(CSVSettings(id_column=False))
    assert gradio_like.header(["a", "b"]) == ("a", "b", *GRADIO_CSV)
    extras = CSVCallback(CSVSettings(extra_columns=("mode", "comment")))
    assert extras.header(["a"]) == ("a", *GRADIO_CSV, "mode", "comment", "id")
    assert HUB_META == HUB
