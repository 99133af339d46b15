"""The callback contract: a test class plugin authors subclass with their callback class."""

from __future__ import annotations

import contextlib
import re
import typing
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
from pydantic import SecretBytes, SecretStr, ValidationError

from flagpipe.core.callback import TYPE_NAME_PATTERN, Callback, DeliveryError, PermanentError, RetryableError
from flagpipe.core.event import FieldValue, FlagEvent
from flagpipe.core.schema import FieldSpec, FlagSchema
from flagpipe.testing.fixtures import build_flagger, new_plugin_manager

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from flagpipe.core.callback import CallbackSettings

#: Field names that hold a secret; a settings field named like this must be a ``SecretStr``.
SECRET_NAME = re.compile(r"(^|_)(password|passwd|secret|token|api_?key|access_key|private_key)$")


def _overrides(instance: object, method: str) -> bool:
    return getattr(type(instance), method) is not getattr(CallbackContract, method)


def _secret_fields(settings_model: type[CallbackSettings]) -> tuple[list[str], list[str]]:
    """Names of the fields declared as secrets, and of fields named like secrets but typed as plain values."""
    secret, plain = [], []
    for field_name, info in settings_model.model_fields.items():
        stack: list[Any] = [info.annotation]
        is_secret = False
        while stack:
            annotation = stack.pop()
            if isinstance(annotation, type) and issubclass(annotation, (SecretStr, SecretBytes)):
                is_secret = True
            stack.extend(typing.get_args(annotation))
        if is_secret:
            secret.append(field_name)
        elif SECRET_NAME.search(field_name.lower()):
            plain.append(field_name)
    return secret, plain


class CallbackContract:
    """The contract every callback should pass; subclass it in your tests.

    Set :attr:`callback_class` and implement :meth:`settings`. Implement :meth:`stored_ids` to enable
    the tests that read back what the sink stored, and :meth:`fail_retryably` /
    :meth:`fail_permanently` to enable the error tests; a test needing a hook you did not implement
    is skipped with a reason saying which. Override :meth:`schema` and :meth:`make_event` when your
    sink needs particular fields.

    Inside the hooks, ``self.tmp_path`` and ``self.monkeypatch`` are the test's own.
    """

    #: The callback class under test.
    callback_class: ClassVar[type[Callback[Any]]]

    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch

    # -- what a subclass provides -----------------------------------------------------------------

    def settings(self, tmp_path: Path) -> dict[str, Any]:
        """Return the settings (as in the YAML chain item, less ``type``) of a working callback."""
        raise NotImplementedError(f"{type(self).__name__} must implement settings(self, tmp_path) -> dict")

    def stored_ids(self, directory: Path) -> list[str]:
        """Read back the ids of the events the sink stored, in the order stored, repeats included.

        Called after :meth:`flagpipe.Callback.close`; ``directory`` is the flagging directory.
        """
        raise NotImplementedError

    def fail_retryably(self, callback: Callback[Any]) -> None:
        """Make the next ``deliver`` of ``callback`` (already set up) fail with a passing problem."""
        raise NotImplementedError

    def fail_permanently(self, callback: Callback[Any]) -> None:
        """Make the next ``deliver`` of ``callback`` (already set up) fail for good."""
        raise NotImplementedError

    def schema(self) -> FlagSchema:
        """The fields of the events the tests deliver."""
        return FlagSchema.of([FieldSpec("text"), FieldSpec("score", kind="number", role="output")])

    def make_event(self, index: int) -> FlagEvent:
        """Build the ``index``-th test event (matching :meth:`schema`)."""
        return FlagEvent(
            option="wrong",
            username="tester",
            fields=(
                FieldValue(name="text", value=f"sample {index}, with a comma and ünïcode"),
                FieldValue(name="score", role="output", kind="number", value=index / 2),
            ),
        )

    # -- helpers ----------------------------------------------------------------------------------

    @pytest.fixture(autouse=True)
    def _contract_context(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        self.tmp_path = tmp_path
        self.monkeypatch = monkeypatch
        self.directory = tmp_path / "flagged"
        self._open: list[Callback[Any]] = []
        yield
        for callback in self._open:  # a failed test may leave one open
            with contextlib.suppress(Exception):
                callback.close()

    def validated_settings(self) -> CallbackSettings:
        """The validated settings of :meth:`settings`."""
        return self.callback_class.Settings.model_validate(self.settings(self.tmp_path))

    def open_callback(self) -> Callback[Any]:
        """Build a callback with :meth:`settings` and set it up for :meth:`schema`."""
        callback = self.callback_class(self.validated_settings())
        self._open.append(callback)
        callback.setup(self.schema(), self.directory)
        return callback

    def close_callback(self, callback: Callback[Any]) -> None:
        """Close ``callback`` (once)."""
        self._open.remove(callback)
        callback.close()

    def events(self, count: int, start: int = 0) -> list[FlagEvent]:
        """``count`` new test events."""
        return [self.make_event(i) for i in range(start, start + count)]

    def _need(self, *hooks: str) -> None:
        missing = [hook for hook in hooks if not _overrides(self, hook)]
        if missing:
            names = ", ".join(f"{h}()" for h in missing)
            pytest.skip(f"{type(self).__name__} does not implement {names}, which this contract test needs")

    def _assert_stored(self, expected: list[str | None]) -> None:
        stored = list(self.stored_ids(self.directory))
        if stored == expected:
            return
        missing = [i for i in expected if i not in stored]
        repeated = sorted({i for i in stored if stored.count(i) > 1})
        unexpected = [i for i in stored if i not in expected]
        detail = f"missing {missing}" if missing else "all there"
        detail += f", stored twice {repeated}" if repeated else ""
        detail += f", never delivered {unexpected}" if unexpected else ""
        if not missing and not repeated and not unexpected:
            detail = "out of order"
        pytest.fail(f"the sink stored the wrong events ({detail}):\n  expected {expected}\n  stored   {stored}")

    def _deliver_expecting(self, error: type[DeliveryError], hook: str) -> DeliveryError:
        self._need(hook)
        callback = self.open_callback()
        getattr(self, hook)(callback)
        try:
            callback.deliver(self.events(2))
        except error as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - reported as a contract failure
            pytest.fail(
                f"after {hook}(), deliver raised {type(exc).__name__}: {exc}; raise flagpipe.{error.__name__} "
                f"(from the original error) so the core knows whether to retry"
            )
        pytest.fail(f"after {hook}(), deliver returned normally; it should raise flagpipe.{error.__name__}")

    # -- the contract tests -----------------------------------------------------------------------

    def test_type_name_and_settings_model(self) -> None:
        """The class has a valid ``type_name`` and strict, frozen settings that accept :meth:`settings`."""
        cls = self.callback_class
        assert issubclass(cls, Callback), f"{cls.__name__} must subclass flagpipe.Callback"
        assert TYPE_NAME_PATTERN.match(cls.type_name or ""), (
            f"{cls.__name__}.type_name {cls.type_name!r} must match {TYPE_NAME_PATTERN.pattern}"
        )
        assert cls.Settings.model_config.get("frozen"), f"{cls.Settings.__name__} must be frozen"
        self.validated_settings()

    def test_settings_reject_unknown_keys(self) -> None:
        """A misspelled key in the YAML is an error, never silently ignored."""
        raw = {**self.settings(self.tmp_path), "no_such_setting": 1}
        try:
            self.callback_class.Settings.model_validate(raw)
        except ValidationError as exc:
            assert "no_such_setting" in str(exc), f"the error does not name the unknown key: {exc}"
        else:
            pytest.fail(
                f"{self.callback_class.Settings.__name__} accepted an unknown key; subclass flagpipe.CallbackSettings "
                "and keep its model_config extra='forbid'"
            )

    def test_settings_fields_are_described(self) -> None:
        """Every setting has a description: it feeds ``flagpipe schema`` and the callback reference."""
        undescribed = [n for n, f in self.callback_class.Settings.model_fields.items() if not f.description]
        assert not undescribed, f"give these settings a Field(description=...): {undescribed}"

    def test_secrets_stay_out_of_repr_and_str(self) -> None:
        """Secrets are ``SecretStr`` and never show in the repr or str of the settings or the callback."""
        secret_fields, plain = _secret_fields(self.callback_class.Settings)
        assert not plain, f"these settings look like secrets; declare them as pydantic.SecretStr: {plain}"
        if not secret_fields:
            pytest.skip(f"{self.callback_class.Settings.__name__} declares no SecretStr field")
        settings = self.validated_settings()
        values: dict[str, str] = {}
        for field_name in secret_fields:
            secret = getattr(settings, field_name)
            if isinstance(secret, (SecretStr, SecretBytes)):
                raw = secret.get_secret_value()
                text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
                if text:
                    values[field_name] = text
        if not values:
            pytest.skip(f"settings() gives no value to the secret fields {secret_fields}")
        callback = self.callback_class(settings)
        for text in (repr(settings), str(settings), repr(callback), str(callback)):
            leaked = [field_name for field_name, value in values.items() if value in text]
            assert not leaked, f"the value of {leaked} shows in {text!r}"

    def test_setup_can_run_twice(self) -> None:
        """``setup`` is called again when the schema changes; a second call must not break delivery."""
        callback = self.open_callback()
        callback.setup(self.schema(), self.directory)
        events = self.events(3)
        callback.deliver(events)
        self.close_callback(callback)
        if _overrides(self, "stored_ids"):
            self._assert_stored([e.id for e in events])

    def test_batches_arrive_in_order(self) -> None:
        """Events are stored in the order of their batches and, within a batch, in flag order."""
        self._need("stored_ids")
        callback = self.open_callback()
        batches = [self.events(3, start) for start in (0, 3, 6)]
        for batch in batches:
            callback.deliver(batch)
        self.close_callback(callback)
        self._assert_stored([e.id for batch in batches for e in batch])

    def test_replayed_batch_is_not_duplicated(self) -> None:
        """A batch offered again (after a crash, or a restart) is not stored twice."""
        self._need("stored_ids")
        first, second = self.events(3), self.events(2, 3)
        callback = self.open_callback()
        callback.deliver(first)
        callback.deliver(first)
        callback.deliver(second)
        self.close_callback(callback)
        restarted = self.open_callback()  # a new process delivering what the journal re-offers
        restarted.deliver(second)
        restarted.deliver([*first, *second])
        self.close_callback(restarted)
        self._assert_stored([e.id for e in [*first, *second]])

    def test_retryable_errors_are_classified(self) -> None:
        """A passing problem raises ``flagpipe.RetryableError``, not a random exception."""
        error = self._deliver_expecting(RetryableError, "fail_retryably")
        assert str(error), "say what went wrong in the RetryableError's message"

    def test_permanent_errors_are_classified(self) -> None:
        """A problem that retrying cannot fix raises ``flagpipe.PermanentError``."""
        error = self._deliver_expecting(PermanentError, "fail_permanently")
        assert str(error), "say what went wrong and what to do in the PermanentError's message"

    def test_close_flushes(self) -> None:
        """After ``close``, every event ``deliver`` accepted can be read back."""
        self._need("stored_ids")
        callback = self.open_callback()
        events = self.events(20)
        for event in events:
            callback.deliver([event])
        self.close_callback(callback)
        self._assert_stored([e.id for e in events])

    def test_healthcheck_answers(self) -> None:
        """``healthcheck`` returns a short description or None, or raises ``flagpipe.DeliveryError``."""
        callback = self.open_callback()
        try:
            result = callback.healthcheck()
        except DeliveryError:
            return
        except Exception as exc:  # noqa: BLE001 - reported as a contract failure
            pytest.fail(f"healthcheck raised {type(exc).__name__}: {exc}; raise a flagpipe.DeliveryError instead")
        assert result is None or isinstance(result, str), f"healthcheck returned {result!r}; return a str or None"

    def test_delivers_through_a_flagger(self) -> None:
        """Registered as a plugin, the callback receives the flags of a real Flagger, inline."""
        with contextlib.ExitStack() as stack:
            flagger = build_flagger(
                new_plugin_manager(),
                stack,
                self.directory,
                self.callback_class,
                self.settings(self.tmp_path),
                name=None,
                fields=list(self.schema().fields),
                config={},
            )
            receipts = [flagger.flag(_values(self.make_event(i))) for i in range(3)]
            for receipt in receipts:
                assert receipt.delivered == (self.callback_class.type_name,), f"not delivered: {receipt}"
        if _overrides(self, "stored_ids"):
            self._assert_stored([r.id for r in receipts])


def _values(event: FlagEvent) -> dict[str, Any]:
    return {f.name: f.value for f in event.fields}


__all__ = ["SECRET_NAME", "CallbackContract"]
