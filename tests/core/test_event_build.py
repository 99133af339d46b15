"""Events built from checked values: the same event validation would build, and validation for anything else."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from flagpipe.core.event import FieldValue, FlagEvent
from flagpipe.core.event_build import build_event, trusted_field

FIELDS = (trusted_field("num1", "input", "number", 5), trusted_field("output", "output", "number", -12))


def test_a_built_event_equals_the_validated_one_and_round_trips() -> None:
    built = build_event(mode="auto", fields=FIELDS, metadata={}, option="wrong", comment="c", app="calc")
    validated = FlagEvent(
        id=built.id,
        created_at=built.created_at,
        mode="auto",
        fields=FIELDS,
        metadata={},
        option="wrong",
        comment="c",
        username=None,
        session_id=None,
        app="calc",
    )
    assert built == validated
    assert built.model_dump_json() == validated.model_dump_json()
    assert FlagEvent.model_validate_json(built.model_dump_json()) == built
    assert built.created_at.tzinfo is not None
    with pytest.raises(ValidationError):
        built.comment = "changed"  # type: ignore[misc]


def test_trusted_fields_equal_validated_ones() -> None:
    field = trusted_field("text", "input", "text", "hi")
    assert field == FieldValue(name="text", role="input", kind="text", value="hi")
    assert (
        field.model_fields_set
        == FieldValue.model_construct(name="text", value="hi", role="input", kind="text", file=None).model_fields_set
    )


def test_a_given_id_and_time_are_validated() -> None:
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    built = build_event(mode="manual", fields=FIELDS, metadata={}, event_id="imported-1", created_at=when)
    assert (built.id, built.created_at) == ("imported-1", when)
    with pytest.raises(ValidationError, match="timezone"):
        build_event(mode="manual", fields=FIELDS, metadata={}, created_at=datetime(2026, 1, 2))


def test_anything_unusual_gets_validation_and_its_errors() -> None:
    with pytest.raises(ValidationError, match="comment"):
        build_event(mode="manual", fields=FIELDS, metadata={}, comment=42)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="unique"):
        build_event(mode="manual", fields=(FIELDS[0], FIELDS[0]), metadata={})
    with pytest.raises(ValidationError, match="mode"):
        build_event(mode="sometimes", fields=FIELDS, metadata={})  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="metadata"):
        build_event(mode="manual", fields=FIELDS, metadata={"when": datetime.now(timezone.utc)})
    assert build_event(mode="manual", fields=FIELDS, metadata={"k": [1, "v"]}).metadata == {"k": [1, "v"]}
