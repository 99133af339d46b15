"""The plugin-author kit: its fixtures, and a contract that fails a callback breaking its rules."""

from __future__ import annotations

import textwrap
from importlib import metadata
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import Field, SecretStr

import flagpipe
from flagpipe.testing import CallbackContract, CallbackPlugin

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from flagpipe.core.host import PluginHost

pytest_plugins = ["pytester"]  # the kit itself is opted into by tests/conftest.py


class MemorySettings(flagpipe.CallbackSettings):
    bucket: str = Field(description="Where the events go.")
    token: SecretStr = Field(description="A credential.")


#: bucket -> ids stored, shared by every MemoryCallback (a stand-in for a remote sink).
BUCKETS: dict[str, list[str]] = {}


class MemoryCallback(flagpipe.Callback[MemorySettings]):
    """Stores ids in :data:`BUCKETS`, skipping ids it already has."""

    type_name = "memory"
    Settings = MemorySettings
    failure: flagpipe.DeliveryError | None = None

    def deliver(self, events: Sequence[flagpipe.FlagEvent]) -> None:
        if self.failure is not None:
            raise self.failure
        stored = BUCKETS.setdefault(self.settings.bucket, [])
        stored.extend(e.id for e in events if e.id not in stored)


class TestMemoryContract(CallbackContract):
    """A callback that implements every hook runs every contract test."""

    callback_class = MemoryCallback

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        return {"bucket": str(tmp_path), "token": "s3cr3t-value"}

    def stored_ids(self, directory: Path) -> list[str]:
        return BUCKETS.get(str(self.tmp_path), [])

    def fail_retryably(self, callback: flagpipe.Callback[Any]) -> None:
        self.monkeypatch.setattr(callback, "failure", flagpipe.RetryableError("down", retry_after=1))

    def fail_permanently(self, callback: flagpipe.Callback[Any]) -> None:
        self.monkeypatch.setattr(callback, "failure", flagpipe.PermanentError("rejected"))


def test_make_flagger_wires_one_callback_delivering_inline(make_flagger: Any, flagging_dir: Path) -> None:
    flagger = make_flagger(MemoryCallback, {"bucket": "fixture", "token": "x"}, options=["wrong"])
    receipt = flagger.flag({"text": "hello"}, option="wrong")
    assert receipt.delivered == ("memory",)
    assert BUCKETS["fixture"] == [receipt.id]
    assert flagger.directory == flagging_dir
    assert flagger.config.delivery.mode == "inline"


def test_make_flagger_uses_a_builtin_as_it_is(make_flagger: Any, flagging_dir: Path) -> None:
    from tests.csv_log import read_rows

    from flagpipe.plugins.csv import CSVCallback

    with make_flagger(CSVCallback, name="log") as flagger:
        receipt = flagger.flag({"text": "hello"})
    assert receipt.delivered == ("log",)
    assert [r["id"] for r in read_rows(flagging_dir / "log.csv")] == [receipt.id]


def test_make_flagger_refuses_a_second_class_with_a_taken_type_name(make_flagger: Any) -> None:
    class NotCSV(MemoryCallback):
        type_name = "csv"

    with pytest.raises(ValueError, match="already provided by flagpipe"):
        make_flagger(NotCSV, {"bucket": "b", "token": "t"})


def test_register_plugin_registers_for_the_test(register_plugin: Any, flagpipe_plugins: PluginHost) -> None:
    name = register_plugin(CallbackPlugin(MemoryCallback), "memory-plugin")
    assert name == "memory-plugin"
    assert flagpipe_plugins.callback_type("memory").cls is MemoryCallback


def test_register_plugin_always_unregisters(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        textwrap.dedent(
            """
            import pytest
            from flagpipe.testing import CallbackPlugin
            from flagpipe.plugins.csv import CSVCallback

            pytest_plugins = ["flagpipe.testing"]
            SEEN = []

            class Plugin:
                pass

            @pytest.fixture
            def plugins_after(flagpipe_plugins):
                yield flagpipe_plugins
                SEEN.append([name for name, _ in flagpipe_plugins.pm.list_name_plugin()])

            def test_fails_while_registered(plugins_after, register_plugin):
                register_plugin(Plugin(), "extra")
                assert plugins_after.pm.get_plugin("extra") is not None
                raise AssertionError("boom")

            def test_the_plugin_was_unregistered():
                assert SEEN and "extra" not in SEEN[0]
            """
        )
    )
    result = pytester.runpytest_inprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)


def test_the_contract_names_what_a_broken_callback_does_wrong(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        textwrap.dedent(
            """
            from pydantic import ConfigDict, Field, SecretStr

            import flagpipe
            from flagpipe.testing import CallbackContract

            class LeakySettings(flagpipe.CallbackSettings):
                model_config = ConfigDict(extra="ignore", frozen=True)
                api_key: str = Field(default="k", description="A key, not declared secret.")
                path: str = ""

            class Leaky(flagpipe.Callback[LeakySettings]):
                type_name = "leaky"
                Settings = LeakySettings
                stored = []

                def setup(self, schema, directory):
                    if getattr(self, "ready", False):
                        raise RuntimeError("set up twice")
                    self.ready = True

                def deliver(self, events):
                    if getattr(self, "broken", False):
                        raise ConnectionError("socket closed")
                    Leaky.stored.extend(e.id for e in reversed(events))

                def healthcheck(self):
                    return 42

            class TestLeaky(CallbackContract):
                callback_class = Leaky

                def settings(self, tmp_path):
                    Leaky.stored = []
                    return {}

                def stored_ids(self, directory):
                    return Leaky.stored

                def fail_retryably(self, callback):
                    callback.broken = True

            class TellingSettings(flagpipe.CallbackSettings):
                password: SecretStr = Field(description="A secret.")

            class Telling(flagpipe.Callback[TellingSettings]):
                type_name = "telling"
                Settings = TellingSettings

                def deliver(self, events):
                    pass

                def __repr__(self):
                    return f"Telling(password={self.settings.password.get_secret_value()})"

            class TestTelling(CallbackContract):
                callback_class = Telling

                def settings(self, tmp_path):
                    return {"password": "hunter2"}

                def test_secrets_stay_out_of_repr_and_str(self):
                    super().test_secrets_stay_out_of_repr_and_str()
            """
        )
    )
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-rfs")
    outcomes = result.parseoutcomes()
    # Skipped: fail_permanently() of TestLeaky; stored_ids() (3) and the failure hooks (2) of TestTelling.
    assert outcomes.get("skipped") == 6, result.stdout.str()
    assert "TestTelling::test_secrets_stay_out_of_repr_and_str" in result.stdout.str()
    assert outcomes.get("failed") == 10, result.stdout.str()  # 9 of TestLeaky, 1 of TestTelling
    out = result.stdout.str()
    for expected in [
        "give these settings a Field(description=...): ['path']",
        "declare them as pydantic.SecretStr: ['api_key']",
        "RuntimeError: set up twice",
        "the sink stored the wrong events (out of order)",
        "accepted an unknown key; subclass flagpipe.CallbackSettings",
        "deliver raised ConnectionError: socket closed; raise flagpipe.RetryableError",
        "healthcheck returned 42; return a str or None",
        "does not implement fail_permanently(), which this contract test needs",
        "AssertionError: the value of ['password'] shows in 'Telling(password=hunter2)'",
    ]:
        assert expected in out, f"{expected!r} not in the output"


def test_the_kit_is_not_autoloaded_by_pytest() -> None:
    for ep in metadata.entry_points(group="pytest11"):
        assert not ep.value.startswith("flagpipe"), f"{ep} would load the kit into every pytest run"
