"""Delivery lanes against a real HTTP sink on 127.0.0.1: outages, Retry-After, dead letters, routing."""

from __future__ import annotations

import itertools
import time
from typing import TYPE_CHECKING, Any

import pytest
from tests.csv_log import read_rows

import flagpipe
from flagpipe import Flagger
from flagpipe.core.callback import DestinationDisabledError

from .http_sink import PostPlugin, Sink, running_sink

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

    from flagpipe.core.host import PluginHost

FAST_RETRY = {"attempts": 50, "initial_delay": 0.02, "max_delay": 0.1}


@pytest.fixture
def post_plugins(plugins: PluginHost) -> Iterator[PluginHost]:
    with plugins.registered(PostPlugin(), name="test-post"):
        yield plugins


@pytest.fixture
def sink() -> Iterator[Sink]:
    with running_sink() as running:
        yield running


def wait_for(condition: Callable[[], bool], what: str, limit: float = 30.0) -> None:
    """Poll until ``condition`` holds; a bounded loop, never a timing assertion."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.01)


def make_flagger(tmp_path: Path, plugins: PluginHost, sink: Sink, **delivery: Any) -> Flagger:
    config = {
        "dir": str(tmp_path),
        "options": ["wrong sign", "off by one", "other"],
        "callbacks": [{"type": "csv"}, {"type": "test_post", "url": sink.url}],
        "delivery": {"retry": FAST_RETRY, "grace": 30, **delivery},
    }
    return Flagger(config, plugins=plugins)


def test_outage_then_recovery_delivers_everything_in_order(
    tmp_path: Path, post_plugins: PluginHost, sink: Sink
) -> None:
    sink.default_status = 503
    with make_flagger(tmp_path, post_plugins, sink) as flagger:
        ids = [flagger.flag({"n": n}, option="other").id for n in range(20)]
        # the CSV lane is not held back by the failing sink
        wait_for(lambda: (tmp_path / "log.csv").exists() and len(read_rows(tmp_path / "log.csv")) == 20, "csv rows")
        wait_for(lambda: sink.requests >= 3, "failed attempts")
        assert sink.ids() == []
        status = {s.name: s for s in flagger.journal.status()}  # type: ignore[union-attr]
        assert status["test_post"].pending == 20 and status["test_post"].last_error == "HTTP 503"
        sink.default_status = 200
        assert flagger.flush(30)
    assert sink.ids() == ids
    assert [r["id"] for r in read_rows(tmp_path / "log.csv")] == ids


def test_retry_after_is_honoured(tmp_path: Path, post_plugins: PluginHost, sink: Sink) -> None:
    sink.answer(429, headers={"Retry-After": "7"})
    with make_flagger(tmp_path, post_plugins, sink, mode="inline", grace=0) as flagger:
        receipt = flagger.flag({"n": 1})
        assert receipt.failed == {"test_post": "HTTP 429"} and "test_post" in receipt.pending
        assert receipt.delivered == ("csv",)
        lane = flagger.journal.lane("test_post")  # type: ignore[union-attr]
        assert lane.attempts == 1
        assert lane.last_error_at is not None
        assert lane.next_attempt_at - lane.last_error_at == pytest.approx(7, abs=0.5)


def test_exponential_backoff_grows_and_is_capped() -> None:
    from flagpipe.core.lane import backoff_delay
    from flagpipe.core.settings import DeliveryConfig

    config = DeliveryConfig.model_validate({"retry": {"initial_delay": 1, "max_delay": 8}})
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (10, 8)]:
        delays = [backoff_delay(attempt, config, None) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert backoff_delay(3, config, 5.0) == 5.0
    assert backoff_delay(3, config, 500.0) == 500.0  # the sink's wish wins over max_delay
    assert backoff_delay(3, config, 10**9) == config.retry.max_age


def test_permanent_error_dead_letters_for_that_callback_only_then_retry(
    tmp_path: Path, post_plugins: PluginHost, sink: Sink
) -> None:
    sink.answer(400)
    with make_flagger(tmp_path, post_plugins, sink, mode="inline") as flagger:
        bad = flagger.flag({"n": 1})
        assert bad.failed == {"test_post": "HTTP 400"} and bad.delivered == ("csv",)
        good = flagger.flag({"n": 2})
        assert good.delivered == ("csv", "test_post")
        journal = flagger.journal
        assert journal is not None
        (dead,) = journal.dead_letters("test_post")
        assert dead.event_id == bad.id and dead.error == "HTTP 400"
        assert journal.dead_letters("csv") == []
        assert flagger.retry(callback="test_post") == 1
        flagger.flush(10)
        assert journal.dead_letters() == []
    assert sink.ids() == [good.id, bad.id]


def test_one_bad_event_in_a_batch_does_not_sink_the_others(
    tmp_path: Path, post_plugins: PluginHost, sink: Sink
) -> None:
    sink.default_status = 503
    with make_flagger(tmp_path, post_plugins, sink) as flagger:
        ids = [flagger.flag({"n": n}).id for n in range(6)]
        wait_for(lambda: sink.requests >= 1, "a first attempt")
        sink.reject_ids = {ids[3]}
        sink.default_status = 200
        assert flagger.flush(30)
        dead = flagger.journal.dead_letters("test_post")  # type: ignore[union-attr]
    assert [d.event_id for d in dead] == [ids[3]]
    assert sink.ids() == ids[:3] + ids[4:]


def test_attempts_run_out_into_a_dead_letter_and_observers_hear_of_it(
    tmp_path: Path, post_plugins: PluginHost, sink: Sink
) -> None:
    seen: list[tuple[str, int, bool]] = []

    class Observer:
        @flagpipe.hookimpl
        def flagpipe_delivery_failed(self, callback_name: str, attempt: int, final: bool) -> None:
            seen.append((callback_name, attempt, final))

    sink.default_status = 500
    with post_plugins.registered(Observer()):
        flagger = make_flagger(
            tmp_path, post_plugins, sink, retry={"attempts": 3, "initial_delay": 0.01, "max_delay": 0.01}
        )
        with flagger:
            event_id = flagger.flag({"n": 1}).id
            wait_for(lambda: bool(flagger.journal.dead_letters("test_post")), "the dead letter")  # type: ignore[union-attr]
    assert seen == [("test_post", 1, False), ("test_post", 2, False), ("test_post", 3, True)]
    assert sink.requests == 3
    del event_id


def test_routing_with_when(tmp_path: Path, post_plugins: PluginHost, sink: Sink) -> None:
    config = {
        "dir": str(tmp_path),
        "options": ["wrong sign", "off by one", "other"],
        "callbacks": [
            {"type": "csv"},
            {
                "type": "test_post",
                "url": sink.url,
                "when": {"options": ["wrong sign"], "fields": {"operation": ["add", "subtract"]}},
            },
        ],
        "delivery": {"mode": "inline"},
    }
    with Flagger(config, plugins=post_plugins) as flagger:
        sent = flagger.flag({"operation": "add"}, option="wrong sign")
        other_option = flagger.flag({"operation": "add"}, option="other")
        other_field = flagger.flag({"operation": "divide"}, option="wrong sign")
        assert sent.delivered == ("csv", "test_post")
        assert other_option.skipped == ("test_post",) and other_field.skipped == ("test_post",)
        status = {s.name: s for s in flagger.journal.status()}  # type: ignore[union-attr]
    assert sink.ids() == [sent.id]
    assert status["test_post"].skipped == 2 and status["test_post"].pending == 0
    assert len(read_rows(tmp_path / "log.csv")) == 3


def test_restart_resumes_pending_deliveries(tmp_path: Path, post_plugins: PluginHost, sink: Sink) -> None:
    sink.default_status = 503
    with make_flagger(tmp_path, post_plugins, sink, grace=0) as flagger:
        ids = [flagger.flag({"n": n}).id for n in range(5)]
        wait_for(lambda: sink.requests >= 1, "a failed attempt")
    status = {s.name: s for s in _status(tmp_path)}
    assert status["test_post"].pending == 5
    sink.default_status = 200
    with make_flagger(tmp_path, post_plugins, sink) as again:
        assert again.flush(30)
    assert sink.ids() == ids
    assert [r["id"] for r in read_rows(tmp_path / "log.csv")] == ids


def test_a_gone_destination_is_disabled_until_retried(tmp_path: Path, plugins: PluginHost) -> None:
    calls: list[list[str]] = []

    class GoneCallback(flagpipe.Callback[flagpipe.CallbackSettings]):
        type_name = "gone"
        Settings = flagpipe.CallbackSettings
        gone = True

        def deliver(self, events: Sequence[flagpipe.FlagEvent]) -> None:
            if GoneCallback.gone:
                raise DestinationDisabledError("HTTP 410: the webhook was deleted")
            calls.append([e.id for e in events])

    class Plugin:
        @flagpipe.hookimpl
        def flagpipe_register_callbacks(self) -> list[type[flagpipe.Callback[Any]]]:
            return [GoneCallback]

    with plugins.registered(Plugin()):
        config = {"dir": str(tmp_path), "callbacks": ["gone"], "delivery": {"mode": "inline"}}
        with Flagger(config, plugins=plugins) as flagger:
            first = flagger.flag({"n": 1})
            second = flagger.flag({"n": 2})
            (status,) = flagger.journal.status()  # type: ignore[union-attr]
            assert status.disabled_reason == "HTTP 410: the webhook was deleted"
            assert status.dead == 1 and status.pending == 1
            GoneCallback.gone = False
            assert flagger.retry() == 1
            flagger.flush(10)
    assert calls == [[first.id], [second.id]]


def test_flush_waits_for_requeued_dead_letters_in_background(
    tmp_path: Path, post_plugins: PluginHost, sink: Sink
) -> None:
    sink.answer(400)
    with make_flagger(tmp_path, post_plugins, sink) as flagger:
        first = flagger.flag({"n": 1}).id
        wait_for(lambda: bool(flagger.journal.dead_letters("test_post")), "the dead letter")  # type: ignore[union-attr]
        assert flagger.retry(event_id=first) == 1
        assert flagger.flush(30)
        assert flagger.journal.dead_letters() == []  # type: ignore[union-attr]
    assert sink.ids() == [first]


def test_time_batching_callbacks_get_one_batch_per_interval(tmp_path: Path, plugins: PluginHost) -> None:
    batches: list[tuple[float, list[str]]] = []

    class Batching(flagpipe.Callback[flagpipe.CallbackSettings]):
        type_name = "batching"
        Settings = flagpipe.CallbackSettings
        max_batch_size = 5
        batch_interval = 0.3

        def deliver(self, events: Sequence[flagpipe.FlagEvent]) -> None:
            batches.append((time.monotonic(), [e.id for e in events]))

    class Plugin:
        @flagpipe.hookimpl
        def flagpipe_register_callbacks(self) -> list[type[flagpipe.Callback[Any]]]:
            return [Batching]

    with (
        plugins.registered(Plugin()),
        Flagger({"dir": str(tmp_path), "callbacks": ["batching"]}, plugins=plugins) as flagger,
    ):
        ids = [flagger.flag({"n": n}).id for n in range(12)]
        wait_for(lambda: sum(len(b) for _, b in batches) >= 10, "two full batches")
    # close() delivered the rest at once, whatever the interval
    assert [i for _, b in batches for i in b] == ids
    assert [len(b) for _, b in batches] == [5, 5, 2]
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(batches[:-1])]
    assert all(gap >= 0.29 for gap in gaps)  # never two batches within one interval


def test_batching_by_time_resumes_after_a_flush(tmp_path: Path, plugins: PluginHost) -> None:
    batches: list[list[str]] = []

    class Hourly(flagpipe.Callback[flagpipe.CallbackSettings]):
        type_name = "hourly"
        Settings = flagpipe.CallbackSettings
        batch_interval = 3600.0

        def deliver(self, events: Sequence[flagpipe.FlagEvent]) -> None:
            batches.append([e.id for e in events])

    class Plugin:
        @flagpipe.hookimpl
        def flagpipe_register_callbacks(self) -> list[type[flagpipe.Callback[Any]]]:
            return [Hourly]

    with (
        plugins.registered(Plugin()),
        Flagger({"dir": str(tmp_path), "callbacks": ["hourly"]}, plugins=plugins) as flagger,
    ):
        first = [flagger.flag({"n": n}).id for n in range(2)]
        assert flagger.flush(timeout=30)
        assert batches == [first]  # a flush delivers at once, whatever the interval
        later = [flagger.flag({"n": n}).id for n in range(2)]
        time.sleep(0.5)  # several lingers: a lane still in a hurry would have delivered by now
        assert batches == [first]  # then the lane waits for its interval again
    assert batches == [first, later]  # close() delivers the rest


@pytest.mark.parametrize("permanent", [False, True])
def test_a_password_in_a_delivery_error_is_masked_everywhere(
    tmp_path: Path, plugins: PluginHost, caplog: pytest.LogCaptureFixture, permanent: bool
) -> None:
    error = flagpipe.PermanentError if permanent else flagpipe.RetryableError

    class Leaky(flagpipe.Callback[flagpipe.CallbackSettings]):
        type_name = "leaky"
        Settings = flagpipe.CallbackSettings

        def deliver(self, events: Sequence[flagpipe.FlagEvent]) -> None:
            raise error("POST https://bot:hunter2@hooks.example/abc failed: 503")

    class Plugin:
        @flagpipe.hookimpl
        def flagpipe_register_callbacks(self) -> list[type[flagpipe.Callback[Any]]]:
            return [Leaky]

    config = {"dir": str(tmp_path), "callbacks": ["leaky"], "delivery": {"mode": "inline"}}
    with caplog.at_level("WARNING"), plugins.registered(Plugin()), Flagger(config, plugins=plugins) as flagger:
        receipt = flagger.flag({"n": 1})
        statuses = flagger.journal.status()  # type: ignore[union-attr]
        dead = flagger.journal.dead_letters()  # type: ignore[union-attr]
    shown = [receipt.failed["leaky"], caplog.text, *(s.last_error or "" for s in statuses), *(d.error for d in dead)]
    assert "https://bot:***@hooks.example/abc" in receipt.failed["leaky"]
    assert not [text for text in shown if "hunter2" in text]


def _status(directory: Path) -> list[Any]:
    from flagpipe.core.journal import Journal

    journal = Journal(directory)
    try:
        return journal.status()
    finally:
        journal.close()
