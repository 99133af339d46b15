"""A callback of the chain with its own ``redact:``: it receives redacted copies, the journal keeps the original."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flagpipe.core.callback import Callback, PermanentError
from flagpipe.core.redaction import RedactionFailedError, RedactionRefusedError

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from flagpipe.core.event import FlagEvent
    from flagpipe.core.redaction import Redactor
    from flagpipe.core.schema import FlagSchema

log = logging.getLogger("flagpipe.redact")


class RedactingCallback(Callback[Any]):
    """Wraps a callback so that ``deliver`` hands it each event as ``redactor`` leaves it.

    With a detector of files in its ``redact:``, the events' files are scanned too, and a file with
    a finding is left out of the copy this callback receives (the field has no file).

    An event that the redactor refuses (``action: drop``) is left out of that callback's batch and
    logged by id; the other callbacks and the journal still have it. The lane asks :meth:`drops`
    first, so such an event counts as skipped for this callback (the receipt says so), as an event
    its ``when`` rule excludes does. A scan that fails (a detector raises, a text times out) makes
    the delivery fail permanently (a dead letter for this callback), so nothing unredacted goes out.
    """

    def __init__(self, inner: Callback[Any], redactor: Redactor, *, directory: Path | None = None) -> None:
        super().__init__(inner.settings)
        self.inner = inner
        self.redactor = redactor
        self.type_name = inner.type_name  # type: ignore[misc]  # the wrapped callback's type, per instance
        self.max_batch_size = inner.max_batch_size
        self.batch_interval = inner.batch_interval
        self._directory = directory  # where the events' files are, for detectors of files

    def setup(self, schema: FlagSchema, directory: Path) -> None:
        """Set the wrapped callback up, and keep the flagging directory for scanning the events' files."""
        self._directory = directory
        self.inner.setup(schema, directory)

    def drops(self, event: FlagEvent) -> bool:
        """True when this callback's ``redact:`` (``action: drop``) refuses ``event``."""
        if self.redactor.settings.action != "drop":
            return False
        try:
            self.redactor.redact(event, directory=self._directory)
        except RedactionFailedError:
            return False  # deliver() meets the same failure and makes it a dead letter
        except RedactionRefusedError as exc:
            log.info("flag %s is not sent to this %s callback: %s", event.id, self.type_name, exc)
            return True
        except Exception:  # noqa: BLE001  # as a failed scan
            return False
        return False

    def deliver(self, events: Sequence[FlagEvent]) -> None:
        """Deliver the redacted copies of ``events`` (those not refused) to the wrapped callback."""
        batch = []
        for event in events:
            try:
                batch.append(self.redactor.redact(event, directory=self._directory))
            except RedactionFailedError as exc:
                raise PermanentError(f"redaction failed, so nothing was sent: {exc}") from exc
            except RedactionRefusedError as exc:
                log.info("flag %s is not sent to this %s callback: %s", event.id, self.type_name, exc)
            except Exception as exc:
                raise PermanentError(f"redaction failed, so nothing was sent: {exc}") from exc
        if batch:
            self.inner.deliver(batch)

    def healthcheck(self) -> str | None:
        """The wrapped callback's health check."""
        return self.inner.healthcheck()

    def close(self) -> None:
        """Close the wrapped callback."""
        self.inner.close()

    def __repr__(self) -> str:
        return f"<redacted {self.inner!r} detectors={list(self.redactor.detector_names)}>"


__all__ = ["RedactingCallback"]
