"""Values the journal could not read back are refused up front; events handed to callbacks cannot be changed."""

from __future__ import annotations

import copy
import json
import pickle
import sqlite3
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import flagpipe
from flagpipe import Flagger
from flagpipe.core.callback import Callback, CallbackSettings
from flagpipe.core.event import FlagEvent
from flagpipe.core.journal import JOURNAL_PATH
from flagpipe.core.storable import MAX_DEPTH, FrozenDict, FrozenList, check_value, freeze_event

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from flagpipe.core.host import PluginHost


def nested(depth: int, leaf: object = 1, container: str = "list") -> object:
    value = leaf
    for _ in range(depth):
        value = [value] if container == "list" else {"k": value}
    return value


UNSTORABLE: list[tuple[str, Any]] = [
    ("huge int", 10**5000),
    ("huge negative int", -(10**4400)),
    ("deep list", nested(300)),
    ("deep dict", nested(300, container="dict")),
    ("just too deep", nested(MAX_DEPTH + 1)),
    ("huge int inside", {"a": [1, 2, {"b": 10**4301}]}),
    ("nan inside", {"a": [float("nan")]}),
    ("infinity inside", [1.0, float("-inf")]),
    ("lone surrogate", {"text": "\ud800"}),
]


@pytest.mark.parametrize(("label", "value"), UNSTORABLE, ids=[label for label, _ in UNSTORABLE])
@pytest.mark.parametrize("where", ["value", "metadata"])
def test_unreadable_values_are_refused_and_nothing_is_stored(
    tmp_path: Path, plugins: PluginHost, label: str, value: Any, where: str
) -> None:
    with Flagger({"delivery": {"mode": "inline"}}, dir=tmp_path, plugins=plugins) as flagger:
        with pytest.raises(ValueError, match=r"cannot be stored|nested more than|not JSON|not a finite") as info:
            if where == "value":
                flagger.flag({"x": value})
            else:
                flagger.flag({"x": 1}, metadata={"m": value})
        assert flagger.journal is not None and flagger.journal.count() == 0
        ok = flagger.flag({"x": 1})  # the Flagger goes on working
        assert ok.delivered == ("csv",)
    assert "Traceback" not in str(info.value)


def test_the_deepest_and_largest_accepted_values_read_back(tmp_path: Path, plugins: PluginHost) -> None:
    values = {"deep": nested(MAX_DEPTH - 1), "wide": 10**4299, "obj": nested(MAX_DEPTH - 1, container="dict")}
    with Flagger({"delivery": {"mode": "inline"}}, dir=tmp_path, plugins=plugins) as flagger:
        receipt = flagger.flag(values, metadata={"deep": nested(MAX_DEPTH - 1)})
        assert receipt.delivered == ("csv",)
        assert flagger.journal is not None
        (event,) = flagger.journal.latest(1)
    assert event.field("wide").value == 10**4299
    assert event.field("deep").value == nested(MAX_DEPTH - 1)


@settings(max_examples=60, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
        lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
        max_leaves=30,
    )
)
def test_whatever_check_value_accepts_reads_back(value: Any) -> None:
    try:
        check_value(value, "x")
    except ValueError:
        return
    event = FlagEvent(metadata={"v": value})
    assert FlagEvent.model_validate_json(event.model_dump_json()).metadata == {"v": value}


def write_bad_row(directory: Path, body: str, event_id: str = "bad-event") -> None:
    with sqlite3.connect(directory / JOURNAL_PATH) as db:
        db.execute(
            "INSERT INTO events (id, created_at, body) VALUES (?, '2020-01-01T00:00:00+00:00', ?)", (event_id, body)
        )


BAD_BODIES = [
    '{"schema_version": 1, "id": "bad-event", "created_at": "2020-01-01T00:00:00Z", "metadata": {"x": 1'
    + "0" * 5000
    + "}}",
    '{"schema_version": 1, "id": "bad-event", "created_at": "2020-01-01T00:00:00Z", "metadata": {"x": '
    + "[" * 300
    + "]" * 300
    + "}}",
    "not json at all",
    '{"schema_version": 99}',
]


@pytest.mark.parametrize("body", BAD_BODIES, ids=["huge-int", "deep", "garbage", "wrong-schema"])
@pytest.mark.parametrize("mode", ["inline", "background"])
def test_a_lane_dead_letters_an_event_it_cannot_decode_and_goes_on(
    tmp_path: Path, plugins: PluginHost, body: str, mode: str
) -> None:
    config = {"delivery": {"mode": mode}}
    with Flagger(config, dir=tmp_path, plugins=plugins) as flagger:
        before = flagger.flag({"n": 1})
        assert flagger.flush(30)
    write_bad_row(tmp_path, body)
    with Flagger(config, dir=tmp_path, plugins=plugins) as flagger:
        after = flagger.flag({"n": 2})
        assert flagger.flush(30)
        journal = flagger.journal
        assert journal is not None
        (dead,) = journal.dead_letters("csv")
        assert dead.event_id == "bad-event" and "cannot be read back" in dead.error
        assert journal.status()[0].pending == 0
    ids = [row["id"] for row in _csv_rows(tmp_path)]
    assert ids == [before.id, after.id]
    # readers leave the bad row out (with a warning) instead of failing
    assert flagpipe.read_flags(tmp_path)["id"].tolist() == [before.id, after.id]


def _csv_rows(directory: Path) -> list[dict[str, str]]:
    from tests.csv_log import read_rows

    return read_rows(directory / "log.csv")


class Recorder(Callback[CallbackSettings]):
    """Records what each delivery received, and (when told to) tries to change it."""

    seen: ClassVar[dict[str, list[str]]] = {}
    Settings = CallbackSettings

    def deliver(self, events: Sequence[FlagEvent]) -> None:
        name = type(self).__name__
        for event in events:
            type(self).seen.setdefault(name, []).append(event.model_dump_json())
            self.tamper(event)

    def tamper(self, event: FlagEvent) -> None:
        pass


class Vandal(Recorder):
    """Tries every way of changing an event's metadata and values; each must fail."""

    type_name = "vandal"
    failures: ClassVar[list[str]] = []

    def tamper(self, event: FlagEvent) -> None:
        attempts = [
            lambda: event.metadata.__setitem__("model", "hacked"),
            lambda: event.metadata["tags"].append("hacked"),
            lambda: event.metadata["nested"]["deep"].update({"x": 1}),
            lambda: event.metadata.pop("model"),
            lambda: event.field("payload").value["items"].sort(),  # type: ignore[index, union-attr]  # noqa: PLW0108
            lambda: event.field("payload").value["items"].__setitem__(0, 99),  # type: ignore[index, union-attr]
            lambda: event.field("payload").value.clear(),  # type: ignore[union-attr]  # noqa: PLW0108
        ]
        for attempt in attempts:
            try:
                attempt()
            except TypeError:
                continue
            type(self).failures.append("a change went through")


class Witness(Recorder):
    """Delivered after the vandal: must see the event as flagged."""

    type_name = "witness"


class _Plugin:
    @flagpipe.hookimpl
    def flagpipe_register_callbacks(self) -> list[type[Callback[Any]]]:
        return [Vandal, Witness]


@pytest.fixture
def recorders(plugins: PluginHost) -> Iterator[PluginHost]:
    Recorder.seen.clear()
    Vandal.failures.clear()
    with plugins.registered(_Plugin(), name="test-recorders"):
        yield plugins


@pytest.mark.parametrize("mode", ["inline", "background"])
def test_a_mutating_callback_cannot_change_what_the_next_one_receives(
    tmp_path: Path, recorders: PluginHost, mode: str
) -> None:
    caller_metadata = {"model": "v1", "tags": ["a", "b"], "nested": {"deep": {"k": [1, 2]}}}
    payload = {"items": [3, 1, 2], "more": {"a": 1}}
    config = {"callbacks": ["vandal", "witness"], "delivery": {"mode": mode}}
    with Flagger(config, dir=tmp_path, plugins=recorders) as flagger:
        flagger.flag({"payload": payload}, metadata=caller_metadata)
        caller_metadata["tags"].append("changed by the caller later")  # the caller's objects are not shared
        assert flagger.flush(30)
    assert Vandal.failures == []
    assert Recorder.seen["Vandal"] == Recorder.seen["Witness"]
    (seen,) = [json.loads(body) for body in Recorder.seen["Witness"]]
    assert seen["metadata"] == {"model": "v1", "tags": ["a", "b"], "nested": {"deep": {"k": [1, 2]}}}
    assert seen["fields"][0]["value"] == {"items": [3, 1, 2], "more": {"a": 1}}


def test_frozen_values_read_and_copy_as_plain_ones() -> None:
    event = freeze_event(FlagEvent(metadata={"a": [1, {"b": 2}]}))
    assert isinstance(event.metadata, FrozenDict) and isinstance(event.metadata["a"], FrozenList)
    assert json.dumps(event.metadata) == '{"a": [1, {"b": 2}]}'
    for copied in (copy.deepcopy(event.metadata), pickle.loads(pickle.dumps(event.metadata)), dict(event.metadata)):
        assert type(copied) is dict and copied == {"a": [1, {"b": 2}]}
    deep = copy.deepcopy(event.metadata)
    deep["a"].append(3)  # a deep copy is the callback's own to change
    assert event.metadata == {"a": [1, {"b": 2}]}
    assert type(event.model_dump()["metadata"]) is dict
    assert FlagEvent.model_validate_json(event.model_dump_json()) == event
