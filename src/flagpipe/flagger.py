"""The Flagger: flagpipe's runtime for plain Python, Gradio adapters and the CLI."""

from __future__ import annotations

import atexit
import errno
import logging
import weakref
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flagpipe.config.loader import LoadedConfig, load_config, resolve_config
from flagpipe.config.model import resolve_option
from flagpipe.core.delivery import Dispatcher
from flagpipe.core.event import FlagEvent, FlagMode
from flagpipe.core.event_build import build_event
from flagpipe.core.files import FileStore
from flagpipe.core.gate import FlagGate
from flagpipe.core.journal import FlagNotStoredError, Journal, new_owner_id
from flagpipe.core.journal_lanes import STORING
from flagpipe.core.lane import Lane
from flagpipe.core.receipt import FlagDetails, FlagReceipt, check_details
from flagpipe.core.redaction import RedactionRefusedError
from flagpipe.core.retention import PurgeReport, purge
from flagpipe.core.schema import FieldSpec, FlagSchema, as_schema
from flagpipe.core.storable import checked_metadata
from flagpipe.core.values import Intake, PathCheck, ValueConverter

log = logging.getLogger("flagpipe")

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime
    from pathlib import Path
    from types import TracebackType

    from typing_extensions import Unpack

    from flagpipe.config.model import FlagpipeConfig, OptionChoice
    from flagpipe.core.host import PluginHost
    from flagpipe.core.policy import PolicyLayer


class Flagger:
    """Flags samples and delivers them to the configured callbacks.

    Build one from a YAML file (:meth:`from_yaml`), a dict, or keyword arguments::

        flagger = Flagger(options=["wrong sign", "off by one"], dir="flagged")
        flagger.flag({"num1": 5, "operation": "add", "num2": 7, "output": -12}, option="wrong sign")

    Keyword arguments override the matching keys of ``config``. Use it as a context manager, or call
    :meth:`close` to flush and release its callbacks.
    """

    def __init__(
        self,
        config: Mapping[str, Any] | FlagpipeConfig | LoadedConfig | None = None,
        *,
        mode: str | None = None,
        options: Sequence[str | tuple[str, str] | Mapping[str, str]] | None = None,
        dir: str | os.PathLike[str] | None = None,
        app: str | None = None,
        callbacks: Sequence[Mapping[str, Any] | str] | None = None,
        fields: Sequence[FieldSpec] | None = None,
        plugins: PluginHost | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        loaded = resolve_config(
            config,
            overrides={"mode": mode, "options": options, "dir": dir, "app": app, "callbacks": callbacks},
            plugins=plugins,
            env=env,
        )
        self._loaded = loaded
        self._gate = FlagGate()
        self._owner = new_owner_id()  # this Flagger's leases and lane registrations
        delivery = loaded.config.delivery
        redactor = loaded.redactor
        self._files = FileStore(
            loaded.directory,
            max_bytes=loaded.config.max_file_bytes,
            fsync=delivery.durability == "fsync",
            screen=redactor.screen_file if redactor is not None and redactor.scans_files else None,
        )
        self._converter = ValueConverter(self._files, loaded.plugins.value_kinds())
        self._journal: Journal | None = None
        self._dispatcher: Dispatcher | None = None
        self._schema: FlagSchema | None = None
        if loaded.config.mode != "never":
            self._open_delivery()
        if fields is not None:
            self.setup(fields)
        elif loaded.config.fields is not None:
            self.setup([FieldSpec(f.name, kind=f.kind, role=f.role) for f in loaded.config.fields])
        _OPEN_FLAGGERS.add(self)

    def _open_delivery(self) -> None:
        loaded = self._loaded
        delivery = loaded.config.delivery
        journal = Journal(loaded.directory, durability=delivery.durability, read_only=False)
        owner = self._owner
        lanes = [
            Lane(
                entry.name,
                entry.build(loaded.directory),
                directory=loaded.directory,
                journal=journal,
                plugins=loaded.plugins,
                config=delivery,
                owner=owner,
                when=entry.when,
            )
            for entry in loaded.chain
        ]
        try:
            journal.ensure_lanes([lane.name for lane in lanes])
            fingerprints = {e.name: e.fingerprint() for e in loaded.chain}
            journal.register_lanes(owner, {**fingerprints, STORING: loaded.storing_fingerprint()})
        except BaseException:
            journal.close()
            raise
        journal.start_upkeep()
        self._journal = journal
        retention = loaded.config.retention
        if retention.max_age_days is not None:
            self.purge(timedelta(days=retention.max_age_days), remove_files=retention.remove_files)
        self._dispatcher = Dispatcher(lanes, journal, delivery)
        self._dispatcher.start()

    @classmethod
    def from_yaml(
        cls,
        path: str | os.PathLike[str],
        *,
        env: Mapping[str, str] | None = None,
        cli_policy: PolicyLayer | None = None,
        fields: Sequence[FieldSpec] | None = None,
    ) -> Flagger:
        """Build a Flagger from a ``flagging.yaml`` file."""
        return cls(load_config(path, env=env, cli_policy=cli_policy), fields=fields)

    # -- configuration ------------------------------------------------------------------------

    @property
    def config(self) -> FlagpipeConfig:
        """The validated config."""
        return self._loaded.config

    @property
    def mode(self) -> str:
        """``manual``, ``auto`` or ``never``."""
        return self._loaded.config.mode

    @property
    def options(self) -> tuple[OptionChoice, ...]:
        """The configured options (label and stored value)."""
        return self._loaded.config.options

    @property
    def directory(self) -> Path:
        """The flagging directory (absolute)."""
        return self._loaded.directory

    @property
    def plugins(self) -> PluginHost:
        """The plugin manager this Flagger uses."""
        return self._loaded.plugins

    @property
    def callback_names(self) -> tuple[str, ...]:
        """The names of the callbacks in the chain, in order."""
        return tuple(entry.name for entry in self._loaded.chain)

    @property
    def journal(self) -> Journal | None:
        """The journal (None in ``never`` mode)."""
        return self._journal

    @property
    def schema(self) -> FlagSchema | None:
        """The declared fields, or None until :meth:`setup` (or the config) declares them."""
        return self._schema

    @property
    def count(self) -> int:
        """How many flags this Flagger has stored since it was built."""
        return self._gate.stored

    def setup(self, fields: Sequence[FieldSpec] | FlagSchema) -> None:
        """Declare the fields (names, kinds, roles) and let each callback prepare for them."""
        schema = as_schema(fields)
        self._schema = schema
        if self._dispatcher is None:
            return
        for lane in self._dispatcher.lanes:
            with lane.lock:
                lane.prepare(schema)

    # -- flagging ----------------------------------------------------------------------------

    def flag(self, values: Mapping[str, Any], **details: Unpack[FlagDetails]) -> FlagReceipt:
        """Flag a sample: a person saw something wrong. Stored unless the mode is ``never``.

        :param values: field name to value; files as paths or bytes, numpy arrays and PIL images
            through the value-kind plugins.
        :param details: ``option`` (the reason picked; one of the configured options, by label or
            value), ``username``, ``comment``, ``metadata`` and ``session_id`` (see :class:`FlagDetails`).
        :raises ValueError: for an option not in the list, an unknown field, or a value that cannot
            be stored and read back (too deep, a number too large ...); nothing is stored then.
        :raises TypeError: for a keyword that is not one of the details.
        :raises FlagNotStoredError: the flag could not be stored (disk full, journal deleted, the
            Flagger closed); nothing was kept, so calling again cannot make a duplicate. Once the
            journal has the flag, ``flag()`` returns a receipt and never raises: a failed delivery
            is in the receipt's ``failed``.
        """
        return self._submit(values, "manual", details)

    def record(self, values: Mapping[str, Any], **details: Unpack[FlagDetails]) -> FlagReceipt:
        """Record a prediction; it is stored only in ``auto`` mode (every prediction is kept).

        Takes the same arguments as :meth:`flag`.
        """
        if self.mode != "auto":
            check_details("record", details)
            resolve_option(self.options, details.get("option"))
            return FlagReceipt(None, False, reason=f"record() stores only in auto mode (mode is {self.mode})")
        return self._submit(values, "auto", details)

    def _submit(
        self,
        values: Mapping[str, Any],
        mode: FlagMode,
        details: FlagDetails,
        *,
        event_id: str | None = None,
        created_at: datetime | None = None,
        app: str | None = None,
        paths: PathCheck | None = None,
    ) -> FlagReceipt:
        """Flag a sample; ``event_id`` and ``created_at`` set an imported event's own (``import-gradio``).

        ``app`` names the app the flag came from when it is not this Flagger's (``flagpipe serve``).
        ``paths`` checks each value given as a local path before it is read, for values that come
        from outside (a browser, an HTTP client): see :func:`flagpipe.core.values.no_local_paths`.
        """
        given = {"id": event_id, "created_at": created_at, "app": app or self.config.app}
        gate = self._gate
        gate.enter()
        try:
            return self._store(values, mode, details, given, Intake(paths=paths))
        finally:
            gate.leave()

    def _store(
        self, values: Mapping[str, Any], mode: FlagMode, details: FlagDetails, given: dict[str, Any], intake: Intake
    ) -> FlagReceipt:
        check_details("flag" if mode == "manual" else "record", details)
        stored_option = resolve_option(self.options, details.get("option"))
        if self.mode == "never":
            return FlagReceipt(None, False, reason="flagging mode is never")
        try:
            fields = self._fields(values, intake)
        except OSError as exc:
            if exc.errno not in _STORAGE_ERRNOS:
                raise  # a problem with the value itself, such as a missing input file
            raise FlagNotStoredError(f"cannot store the flag's files in {self.directory}: {exc}") from None
        except RedactionRefusedError as refused:  # a file redaction refuses (action: drop): nothing stored
            return FlagReceipt(None, False, reason=f"not stored: {refused}")
        event = build_event(
            mode=mode,
            option=stored_option,
            comment=details.get("comment"),
            username=details.get("username"),
            session_id=details.get("session_id"),
            fields=fields,
            metadata=checked_metadata(details.get("metadata")),
            app=given["app"],
            event_id=given["id"],
            created_at=given["created_at"],
        )
        event = self.plugins.prepare_event(event)
        if self._loaded.redactor is not None:  # the config's redact: nothing it finds is stored
            try:
                event = self._loaded.redactor.redact(event, withheld=intake.withheld)
            except RedactionRefusedError as refused:
                return FlagReceipt(None, False, reason=f"not stored: {refused}")
        if self.plugins.should_drop(event):
            return FlagReceipt(None, False, reason="dropped by a flagpipe_filter_event plugin")
        assert self._journal is not None and self._dispatcher is not None
        seq = self._journal.append(event)  # accepted: from here on, the flag is kept and flag() never raises
        self._gate.count_stored()
        return self._dispatcher.submit(seq, event).receipt(event.id)  # never raises: the flag is stored

    def _fields(self, values: Mapping[str, Any], intake: Intake) -> tuple[Any, ...]:
        schema = self._schema
        convert = self._converter.convert
        if schema is None:  # a list comprehension: faster than a generator for a handful of fields
            return tuple([convert(n if type(n) is str else str(n), v, None, intake) for n, v in values.items()])
        unknown = [n for n in values if schema.get(str(n)) is None]
        if unknown:
            raise ValueError(
                f"unknown field(s) {', '.join(map(repr, unknown))}; declared fields: {', '.join(schema.names)}"
            )
        return tuple([convert(f.name, values.get(f.name), f, intake) for f in schema.fields])

    # -- reading back and closing --------------------------------------------------------------

    def latest(self, limit: int = 10) -> list[FlagEvent]:
        """Return the newest ``limit`` stored events, oldest first."""
        self._require_open()
        return [] if self._journal is None else self._journal.latest(limit)

    def retry(self, callback: str | None = None, event_id: str | None = None) -> int:
        """Re-queue dead letters (of one callback, one event, or all) and re-enable disabled callbacks.

        Returns how many dead letters were re-queued; the lanes deliver them next.
        """
        self._require_open()
        if self._journal is None or self._dispatcher is None:
            return 0
        if callback is not None and callback not in self.callback_names:
            raise ValueError(f"no callback {callback!r} in the chain; callbacks: {', '.join(self.callback_names)}")
        count = self._journal.requeue(callback, event_id)
        self._dispatcher.wake()
        return count

    def purge(self, older_than: timedelta, *, dry_run: bool = False, remove_files: bool = False) -> PurgeReport:
        """Remove events older than ``older_than`` that every callback has handled (see retention)."""
        self._require_open()
        if self._journal is None:
            return PurgeReport(0, (), dry_run=dry_run)
        return purge(
            self._journal,
            self.directory,
            older_than=older_than,
            lanes=self.callback_names,
            dry_run=dry_run,
            remove_files=remove_files,
        )

    def drain(self, on_step: Callable[[str], None] | None = None) -> None:
        """Deliver everything pending now, ignoring back-off, in this thread.

        :param on_step: called with a callback's name after each batch delivered (for progress bars).
        """
        self._require_open()
        if self._dispatcher is not None:
            self._dispatcher.drain(on_step=on_step)

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every pending flag is delivered (or ``timeout``, default the config's grace, passes).

        Returns True when every callback has caught up; what is left stays pending in the journal.
        """
        self._require_open()
        if self._dispatcher is None:
            return True
        return self._dispatcher.flush(self.config.delivery.grace if timeout is None else timeout)

    def close(self) -> None:
        """Deliver what is pending within the grace period, then stop; safe to call twice.

        Whatever is not delivered by then stays in the journal and is delivered on the next start.
        """
        grace = self.config.delivery.grace
        # flags already admitted finish first (inline ones deliver, each call bounded by call_timeout)
        if not self._gate.close(grace + (self.config.delivery.call_timeout or 0)):
            return
        _OPEN_FLAGGERS.discard(self)
        if self._dispatcher is None:
            return
        try:
            self._dispatcher.flush(grace)
        finally:
            self._dispatcher.stop()
            for lane in self._dispatcher.lanes:
                try:
                    lane.close_callback()
                except Exception:
                    log.exception("flagpipe: closing callback %s failed", lane.name)
            assert self._journal is not None
            try:
                self._journal.unregister_lanes(self._owner)
            except Exception:
                log.debug("flagpipe: could not unregister the lanes of %s", self._owner, exc_info=True)
            self._journal.close()

    def _require_open(self) -> None:
        if self._gate.closed:
            raise RuntimeError("this Flagger is closed")

    def __enter__(self) -> Flagger:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Flagger mode={self.mode!r} dir={str(self.directory)!r} callbacks={list(self.callback_names)}>"


#: ``OSError`` numbers that mean the flagging directory cannot take the flag's files.
_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO})


_OPEN_FLAGGERS: weakref.WeakSet[Flagger] = weakref.WeakSet()


@atexit.register
def _close_open_flaggers() -> None:
    """At interpreter exit, flush and close every Flagger still open (within each one's grace)."""
    for flagger in list(_OPEN_FLAGGERS):
        flagger.close()
