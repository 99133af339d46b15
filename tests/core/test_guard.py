"""Hostile callbacks: calls that never return, SystemExit and KeyboardInterrupt from deliver()."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

import flagpipe
from flagpipe import Flagger
from flagpipe.core.callback import Callback, CallbackSettings
from flagpipe.core.guard import CallbackAbortedError, CallbackHungError, CallGuard

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from flagpipe.core.host import PluginHost

#: Released at the end of each test, so hung calls end and their threads go.
RELEASE = threading.Event()


class HostileSettings(CallbackSettings):
    """What the hostile callback does, and where."""

    hang_in: str = "nothing"
    raise_in_deliver: str = "nothing"


class Hostile(Callback[HostileSettings]):
    """Hangs in the method it is told to, or raises SystemExit / KeyboardInterrupt from deliver()."""

    type_name = "hostile"
    Settings = HostileSettings
    delivered: ClassVar[list[str]] = []

    def _maybe_hang(self, method: str) -> None:
        if self.settings.hang_in == method:
            RELEASE.wait(120)

    def deliver(self, events: Sequence[flagpipe.FlagEvent]) -> None:
        self._maybe_hang("deliver")
        if self.settings.raise_in_deliver == "SystemExit":
            raise SystemExit(3)
        if self.settings.raise_in_deliver == "KeyboardInterrupt":
            raise KeyboardInterrupt
        type(self).delivered.extend(e.id for e in events)

    def healthcheck(self) -> str | None:
        self._maybe_hang("healthcheck")
        return "fine"

    def close(self) -> None:
        self._maybe_hang("close")


class _Plugin:
    @flagpipe.hookimpl
    def flagpipe_register_callbacks(self) -> list[type[Callback[Any]]]:
        return [Hostile]


@pytest.fixture
def hostile(plugins: PluginHost) -> Iterator[PluginHost]:
    RELEASE.clear()
    Hostile.delivered.clear()
    with plugins.registered(_Plugin(), name="test-hostile"):
        yield plugins
    RELEASE.set()


def config(mode: str = "inline", attempts: int = 2, **settings: str) -> dict[str, Any]:
    retry = {"attempts": attempts, "initial_delay": 0.01 if attempts == 2 else 60, "max_delay": 60}
    return {
        "callbacks": ["csv", {"type": "hostile", **settings}],
        "delivery": {"mode": mode, "call_timeout": 0.3, "grace": 1, "retry": retry},
    }


def test_a_deliver_that_never_returns_is_bounded_and_leaves_the_flag_pending(tmp_path: Any, hostile: Any) -> None:
    with Flagger(config(attempts=50, hang_in="deliver"), dir=tmp_path, plugins=hostile) as flagger:
        receipt = flagger.flag({"n": 1})
        assert receipt.stored and receipt.delivered == ("csv",)
        assert "hostile" in receipt.pending
        assert "'hostile'" in receipt.failed["hostile"] and "did not return within 0.3s" in receipt.failed["hostile"]
        second = flagger.flag({"n": 2})  # not held up: the lane backs off, the other callback delivers
        assert "hostile" in second.pending and second.delivered == ("csv",)
        assert flagger.journal is not None
        status = {s.name: s for s in flagger.journal.status()}
        assert status["hostile"].pending == 2 and status["csv"].pending == 0


def test_close_that_never_returns_does_not_hang_close(tmp_path: Any, hostile: Any, caplog: Any) -> None:
    flagger = Flagger(config(hang_in="close"), dir=tmp_path, plugins=hostile)
    flagger.flag({"n": 1})
    with caplog.at_level("ERROR", logger="flagpipe"):
        flagger.close()
    assert any("closing callback hostile failed" in r.getMessage() for r in caplog.records)
    assert any(
        "close() did not return" in r.getMessage() or "close() did not return" in str(r.exc_info)
        for r in caplog.records
    )


@pytest.mark.parametrize("raised", ["SystemExit", "KeyboardInterrupt"])
@pytest.mark.parametrize("mode", ["inline", "background"])
def test_systemexit_or_keyboardinterrupt_in_deliver_is_that_callbacks_failure(
    tmp_path: Any, hostile: Any, raised: str, mode: str
) -> None:
    with Flagger(config(mode, raise_in_deliver=raised), dir=tmp_path, plugins=hostile) as flagger:
        receipts = [flagger.flag({"n": n}) for n in range(3)]
        journal = flagger.journal
        assert journal is not None
        for _ in range(20):  # bounded: two attempts each, then dead letters
            flagger.drain()
            if len(journal.dead_letters("hostile")) == 3:
                break
        dead = journal.dead_letters("hostile")
        assert {d.event_id for d in dead} == {r.id for r in receipts}  # retried, then dead letters
        assert all(f"deliver() raised {raised}" in d.error for d in dead)
        assert journal.lane("hostile").last_error is not None
        assert journal.dead_letters("csv") == [] and journal.status()[0].delivered == 3  # csv got every flag
    if mode == "inline":
        assert "hostile" in receipts[0].failed


def test_the_guard_names_the_callback_and_recovers_once_the_call_returns() -> None:
    guard = CallGuard("slow-sink", 0.05)
    gate = threading.Event()
    with pytest.raises(CallbackHungError, match=r"callback 'slow-sink': deliver\(\) did not return within 0.05s"):
        guard.call("deliver()", gate.wait, 60)
    with pytest.raises(CallbackHungError, match=r"deliver\(\) has not returned.*close\(\) was not called"):
        guard.call("close()", lambda: None)
    gate.set()
    for _ in range(1000):  # bounded: the hung call returns as soon as the gate opens
        try:
            assert guard.call("close()", lambda: "closed") == "closed"
            break
        except CallbackHungError:
            threading.Event().wait(0.01)
    with pytest.raises(CallbackAbortedError, match=r"raised SystemExit\(4\)"):
        guard.call("deliver()", sys.exit, 4)
    with pytest.raises(ValueError, match="plain"):
        guard.call("deliver()", _raise, ValueError("plain"))


def _raise(exc: BaseException) -> None:
    raise exc


class _ThreadSettings(CallbackSettings):
    """No settings."""


class _Local(Callback[_ThreadSettings]):
    """Records the thread each call runs on; opts out of the guard for ``deliver``."""

    type_name = "local"
    Settings = _ThreadSettings
    runs_in_caller = True
    threads: ClassVar[dict[str, set[int]]] = {}

    def setup(self, schema: flagpipe.FlagSchema, directory: Any) -> None:
        type(self).threads.setdefault(f"{self.type_name}.setup", set()).add(threading.get_ident())

    def deliver(self, events: Sequence[flagpipe.FlagEvent]) -> None:
        type(self).threads.setdefault(f"{self.type_name}.deliver", set()).add(threading.get_ident())


class _Remote(_Local):
    """The same, keeping the guard (the default)."""

    type_name = "remote"
    runs_in_caller = False


class _ThreadPlugin:
    @flagpipe.hookimpl
    def flagpipe_register_callbacks(self) -> list[type[Callback[Any]]]:
        return [_Local, _Remote]


def test_only_a_callback_that_opts_in_is_delivered_on_the_callers_thread(tmp_path: Any, plugins: PluginHost) -> None:
    _Local.threads.clear()
    config = {"callbacks": ["local", "remote"], "delivery": {"mode": "inline"}}
    with plugins.registered(_ThreadPlugin(), name="test-threads"), Flagger(config, dir=tmp_path, plugins=plugins) as f:
        receipts = [f.flag({"n": n}) for n in range(3)]
        f.flag({"other": "fields"})  # a new field set: setup again
    assert all(r.delivered == ("local", "remote") for r in receipts)
    me = threading.get_ident()
    assert _Local.threads["local.deliver"] == {me}
    assert me not in _Local.threads["remote.deliver"]
    assert me not in _Local.threads["local.setup"]  # setup keeps the guard even for a callback that opts in
    assert me not in _Local.threads["remote.setup"]


def test_the_csv_callback_opts_in_and_third_party_callbacks_do_not() -> None:
    from flagpipe.plugins.csv import CSVCallback

    assert CSVCallback.runs_in_caller is True
    assert Callback.runs_in_caller is False and Hostile.runs_in_caller is False


def test_call_here_runs_on_the_callers_thread_with_the_guards_checks_and_errors() -> None:
    guard = CallGuard("local-sink", 0.05)
    assert guard.call_here("deliver()", threading.get_ident) == threading.get_ident()
    with pytest.raises(CallbackAbortedError, match=r"callback 'local-sink': deliver\(\) raised SystemExit\(4\)"):
        guard.call_here("deliver()", sys.exit, 4)
    with pytest.raises(ValueError, match="plain"):
        guard.call_here("deliver()", _raise, ValueError("plain"))
    with pytest.raises(KeyboardInterrupt):  # on the main thread it may be a real Ctrl-C: it goes through
        guard.call_here("deliver()", _raise, KeyboardInterrupt())
    errors: list[BaseException] = []

    def elsewhere() -> None:  # on another thread it cannot be a signal: the callback's failure
        try:
            guard.call_here("deliver()", _raise, KeyboardInterrupt())
        except BaseException as exc:  # noqa: BLE001 - checked below
            errors.append(exc)

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert len(errors) == 1 and isinstance(errors[0], CallbackAbortedError)
    gate = threading.Event()
    with pytest.raises(CallbackHungError):
        guard.call("setup()", gate.wait, 60)
    with pytest.raises(CallbackHungError, match=r"setup\(\) has not returned.*deliver\(\) was not called"):
        guard.call_here("deliver()", lambda: None)  # not beside a hung call to the same callback
    gate.set()


def test_healthcheck_that_never_returns_is_reported_by_check(tmp_path: Any) -> None:
    from flagpipe.cli.setup_commands import _health
    from flagpipe.config.loader import resolve_config
    from flagpipe.core.host import create_plugin_host
    from flagpipe.core.policy import PluginPolicy

    plugins = create_plugin_host(PluginPolicy(autoload=False))
    RELEASE.clear()
    try:
        with plugins.registered(_Plugin(), name="test-hostile"):
            loaded = resolve_config(config(hang_in="healthcheck"), overrides={"dir": str(tmp_path)}, plugins=plugins)
            ok, message = _health(loaded.chain[1], 0.2)
    finally:
        RELEASE.set()
    assert not ok and "'hostile'" in message and "healthcheck() has not returned" in message


HUNG_AT_EXIT = """
import sys, threading, flagpipe
from flagpipe.core.callback import Callback, CallbackSettings

class Stuck(Callback[CallbackSettings]):
    type_name = "stuck"
    Settings = CallbackSettings
    def deliver(self, events):
        threading.Event().wait()
    def close(self):
        threading.Event().wait()

class P:
    @flagpipe.hookimpl
    def flagpipe_register_callbacks(self):
        return [Stuck]

from flagpipe.core.host import create_plugin_host
from flagpipe.core.policy import PluginPolicy
plugins = create_plugin_host(PluginPolicy(autoload=False))
plugins.register(P(), "stuck-plugin")
flagger = flagpipe.Flagger({"callbacks": ["stuck"], "delivery": {"call_timeout": 0.5, "grace": 1, "mode": MODE}},
                           dir=sys.argv[1], plugins=plugins)
receipt = flagger.flag({"n": 1})
print("stored", receipt.stored, flush=True)
if sys.argv[2] == "wait":
    threading.Event().wait()  # until Ctrl-C
"""


@pytest.mark.parametrize("mode", ["inline", "background"])
def test_interpreter_exit_is_not_hung_by_a_stuck_callback(tmp_path: Any, mode: str) -> None:
    script = HUNG_AT_EXIT.replace("MODE", repr(mode))
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), "exit"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "stored True" in done.stdout
    assert "callback 'stuck'" in done.stderr  # the log names the plugin
    with Flagger({"callbacks": ["csv"], "mode": "manual"}, dir=tmp_path) as flagger:
        assert flagger.journal is not None
        assert {s.name: s.pending for s in flagger.journal.status()}["stuck"] == 1  # left pending


def test_a_real_ctrl_c_still_stops_the_program(tmp_path: Any) -> None:
    script = textwrap.dedent(HUNG_AT_EXIT).replace("MODE", repr("inline"))
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path), "wait"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "stored True"
    os.kill(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert "KeyboardInterrupt" in stderr
