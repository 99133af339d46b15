"""One ``test_hook_<name>`` per hook in ``flagpipe.core.hookspecs``, end to end through a real Flagger or the CLI.

Each plugin is an object registered for one block with ``plugins.registered(...)``, which always
unregisters it. The meta-test at the end checks that no hook is left without its test.
"""

from __future__ import annotations

import ast
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import click
import pytest
from click.testing import CliRunner
from pydantic import BaseModel, ConfigDict, Field
from tests.csv_log import read_rows

import flagpipe
from flagpipe import Callback, CallbackSettings, EncodedFile, FlagEvent, Flagger, PermanentError, ValueKind, hookimpl
from flagpipe.cli import cli
from flagpipe.cli.staging import add_plugin_commands
from flagpipe.core import hookspecs
from flagpipe.core.host import PluginConflictError, PluginError, create_plugin_host
from flagpipe.core.policy import PluginPolicy

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

    from flagpipe.core.host import PluginHost

#: Inline delivery, so each receipt says where the flag went before ``flag()`` returned.
INLINE: dict[str, Any] = {"delivery": {"mode": "inline"}}


# -- helpers: callback types used by the tests ------------------------------------------------------


class MemorySettings(CallbackSettings):
    """Settings of the ``memory`` callback."""

    label: str = Field(default="memory", description="A label, to check settings reach the callback.")


class MemoryCallback(Callback[MemorySettings]):
    """Keeps delivered events in a class-level list."""

    type_name = "memory"
    Settings = MemorySettings
    delivered: ClassVar[list[tuple[str, str]]] = []

    def deliver(self, events: Sequence[FlagEvent]) -> None:
        self.delivered.extend((self.settings.label, e.id) for e in events)


class ExplodeSettings(CallbackSettings):
    """Settings of the ``explode`` callback."""

    retryable: bool = Field(default=False, description="Raise RetryableError instead of PermanentError.")


class ExplodeCallback(Callback[ExplodeSettings]):
    """Fails every delivery."""

    type_name = "explode"
    Settings = ExplodeSettings

    def deliver(self, events: Sequence[FlagEvent]) -> None:
        if self.settings.retryable:
            raise flagpipe.RetryableError("sink is down")
        raise PermanentError("sink rejected the batch")


class SinkTypes:
    """A plugin registering the two callback types above."""

    @hookimpl
    def flagpipe_register_callbacks(self) -> list[type[Callback[Any]]]:
        return [MemoryCallback, ExplodeCallback]


@pytest.fixture(autouse=True)
def _empty_memory() -> None:
    MemoryCallback.delivered.clear()


# -- flagpipe_register_callbacks ------------------------------------------------------------------


def test_hook_flagpipe_register_callbacks(tmp_path: Path, plugins: PluginHost) -> None:
    with plugins.registered(SinkTypes(), name="sinks") as name:
        assert name == "sinks"
        record = plugins.record_for("sinks")
        assert plugins.callback_type("memory").plugin is record
        assert record.callback_types == ("memory", "explode")
        assert record.hooks == ("flagpipe_register_callbacks",)
        chain = [{"type": "memory", "label": "first"}, "csv"]
        with Flagger(INLINE, dir=tmp_path, plugins=plugins, callbacks=chain) as flagger:
            receipt = flagger.flag({"x": 1})
        assert receipt.delivered == ("memory", "csv")
        assert MemoryCallback.delivered == [("first", receipt.id)]
        # Settings are strict: an unknown key is a config error naming the allowed keys.
        with pytest.raises(flagpipe.ConfigError, match=r"callbacks\[0\]\.colour: unknown key; allowed keys: .*label"):
            Flagger(INLINE, dir=tmp_path, plugins=plugins, callbacks=[{"type": "memory", "colour": "red"}])
    assert "memory" not in plugins.callback_types()
    assert plugins.pm.get_plugin("sinks") is None
    assert all(r.name != "sinks" for r in plugins.records)


def test_hook_flagpipe_register_callbacks_duplicate_type_name(plugins: PluginHost) -> None:
    class OtherCSV(Callback[CallbackSettings]):
        type_name = "csv"

    class Clash:
        @hookimpl
        def flagpipe_register_callbacks(self) -> list[type[Callback[Any]]]:
            return [OtherCSV]

    with plugins.registered(Clash(), name="clash"):
        with pytest.raises(PluginConflictError) as info:
            plugins.callback_types()
        message = str(info.value)
        assert message.startswith("callback type 'csv' is provided by both ")
        assert f"flagpipe {flagpipe.__version__} (flagpipe.plugins.csv)" in message
        assert " clash" in message
        assert message.endswith("; uninstall or block one of them")
    assert set(plugins.callback_types()) == {"csv", "flagpipe", "hf_dataset", "parquet", "sql", "webhook"}


class NoName(Callback[CallbackSettings]):
    """A callback without a ``type_name``."""


class LooseSettings(CallbackSettings):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Loose(Callback[LooseSettings]):
    type_name = "loose"
    Settings = LooseSettings


class PlainModel(Callback[Any]):
    type_name = "plain"
    Settings = BaseModel  # type: ignore[assignment]


@pytest.mark.parametrize(
    ("returned", "error"),
    [
        ("memory", "TypeError: flagpipe_register_callbacks must return a list of classes, got 'memory'"),
        ([object], "TypeError: <class 'object'> is not a subclass of flagpipe.Callback"),
        ([NoName], "ValueError: NoName.type_name '' must match"),
        ([Loose], "ValueError: Loose.Settings must reject unknown keys (extra='forbid')"),
        ([PlainModel], "TypeError: PlainModel.Settings must subclass flagpipe.CallbackSettings"),
    ],
)
def test_hook_flagpipe_register_callbacks_bad_results_fail_the_plugin(
    tmp_path: Path, plugins: PluginHost, returned: Any, error: str
) -> None:
    class Bad:
        @hookimpl
        def flagpipe_register_callbacks(self) -> Any:
            return returned

    with plugins.registered(Bad(), name="bad"):
        types = plugins.callback_types()
        record = plugins.record_for("bad")
        assert record.status == "failed"
        assert (record.error or "").startswith(error)
        assert set(types) == {"csv", "flagpipe", "hf_dataset", "parquet", "sql", "webhook"}
        assert plugins.pm.get_plugin("bad") is None  # a failed plugin is unregistered at once
        with pytest.raises(flagpipe.ConfigError) as info:
            Flagger(INLINE, dir=tmp_path, plugins=plugins, callbacks=["memory"])
        assert "unknown callback type 'memory'; installed types: csv" in str(info.value)
        assert f"(plugins that failed to load: bad: {record.error})" in str(info.value)
    assert all(r.name != "bad" for r in plugins.records)


# -- flagpipe_register_value_kinds ----------------------------------------------------------------


class Vector:
    def __init__(self, *values: float) -> None:
        self.values = values


def _kind(name: str, prefix: str) -> ValueKind:
    def encode(value: object) -> EncodedFile:
        assert isinstance(value, Vector)
        return EncodedFile(f"{prefix}:{value.values}".encode(), ".vec", "text/plain")

    return ValueKind(name, "file", lambda value: isinstance(value, Vector), encode)


def test_hook_flagpipe_register_value_kinds(tmp_path: Path, plugins: PluginHost) -> None:
    class Low:
        @hookimpl
        def flagpipe_register_value_kinds(self) -> list[ValueKind]:
            return [_kind("vector.low", "low")]

    class High:
        @hookimpl(tryfirst=True)
        def flagpipe_register_value_kinds(self) -> list[ValueKind]:
            return [_kind("vector.high", "high")]

    # High is registered first, so only tryfirst can put it ahead of Low.
    with plugins.registered(High(), name="high"), plugins.registered(Low(), name="low"):
        names = [k.name for k in plugins.value_kinds()]
        assert names.index("vector.high") < names.index("vector.low")
        assert plugins.record_for("low").value_kinds == ("vector.low",)
        with Flagger(INLINE, dir=tmp_path, plugins=plugins) as flagger:
            receipt = flagger.flag({"v": Vector(1, 2)})
            (event,) = flagger.latest(1)
        assert receipt.delivered == ("csv",)
        field = event.field("v")
        assert field.kind == "file"
        assert field.file is not None
        assert field.file.media_type == "text/plain"
        assert (tmp_path / field.file.path).read_bytes() == b"high:(1, 2)"
    # Without the plugins, the value cannot be flagged.
    with (
        Flagger(INLINE, dir=tmp_path / "plain", plugins=plugins) as flagger,
        pytest.raises(TypeError, match="install a plugin that registers a value kind"),
    ):
        flagger.flag({"v": Vector(1, 2)})


def test_hook_flagpipe_register_value_kinds_duplicate_and_failure(plugins: PluginHost) -> None:
    class One:
        @hookimpl
        def flagpipe_register_value_kinds(self) -> list[ValueKind]:
            return [_kind("vector", "one")]

    class Two:
        @hookimpl
        def flagpipe_register_value_kinds(self) -> list[ValueKind]:
            return [_kind("vector", "two")]

    class Broken:
        @hookimpl
        def flagpipe_register_callbacks(self) -> list[type[Callback[Any]]]:
            return [MemoryCallback]

        @hookimpl
        def flagpipe_register_value_kinds(self) -> list[ValueKind]:
            raise RuntimeError("no kinds today")

    with plugins.registered(One(), name="one"), plugins.registered(Two(), name="two"):
        conflicts = plugins.conflicts
        assert len(conflicts) == 1
        assert "value kind 'vector' is provided by both" in conflicts[0]
        assert "one" in conflicts[0]
        assert "two" in conflicts[0]
    with plugins.registered(Broken(), name="broken"):
        assert [k.name for k in plugins.value_kinds()] == ["PIL.Image", "numpy.ndarray"]
        record = plugins.record_for("broken")
        assert record.status == "failed"
        assert record.error == "RuntimeError: no kinds today"
        # A failed plugin is unregistered: its callback types do not count either.
        assert "memory" not in plugins.callback_types()


# -- flagpipe_prepare_event -----------------------------------------------------------------------


class Step:
    """A prepare plugin that appends its name to ``metadata['steps']``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[list[str]] = []

    def _prepare(self, event: FlagEvent) -> FlagEvent:
        steps = list(event.metadata.get("steps") or [])  # type: ignore[arg-type]
        self.seen.append(steps)
        return event.model_copy(update={"metadata": {**event.metadata, "steps": [*steps, self.name]}})


class FirstStep(Step):
    @hookimpl(tryfirst=True)
    def flagpipe_prepare_event(self, event: FlagEvent) -> FlagEvent:
        return self._prepare(event)


class PlainStep(Step):
    @hookimpl
    def flagpipe_prepare_event(self, event: FlagEvent) -> FlagEvent:
        return self._prepare(event)


class Redactor:
    @hookimpl
    def flagpipe_prepare_event(self, event: FlagEvent) -> FlagEvent | None:
        if event.username is None:
            return None  # no change
        return event.model_copy(update={"username": "[redacted]"})


def test_hook_flagpipe_prepare_event(tmp_path: Path, plugins: PluginHost) -> None:
    first, second = FirstStep("first"), PlainStep("second")
    # Registered first, called last by default; tryfirst puts it ahead.
    with (
        plugins.registered(first, name="first"),
        plugins.registered(second, name="second"),
        plugins.registered(Redactor(), name="redactor"),
        Flagger(INLINE, dir=tmp_path, plugins=plugins) as flagger,
    ):
        receipt = flagger.flag({"x": 1}, username="alice", metadata={"steps": ["app"]})
        anonymous = flagger.flag({"x": 2})
        stored = flagger.latest(2)
    assert receipt.stored
    assert anonymous.stored
    assert first.seen == [["app"], []]
    assert second.seen == [["app", "first"], ["first"]]  # each gets the event the previous one returned
    assert [e.metadata["steps"] for e in stored] == [["app", "first", "second"], ["first", "second"]]
    assert [e.username for e in stored] == ["[redacted]", None]
    rows = read_rows(tmp_path / "log.csv")
    assert [r["username"] for r in rows] == ["[redacted]", ""]


def test_hook_flagpipe_prepare_event_that_raises_refuses_the_flag(tmp_path: Path, plugins: PluginHost) -> None:
    class Fails:
        @hookimpl
        def flagpipe_prepare_event(self, event: FlagEvent) -> FlagEvent:
            raise RuntimeError("redaction service unavailable")

    with (
        plugins.registered(SinkTypes(), name="sinks"),
        plugins.registered(Fails(), name="fails"),
        Flagger(INLINE, dir=tmp_path, plugins=plugins, callbacks=["memory", "csv"]) as flagger,
    ):
        with pytest.raises(RuntimeError, match="redaction service unavailable"):
            flagger.flag({"x": 1})
        assert flagger.count == 0
        assert flagger.latest(10) == []
    assert MemoryCallback.delivered == []
    assert not (tmp_path / "log.csv").exists()


def test_hook_flagpipe_prepare_event_must_return_an_event(tmp_path: Path, plugins: PluginHost) -> None:
    class Wrong:
        @hookimpl
        def flagpipe_prepare_event(self, event: FlagEvent) -> Any:
            return {"id": event.id}

    with plugins.registered(Wrong(), name="wrong"), Flagger(INLINE, dir=tmp_path, plugins=plugins) as flagger:
        with pytest.raises(TypeError, match="plugin 'wrong': flagpipe_prepare_event must return a FlagEvent or None"):
            flagger.flag({"x": 1})
        assert flagger.count == 0


# -- flagpipe_filter_event ------------------------------------------------------------------------


class Recorder:
    """Remembers the options of the events it was asked about."""

    def __init__(self) -> None:
        self.asked: list[str | None] = []


class DropEverything(Recorder):
    @hookimpl
    def flagpipe_filter_event(self, event: FlagEvent) -> bool:
        self.asked.append(event.option)
        return True


class KeepVip(Recorder):
    @hookimpl
    def flagpipe_filter_event(self, event: FlagEvent) -> bool | None:
        self.asked.append(event.option)
        return False if event.option == "vip" else None


class DropSpam(Recorder):
    @hookimpl(tryfirst=True)
    def flagpipe_filter_event(self, event: FlagEvent) -> bool | None:
        self.asked.append(event.option)
        return True if event.option == "spam" else None


def test_hook_flagpipe_filter_event(tmp_path: Path, plugins: PluginHost) -> None:
    spam, vip = DropSpam(), KeepVip()
    with (
        plugins.registered(spam, name="spam"),
        plugins.registered(vip, name="vip"),
        Flagger(INLINE, dir=tmp_path, plugins=plugins) as flagger,
    ):
        dropped = flagger.flag({"x": 1}, option="spam")
        kept = flagger.flag({"x": 2}, option="vip")
        no_opinion = flagger.flag({"x": 3}, option="other")
        assert flagger.count == 2
        assert [e.option for e in flagger.latest(10)] == ["vip", "other"]
    assert not dropped.stored
    assert dropped.id is None
    assert dropped.reason == "dropped by a flagpipe_filter_event plugin"
    assert kept.stored
    assert no_opinion.stored  # nobody had an opinion: kept
    assert spam.asked == ["spam", "vip", "other"]
    assert vip.asked == ["vip", "other"]  # True from the first plugin stopped the asking
    assert [r["flag"] for r in read_rows(tmp_path / "log.csv")] == ["vip", "other"]


def test_hook_flagpipe_filter_event_false_keeps_and_stops_asking(tmp_path: Path, plugins: PluginHost) -> None:
    drop_all, vip = DropEverything(), KeepVip()
    # drop_all is registered first, so it is asked last: only if KeepVip has no opinion.
    with (
        plugins.registered(drop_all, name="drop-all"),
        plugins.registered(vip, name="vip"),
        Flagger(INLINE, dir=tmp_path, plugins=plugins) as flagger,
    ):
        assert flagger.flag({"x": 1}, option="vip").stored
        assert not flagger.flag({"x": 2}, option="other").stored
    assert vip.asked == ["vip", "other"]
    assert drop_all.asked == ["other"]


def test_hook_flagpipe_filter_event_that_raises_refuses_the_flag(tmp_path: Path, plugins: PluginHost) -> None:
    class Fails:
        @hookimpl
        def flagpipe_filter_event(self, event: FlagEvent) -> bool:
            raise RuntimeError("filter crashed")

    with plugins.registered(Fails(), name="fails"), Flagger(INLINE, dir=tmp_path, plugins=plugins) as flagger:
        with pytest.raises(RuntimeError, match="filter crashed"):
            flagger.flag({"x": 1})
        assert flagger.count == 0
        assert flagger.latest(1) == []


# -- flagpipe_event_delivered ---------------------------------------------------------------------


class DeliveredLog:
    def __init__(self) -> None:
        self.calls: list[tuple[list[str], str, int]] = []

    @hookimpl
    def flagpipe_event_delivered(self, events: Sequence[FlagEvent], callback_name: str, attempt: int) -> None:
        self.calls.append(([e.id for e in events], callback_name, attempt))


class OnlyNames:
    """Takes a subset of the hook's arguments (pluggy's opt-in rule)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    @hookimpl
    def flagpipe_event_delivered(self, callback_name: str) -> None:
        self.names.append(callback_name)


class RaisingObserver:
    @hookimpl
    def flagpipe_event_delivered(self, events: Sequence[FlagEvent]) -> None:
        raise RuntimeError("metrics backend down")

    @hookimpl
    def flagpipe_delivery_failed(self, error: BaseException) -> None:
        raise RuntimeError("alerting backend down")


def test_hook_flagpipe_event_delivered(tmp_path: Path, plugins: PluginHost, caplog: pytest.LogCaptureFixture) -> None:
    log, names = DeliveredLog(), OnlyNames()
    with (
        caplog.at_level(logging.ERROR, logger="flagpipe.plugins"),
        plugins.registered(SinkTypes(), name="sinks"),
        plugins.registered(log, name="log"),
        plugins.registered(names, name="names"),
        plugins.registered(RaisingObserver(), name="raiser"),  # registered last: called first
        Flagger(INLINE, dir=tmp_path, plugins=plugins, callbacks=["memory", "csv"]) as flagger,
    ):
        receipt = flagger.flag({"x": 1})
    assert receipt.delivered == ("memory", "csv")
    assert not receipt.failed
    assert log.calls == [([receipt.id], "memory", 1), ([receipt.id], "csv", 1)]
    assert names.names == ["memory", "csv"]
    assert MemoryCallback.delivered == [("memory", receipt.id)]
    assert len(read_rows(tmp_path / "log.csv")) == 1
    errors = [r for r in caplog.records if r.name == "flagpipe.plugins"]
    assert [r.getMessage() for r in errors] == [
        "flagpipe plugin raiser raised in flagpipe_event_delivered; ignored",
        "flagpipe plugin raiser raised in flagpipe_event_delivered; ignored",
    ]
    assert all(r.exc_info and "metrics backend down" in str(r.exc_info[1]) for r in errors)


# -- flagpipe_delivery_failed ---------------------------------------------------------------------


class FailureLog:
    def __init__(self) -> None:
        self.calls: list[tuple[list[str], str, str, int, bool]] = []

    @hookimpl
    def flagpipe_delivery_failed(
        self, events: Sequence[FlagEvent], callback_name: str, error: BaseException, attempt: int, final: bool
    ) -> None:
        self.calls.append(([e.id for e in events], callback_name, str(error), attempt, final))


def test_hook_flagpipe_delivery_failed(tmp_path: Path, plugins: PluginHost, caplog: pytest.LogCaptureFixture) -> None:
    failures, delivered = FailureLog(), DeliveredLog()
    with (
        caplog.at_level(logging.ERROR, logger="flagpipe.plugins"),
        plugins.registered(SinkTypes(), name="sinks"),
        plugins.registered(failures, name="failures"),
        plugins.registered(delivered, name="delivered"),
        plugins.registered(RaisingObserver(), name="raiser"),
        Flagger(INLINE, dir=tmp_path, plugins=plugins, callbacks=["explode", "memory"]) as flagger,
    ):
        receipt = flagger.flag({"x": 1})
    assert receipt.stored  # a failed delivery never un-accepts a flag
    assert receipt.failed == {"explode": "sink rejected the batch"}
    assert receipt.delivered == ("memory",)  # the other callbacks carry on
    assert failures.calls == [([receipt.id], "explode", "sink rejected the batch", 1, True)]
    assert delivered.calls == [([receipt.id], "memory", 1)]
    assert "flagpipe plugin raiser raised in flagpipe_delivery_failed; ignored" in [
        r.getMessage() for r in caplog.records
    ]


@pytest.mark.parametrize(("attempts", "final"), [(1, True), (3, False)])
def test_hook_flagpipe_delivery_failed_retryable_is_final_only_on_the_last_attempt(
    tmp_path: Path, plugins: PluginHost, attempts: int, final: bool
) -> None:
    failures = FailureLog()
    config = {
        "delivery": {"mode": "inline", "grace": 0, "retry": {"attempts": attempts}},
        "callbacks": [{"type": "explode", "retryable": True}],
    }
    with plugins.registered(SinkTypes(), name="sinks"), plugins.registered(failures, name="failures"):
        with Flagger(config, dir=tmp_path, plugins=plugins) as flagger:
            receipt = flagger.flag({"x": 1})
        assert receipt.stored
        assert receipt.failed == {"explode": "sink is down"}
    assert failures.calls[0] == ([receipt.id], "explode", "sink is down", 1, final)


# -- flagpipe_register_commands -------------------------------------------------------------------


class Hello:
    @hookimpl
    def flagpipe_register_commands(self, cli: click.Group) -> None:
        @cli.command("hello")
        @click.argument("name")
        def hello(name: str) -> None:
            """Greet NAME."""
            click.echo(f"hello {name}")


class Squatter:
    """Tries to take built-in commands' names and another plugin's, and adds two of its own."""

    @hookimpl
    def flagpipe_register_commands(self, cli: click.Group) -> None:
        cli.add_command(click.Command("check", callback=lambda: click.echo("squatted")))
        cli.add_command(click.Command("hello", callback=lambda: click.echo("squatted")))

        @cli.group("show")
        def show() -> None:
            """Not the built-in show."""

        @cli.command
        def squat() -> None:
            """A command declared with the bare decorator."""
            click.echo("squatting")


class BrokenCommands:
    @hookimpl
    def flagpipe_register_commands(self, cli: click.Group) -> None:
        raise RuntimeError("cannot add commands")


def test_hook_flagpipe_register_commands(
    plugins: PluginHost, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "commands", dict(cli.commands))  # this test adds commands to the group itself
    builtin_check, builtin_show = cli.commands["check"], cli.commands["show"]
    with (
        caplog.at_level(logging.WARNING, logger="flagpipe.plugins"),
        plugins.registered(Squatter(), name="squatter"),  # registered first: called after Hello
        plugins.registered(BrokenCommands(), name="broken"),
        plugins.registered(Hello(), name="hello-plugin"),
    ):
        add_plugin_commands(plugins, cli)
    runner = CliRunner()
    result = runner.invoke(cli, ["hello", "world"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "hello world\n"
    assert runner.invoke(cli, ["squat"]).stdout == "squatting\n"
    assert cli.commands["check"] is builtin_check
    assert cli.commands["show"] is builtin_show
    assert "squatted" not in runner.invoke(cli, ["check", "--help"]).stdout
    assert "hello" in runner.invoke(cli, ["--help"]).stdout
    messages = [r.getMessage() for r in caplog.records]
    assert "flagpipe plugin squatter: command 'check' is already taken; ignored" in messages
    assert "flagpipe plugin squatter: command 'hello' is already taken; ignored" in messages
    assert "flagpipe plugin squatter: command 'show' is already taken; ignored" in messages
    assert "flagpipe plugin broken raised in flagpipe_register_commands" in messages


# -- flagpipe_open_flag_source ----------------------------------------------------------------------


class ListSource(flagpipe.FlagSource):
    """Flags held in a list; records the filters it is asked with (a plugin's own storage)."""

    def __init__(self, events: list[FlagEvent], directory: Path, options: dict[str, Any]) -> None:
        self._events = events
        self.directory = directory
        self.options = options
        self.asked: list[flagpipe.FlagFilter | None] = []
        self.closed = False

    def events(self, flag_filter: flagpipe.FlagFilter | None = None) -> Iterator[FlagEvent]:
        self.asked.append(flag_filter)
        return (e for e in self._events if flag_filter is None or flag_filter.matches(e))

    def close(self) -> None:
        self.closed = True


class ListSources:
    """Opens ``testmem://`` sources; no opinion on any other."""

    def __init__(self, events: list[FlagEvent], directory: Path) -> None:
        self.events, self.directory = events, directory
        self.opened: list[tuple[str, ListSource]] = []

    @hookimpl
    def flagpipe_open_flag_source(self, source: str, storage_options: Mapping[str, Any]) -> ListSource | None:
        if not source.startswith("testmem://"):
            return None
        opened = ListSource(self.events, self.directory, dict(storage_options))
        self.opened.append((source, opened))
        return opened


class OnlySource:
    """Takes a subset of the hook's arguments, and says "not mine" to everything."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    @hookimpl(tryfirst=True)
    def flagpipe_open_flag_source(self, source: str) -> None:
        self.seen.append(source)


def test_hook_flagpipe_open_flag_source(tmp_path: Path, plugins: PluginHost) -> None:
    with Flagger({**INLINE, "app": "demo"}, dir=tmp_path, plugins=plugins) as flagger:
        for n in range(4):
            flagger.flag({"x": n, "photo": None}, option=("wrong", "other")[n % 2], metadata={"n": n})
        events = flagger.latest(10)
    sources, first = ListSources(events, tmp_path), OnlySource()
    with plugins.registered(sources, name="memory"), plugins.registered(first, name="first"):
        frame = flagpipe.read_flags("testmem://flags", plugins=plugins, storage_options={"token": "t"})
        only = flagpipe.read_flags("testmem://wrong", plugins=plugins, options=["wrong"], apps=["demo"])
        with pytest.raises(ValueError, match=r"cannot read flags from nothing:// sources: no installed plugin"):
            flagpipe.read_flags("nothing://here", plugins=plugins)
    pd = pytest.importorskip("pandas")
    pd.testing.assert_frame_equal(frame, flagpipe.read_flags(tmp_path))
    assert only["x"].tolist() == [0, 2]
    assert first.seen == ["testmem://flags", "testmem://wrong", "nothing://here"]  # asked first, no opinion
    (_, whole), (_, wrong) = sources.opened
    assert whole.options == {"token": "t"}  # storage_options reach the plugin unchanged
    assert whole.asked == [flagpipe.FlagFilter()]
    assert wrong.asked == [flagpipe.FlagFilter(options=("wrong",), apps=("demo",))]  # the filter is the source's
    assert whole.closed and wrong.closed
    assert plugins.open_flag_source("testmem://x") is None  # unregistered: nobody reads it


def test_hook_flagpipe_open_flag_source_bad_results_and_errors(tmp_path: Path, plugins: PluginHost) -> None:
    class WrongType:
        @hookimpl
        def flagpipe_open_flag_source(self, source: str) -> object:
            return ["not", "a", "source"]

    class Raises:
        @hookimpl
        def flagpipe_open_flag_source(self, source: str) -> None:
            raise ValueError(f"cannot open {source}: no such bucket")

    with (
        plugins.registered(WrongType(), name="wrong-type"),
        pytest.raises(PluginError, match="plugin 'wrong-type': flagpipe_open_flag_source must return a FlagSource"),
    ):
        flagpipe.read_flags("testmem://x", plugins=plugins)
    with plugins.registered(Raises(), name="raises"), pytest.raises(ValueError, match="no such bucket"):
        flagpipe.read_flags("s3://bucket/flags/", plugins=plugins)


# -- the meta-test --------------------------------------------------------------------------------


def _hook_names() -> list[str]:
    return sorted(
        name
        for name in dir(hookspecs)
        if name.startswith(f"{hookspecs.PROJECT_NAME}_")
        and hasattr(getattr(hookspecs, name), f"{hookspecs.PROJECT_NAME}_spec")
    )


def _test_names() -> set[str]:
    names: set[str] = set()
    for path in Path(__file__).parent.glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names.update(n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))
    return names


def test_hook_specs_are_the_expected_ones() -> None:
    """Guards the meta-test: it must find every spec, so it cannot pass by finding none."""
    assert _hook_names() == sorted(hook.name for hook in _spec_callers())
    assert len(_hook_names()) >= 7


def _spec_callers() -> list[Any]:
    plugins = create_plugin_host(PluginPolicy(autoload=False), load_builtins=False)
    return [caller for _, caller in vars(plugins.pm.hook).items() if caller.has_spec()]


@pytest.mark.parametrize("hook", _hook_names())
def test_plugin_hooks_have_tests(hook: str) -> None:
    """Every hook in hookspecs.py has a ``test_hook_<name>`` in tests/core/host (datasette's rule)."""
    assert f"test_hook_{hook}" in _test_names(), f"no test_hook_{hook} in {Path(__file__).parent}"


def test_plugins_registered_by_hand_are_validated(plugins: PluginHost) -> None:
    class WrongArgument:
        @hookimpl
        def flagpipe_filter_event(self, event: FlagEvent, verdict: bool) -> bool:
            return verdict

    with pytest.raises(PluginError, match=r"(?s)plugin 'wrong' cannot be registered: .*\{'verdict'\}"):
        plugins.register(WrongArgument(), name="wrong")
    assert plugins.pm.get_plugin("wrong") is None
    name = plugins.register(Hello(), name="twice")
    with pytest.raises(PluginError):
        plugins.register(Hello(), name="twice")
    plugins.unregister(name)
    with pytest.raises(PluginError, match="no plugin named 'twice'"):
        plugins.unregister(name)
