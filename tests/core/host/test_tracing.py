"""``FLAGPIPE_TRACE_PLUGINS=1`` prints every hook call, its plugin and its result to stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from flagpipe import FlagEvent, Flagger, hookimpl
from flagpipe.core.host import create_plugin_host
from flagpipe.core.policy import PluginPolicy

if TYPE_CHECKING:
    from pathlib import Path


class Tagger:
    @hookimpl
    def flagpipe_prepare_event(self, event: FlagEvent) -> FlagEvent:
        return event.model_copy(update={"metadata": {"tagged": True}})

    @hookimpl
    def flagpipe_filter_event(self, event: FlagEvent) -> bool | None:
        return None

    @hookimpl
    def flagpipe_event_delivered(self, callback_name: str) -> None:
        pass


def test_trace_prints_hook_calls_to_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FLAGPIPE_TRACE_PLUGINS", "1")
    plugins = create_plugin_host(PluginPolicy(autoload=False))
    with (
        plugins.registered(Tagger(), name="tagger"),
        Flagger({"delivery": {"mode": "inline"}}, dir=tmp_path, plugins=plugins) as flagger,
    ):
        receipt = flagger.flag({"x": 1})
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err
    # Registration hooks of the built-ins, with their results.
    assert "flagpipe trace: flagpipe.plugins.csv.flagpipe_register_callbacks({})" in err
    assert "flagpipe trace: flagpipe.plugins.csv.flagpipe_register_callbacks -> [<class" in err
    # The event hooks of the plugin, with the arguments it takes.
    assert "flagpipe trace: tagger.flagpipe_prepare_event({'event': FlagEvent(" in err
    assert f"id='{receipt.id}'" in err
    assert "flagpipe trace: tagger.flagpipe_event_delivered({'events': [" in err
    assert "'callback_name': 'csv'" in err
    # The firstresult filter goes through pluggy's own tracing.
    assert "flagpipe_filter_event [hook]" in err


@pytest.mark.parametrize("value", [None, "0", ""])
def test_no_trace_unless_switched_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str | None
) -> None:
    if value is not None:
        monkeypatch.setenv("FLAGPIPE_TRACE_PLUGINS", value)
    plugins = create_plugin_host(PluginPolicy(autoload=False))
    with (
        plugins.registered(Tagger(), name="tagger"),
        Flagger({"delivery": {"mode": "inline"}}, dir=tmp_path, plugins=plugins) as flagger,
    ):
        flagger.flag({"x": 1})
    assert "flagpipe trace" not in capsys.readouterr().err


def test_trace_in_a_subprocess(plugin_site: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAGPIPE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(plugin_site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["FLAGPIPE_TRACE_PLUGINS"] = "1"
    command = [sys.executable, "-m", "flagpipe", "--block-plugin", "flagpipe-testplugins-broken", "fptest-hello"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello from fptest-good\n"
    assert "flagpipe trace: fptest-good.flagpipe_register_callbacks({})" in result.stderr
    assert "flagpipe trace: fptest-good.flagpipe_register_callbacks -> [<class 'fptest_good.SinkCallback'>]" in (
        result.stderr
    )
    assert "flagpipe trace: fptest-good.flagpipe_register_commands({'cli': " in result.stderr
