"""The event schema: frozen, versioned, time-ordered ids, UTC times, exact JSON round trip."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from flagpipe import SCHEMA_VERSION, FieldValue, FileRef, FlagEvent

SHA = "a" * 64


def make_event(**changes: object) -> FlagEvent:
    base: dict[str, object] = {
        "option": "wrong sign",
        "comment": "sign flipped",
        "username": "alice",
        "session_id": "s-1",
        "app": "calculator",
        "fields": (
            FieldValue(name="num1", kind="number", value=5),
            FieldValue(name="operation", value="add"),
            FieldValue(
                name="image",
                kind="image",
                file=FileRef(path="image/abc/x.png", original_name="x.png", media_type="image/png", size=3, sha256=SHA),
            ),
            FieldValue(name="output", role="output", kind="number", value=-12.5),
        ),
        "metadata": {"model": "v1", "latency_ms": 12.25, "tags": ["a", None, True]},
    }
    base.update(changes)
    return FlagEvent.model_validate(base)


def test_event_has_every_attribute_and_a_version() -> None:
    event = make_event()
    assert event.schema_version == SCHEMA_VERSION == 1
    assert event.created_at.tzinfo is not None
    assert event.created_at.utcoffset() == timedelta(0)
    assert event.mode == "manual"
    assert event.field_names() == ("num1", "operation", "image", "output")
    assert event.field("image").is_file
    assert event.field("output").role == "output"
    with pytest.raises(KeyError, match="fields: num1, operation, image, output"):
        event.field("missing")


def test_json_round_trip_is_exact() -> None:
    event = make_event()
    again = FlagEvent.model_validate_json(event.model_dump_json())
    assert again == event
    assert again.model_dump_json() == event.model_dump_json()


def test_events_are_frozen() -> None:
    event = make_event()
    with pytest.raises(ValidationError):
        event.option = "other"  # type: ignore[misc]


def test_ids_are_unique_and_time_ordered() -> None:
    ids = [FlagEvent().id for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)


def test_created_at_is_normalised_to_utc_and_naive_times_are_refused() -> None:
    local = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert make_event(created_at=local).created_at == local
    assert make_event(created_at=local).created_at.utcoffset() == timedelta(0)
    with pytest.raises(ValidationError, match="timezone"):
        make_event(created_at=datetime(2026, 1, 2, 3, 4, 5))


@pytest.mark.parametrize("path", ["/etc/passwd", "../x", "a/../../b", "a\\b", "", "a//b", "./a"])
def test_file_paths_must_stay_inside_the_dir(path: str) -> None:
    with pytest.raises(ValidationError, match="relative"):
        FileRef(path=path, size=1, sha256=SHA)


def test_unknown_keys_and_duplicate_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        FlagEvent.model_validate({"colour": "red"})
    with pytest.raises(ValidationError, match="repeated: a"):
        FlagEvent(fields=(FieldValue(name="a"), FieldValue(name="a")))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(value=json_values, text=st.text(), meta=st.dictionaries(st.text(max_size=10), json_values, max_size=4))
def test_any_json_value_round_trips(value: object, text: str, meta: dict[str, object]) -> None:
    event = make_event(
        comment=text,
        fields=(FieldValue(name="v", kind="json", value=value), FieldValue(name="t", value=text)),
        metadata=meta,
    )
    assert FlagEvent.model_validate_json(event.model_dump_json()) == event
