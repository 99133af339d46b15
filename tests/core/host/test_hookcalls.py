"""Hooks are called through pluggy: per-plugin callers, their cache, monitoring, and wrappers."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from flagpipe import FlagEvent, Flagger, hookimpl
from flagpipe.core import loading
from flagpipe.core.host import PluginError, create_plugin_host
from flagpipe.core.policy import PluginPolicy

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator
    from pathlib import Path

    from flagpipe.core.host import PluginHost

INLINE: dict[str, Any] = {"delivery": {"mode": "inline"}}


class Tag:
    def __init__(self, name: str) -> None:
        self.name = name

    @hookimpl
    def flagpipe_prepare_event(self, event: FlagEvent) -> FlagEvent:
        tags = [*event.metadata.get("tags", []), self.name]  # type: ignore[misc]
        return event.model_copy(update={"metadata": {**event.metadata, "tags": tags}})


class DropAll:
    @hookimpl
    def flagpipe_filter_event(self) -> bool:
        return True


def _monitor(plugins: PluginHost) -> list[tuple[str, list[str]]]:
    calls: list[tuple[str, list[str]]] = []

    def before(hook_name: str, impls: list[Any], kwargs: dict[str, Any]) -> None:
        calls.append((hook_name, [i.plugin_name for i in impls]))

    plugins.pm.add_hookcall_monitoring(before, lambda *_: None)
    return calls


def test_each_implementation_is_called_through_pluggy(tmp_path: Path, plugins: PluginHost) -> None:
    calls = _monitor(plugins)
    with (
        plugins.registered(Tag("a"), name="a"),
        plugins.registered(Tag("b"), name="b"),
        Flagger(INLINE, dir=tmp_path, plugins=plugins) as flagger,
    ):
        flagger.flag({"x": 1})
        (event,) = flagger.latest(1)
    assert event.metadata["tags"] == ["b", "a"]  # registered last, called first
    prepare = [names for hook, names in calls if hook == "flagpipe_prepare_event"]
    assert prepare == [["b"], ["a"]]  # one pluggy call per plugin, each reaching only that plugin


def test_hooks_nobody_implements_are_not_called(tmp_path: Path, plugins: PluginHost) -> None:
    calls = _monitor(plugins)
    with Flagger(INLINE, dir=tmp_path, plugins=plugins) as flagger:
        assert flagger.flag({"x": 1}).stored
    hooks = {hook for hook, _ in calls}
    assert not hooks & {"flagpipe_prepare_event", "flagpipe_filter_event", "flagpipe_event_delivered"}


def test_per_plugin_callers_are_cached_until_the_plugins_change(plugins: PluginHost) -> None:
    calls = plugins._calls
    assert calls.each("flagpipe_prepare_event") == ()
    first, second = Tag("first"), Tag("second")
    with plugins.registered(first, name="first"):
        cached = calls.each("flagpipe_prepare_event")
        assert calls.each("flagpipe_prepare_event") is cached
        assert [name for name, _ in cached] == ["first"]
        with plugins.registered(second, name="second"):
            assert [name for name, _ in calls.each("flagpipe_prepare_event")] == ["second", "first"]
            assert calls.implemented("flagpipe_prepare_event")
        assert [name for name, _ in calls.each("flagpipe_prepare_event")] == ["first"]
    assert calls.each("flagpipe_prepare_event") == ()
    assert not calls.implemented("flagpipe_prepare_event")


# -- wrappers -------------------------------------------------------------------------------------


class NewStyleWrapper:
    @hookimpl(wrapper=True)
    def flagpipe_prepare_event(self, event: FlagEvent) -> Generator[None, Any, Any]:
        return (yield)


class OldStyleWrapper:
    @hookimpl(hookwrapper=True)
    def flagpipe_event_delivered(self, callback_name: str) -> Generator[None, Any, None]:
        yield


@pytest.mark.parametrize(
    ("plugin", "hook", "kind"),
    [
        (NewStyleWrapper(), "flagpipe_prepare_event", "wrapper=True"),
        (OldStyleWrapper(), "flagpipe_event_delivered", "hookwrapper=True"),
    ],
)
def test_wrapper_on_a_hook_called_per_plugin_is_refused(
    plugins: PluginHost, plugin: object, hook: str, kind: str
) -> None:
    with pytest.raises(PluginError) as info:
        plugins.register(plugin, name="wrapping")
    message = str(info.value)
    assert message.startswith(f"plugin 'wrapping' declares a wrapper on {hook} ({kind}); ")
    assert "wrappers are supported only on flagpipe_filter_event" in message
    assert plugins.pm.get_plugin("wrapping") is None


def test_installed_plugin_with_a_wrapper_is_recorded_as_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    dist = SimpleNamespace(name="flagpipe-wrapping", version="1.0")
    point = SimpleNamespace(name="wrapping", value="wrapping", dist=dist, load=NewStyleWrapper)
    monkeypatch.setattr(loading, "entry_points", lambda: [point])
    plugins = create_plugin_host(PluginPolicy(), load_builtins=False)
    record = plugins.record_for("wrapping")
    assert record.status == "failed"
    assert "declares a wrapper on flagpipe_prepare_event (wrapper=True)" in (record.error or "")
    assert plugins.pm.get_plugin("wrapping") is None


class KeepAnyway:
    """A new-style wrapper that overrides the filter's verdict for ``vip`` flags."""

    @hookimpl(wrapper=True)
    def flagpipe_filter_event(self, event: FlagEvent) -> Generator[None, Any, Any]:
        verdict = yield
        return False if event.option == "vip" else verdict


class CountFilterCalls:
    """An old-style hook wrapper that counts the filter calls it wraps."""

    def __init__(self) -> None:
        self.calls = 0

    @hookimpl(hookwrapper=True)
    def flagpipe_filter_event(self) -> Iterator[None]:
        self.calls += 1
        yield


def test_wrappers_on_the_filter_hook_are_supported(tmp_path: Path, plugins: PluginHost) -> None:
    counter = CountFilterCalls()
    with (
        plugins.registered(DropAll(), name="drop-all"),
        plugins.registered(KeepAnyway(), name="keep-vip"),
        plugins.registered(counter, name="counter"),
        Flagger(INLINE, dir=tmp_path, plugins=plugins) as flagger,
    ):
        assert flagger.flag({"x": 1}, option="vip").stored
        assert not flagger.flag({"x": 2}, option="other").stored
    assert counter.calls == 2
