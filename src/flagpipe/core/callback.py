"""The callback contract: what every sink, built in or third-party, implements."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, SerializationInfo, SerializerFunctionWrapHandler, model_serializer

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from flagpipe.core.event import FlagEvent
    from flagpipe.core.schema import FlagSchema

#: What a callback ``type_name`` must look like.
TYPE_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_.-]*$")


class CallbackSettings(BaseModel):
    """Base class of every callback's ``Settings``: strict (unknown keys are errors) and frozen.

    Declare secrets as ``pydantic.SecretStr`` so they never show in ``repr``, logs or errors, and give
    every field a ``description``: it feeds ``flagpipe schema`` and the callback reference.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __repr_args__(self) -> Any:
        """Fields for ``repr``, with any password written into a URL masked (``https://u:***@host``)."""
        from flagpipe.core.secrets import mask_userinfo

        for name, value in super().__repr_args__():
            yield name, mask_userinfo(value) if isinstance(value, str) else value

    @model_serializer(mode="wrap")
    def _mask_url_passwords(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
        """Dumps hide a password written into any URL, unless the context asks for secrets."""
        from flagpipe.core.secrets import mask_userinfo_in

        dumped = handler(self)
        if isinstance(info.context, dict) and info.context.get("reveal_secrets"):
            return dumped
        return mask_userinfo_in(dumped)


class DeliveryError(Exception):
    """Base of the errors a callback's ``deliver`` raises to say how it failed."""


class RetryableError(DeliveryError):
    """A failure that may pass: try the same batch again later.

    :param retry_after: seconds the sink asked us to wait (for example from a ``Retry-After`` header).
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(DeliveryError):
    """A failure that will not pass by retrying (bad request, rejected credentials, ...)."""


class DestinationDisabledError(PermanentError):
    """The destination is gone (HTTP 410, a deleted webhook): stop delivering to it until re-enabled.

    The batch becomes a dead letter and the callback's lane is disabled; ``flagpipe retry`` re-enables it.
    """


SettingsT = TypeVar("SettingsT", bound=CallbackSettings)


class Callback(Generic[SettingsT]):
    """Base class of every callback type.

    A subclass sets ``type_name`` (the ``type:`` used in YAML) and ``Settings`` (a
    :class:`CallbackSettings` subclass). The core builds it with validated settings, calls ``setup``
    before the first delivery, ``deliver`` with batches of events in flag order, and ``close`` at the
    end. A callback never retries or starts threads itself: the core does that for every callback.
    """

    #: The name used as ``type:`` in a config's callback chain.
    type_name: ClassVar[str] = ""
    #: The callback's settings model; the YAML item (less ``type``, ``name``, ``when``) is validated by it.
    Settings: ClassVar[type[CallbackSettings]] = CallbackSettings
    #: The most events ``deliver`` takes at once, in place of the config's ``delivery.batch_size`` (None:
    #: use that). A sink that sends one request per event sets 1, so a failure never re-sends events that
    #: already went through; a sink that commits in bulk sets its commit size.
    max_batch_size: int | None = None
    #: Deliver at most one batch per this many seconds (None: as soon as events are pending). A batch
    #: goes early when it is full; ``close()`` and ``flagpipe drain`` deliver what is pending at once.
    batch_interval: float | None = None
    #: True only when ``deliver`` touches nothing but local files in the flagging directory: the core
    #: may then call it on its own thread (``flag()``'s in inline mode, the lane worker's in background
    #: mode) instead of handing it to the call guard's thread, so ``delivery.call_timeout`` does not
    #: bound it. Such a callback cannot hang ``flag()`` longer than the journal's own write to the same
    #: disk can. ``setup``, ``healthcheck`` and ``close`` stay guarded. Leave it False for anything that
    #: talks to a network, a remote disk or another process.
    runs_in_caller: ClassVar[bool] = False

    def __init__(self, settings: SettingsT) -> None:
        """Keep the validated settings; do no I/O here (``setup`` is where work starts)."""
        self.settings = settings

    def setup(self, schema: FlagSchema, directory: Path) -> None:
        """Prepare to receive events of ``schema``; files live under ``directory``.

        Called before the first delivery, and again if the schema changes; it must be safe to call
        more than once.
        """

    def deliver(self, events: Sequence[FlagEvent]) -> None:
        """Deliver a batch of events, in flag order.

        Return normally when every event is stored. Raise :class:`RetryableError` or
        :class:`PermanentError` otherwise; the whole batch is then retried or dead-lettered. Any other
        exception counts as retryable. A batch may be offered again after a crash, so skip events that
        are already stored (by ``event.id``) where the sink allows it.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement deliver()")

    def healthcheck(self) -> str | None:
        """Check that the sink is reachable and usable, without sending a flag.

        Return a short description of what was checked (or None), or raise a :class:`DeliveryError`
        saying what is wrong and what to do.
        """
        return None

    def close(self) -> None:
        """Flush anything buffered and release resources; called once, after the last delivery."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} type={self.type_name!r} settings={self.settings!r}>"
