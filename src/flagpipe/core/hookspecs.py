"""Every flagpipe hook, each documented as a contract.

Each docstring has the same five parts: when it is called, its arguments, what it may return (and
what None means), what happens if it raises, and the version it appeared in. An implementation may
accept any subset of a hook's arguments (pluggy's opt-in rule), so arguments are only ever added.

Every hook is called through pluggy. All but ``flagpipe_filter_event`` are called one implementation
at a time (one ``subset_hook_caller`` per plugin), so a hook wrapper (``wrapper=True`` or
``hookwrapper=True``) is refused on them when the plugin is registered; ``flagpipe_filter_event``
is one pluggy call, and wrappers on it work.

Plugin authors need one import: ``from flagpipe import hookimpl``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import click

    from flagpipe.core.callback import Callback
    from flagpipe.core.detectors import Detector
    from flagpipe.core.event import FlagEvent
    from flagpipe.core.kinds import ValueKind
    from flagpipe.core.sources import FlagSource

#: The project name: pluggy's marker name, the hook prefix and the entry-point group.
PROJECT_NAME = "flagpipe"

#: Marks a hook specification (used by flagpipe itself).
hookspec = pluggy.HookspecMarker(PROJECT_NAME)

#: Marks a hook implementation in a plugin: ``@flagpipe.hookimpl``.
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def flagpipe_register_callbacks() -> list[type[Callback[Any]]]:
    """Register callback types (sinks) that a config's ``callbacks`` chain can name by ``type``.

    **When:** once, while the plugin manager is built, after every plugin is registered.

    **Arguments:** none.

    **Returns:** a list of :class:`flagpipe.Callback` subclasses, each with a unique ``type_name`` and
    a ``Settings`` model whose unknown keys are rejected. Return an empty list (or None) to add none.
    Two plugins offering the same ``type_name`` is an error that names both distributions.

    **If it raises:** the plugin is recorded as failed (``flagpipe plugins`` shows the error) and
    unregistered, so none of its callbacks or value kinds are available; in strict mode the error
    stops start-up.

    **Since:** 0.1.
    """
    raise NotImplementedError  # a spec: pluggy calls the implementations, never this body


@hookspec
def flagpipe_register_value_kinds() -> list[ValueKind]:
    """Register value kinds: ways to turn in-memory objects (numpy arrays, PIL images) into files.

    **When:** once, while the plugin manager is built.

    **Arguments:** none.

    **Returns:** a list of :class:`flagpipe.ValueKind`; None or an empty list adds none. When a value
    is flagged that is not a str, number, bool, None, list, dict, bytes or path, the kinds are asked
    in hook-call order (``tryfirst`` / ``trylast`` set priority) and the first whose ``accepts``
    returns True encodes it. Two kinds with the same ``name`` is an error.

    **If it raises:** the plugin is recorded as failed and unregistered, so none of its value kinds
    or callbacks are available; in strict mode the error stops start-up.

    **Since:** 0.1.
    """
    raise NotImplementedError  # a spec: pluggy calls the implementations, never this body


@hookspec
def flagpipe_register_detectors() -> list[Detector]:
    """Register redaction detectors: kinds of personal data or secrets that ``redact:`` can find.

    **When:** once, while the plugin manager is built (the built-in ``email``, ``phone``,
    ``credit_card``, ``iban``, ``ip``, ``url_credentials`` and ``secret`` come through this hook too).

    **Arguments:** none.

    **Returns:** a list of :class:`flagpipe.Detector`; None or an empty list adds none. A config's
    ``redact: detect:`` names them; two detectors with the same ``name`` is an error that names
    both plugins. A detector with a ``pattern`` joins the one compiled pass each text gets; one with
    ``find`` (a model) scans each text on its own. A detector's ``check``, ``find`` and
    ``configure`` run on the flag path: when one raises there, the flag is refused with the error
    (with global redaction) or its delivery to that callback fails (per-callback redaction); nothing
    unredacted is let through.

    **If it raises:** the plugin is recorded as failed and unregistered, so none of its detectors,
    value kinds or callbacks are available; in strict mode the error stops start-up.

    **Since:** 0.1.
    """
    raise NotImplementedError  # a spec: pluggy calls the implementations, never this body


@hookspec
def flagpipe_prepare_event(event: FlagEvent) -> FlagEvent | None:
    """Prepare an event before it is stored: redact a field, enrich the metadata.

    **When:** on every flag, after the event is built and its files stored, before the filter and
    before the event is accepted into the journal. Implementations run one after another in hook-call
    order, each receiving the event the previous one returned.

    **Arguments:** ``event``, the frozen :class:`flagpipe.FlagEvent`; make a changed copy with
    ``event.model_copy(update={...})``.

    **Returns:** the event to pass on, or None to leave it unchanged.

    **If it raises:** the flag is refused: ``flag()`` raises the error and nothing is stored (a plugin
    that redacts must not let an unredacted flag through by failing).

    **Since:** 0.1.
    """


@hookspec(firstresult=True)
def flagpipe_filter_event(event: FlagEvent) -> bool | None:
    """Decide whether an event is kept: drop spam, sample ``auto`` records.

    **When:** on every flag, after ``flagpipe_prepare_event``, before the event is accepted.

    **Arguments:** ``event``, the prepared :class:`flagpipe.FlagEvent`.

    **Returns:** True to drop the event, False to keep it and stop asking, None for no opinion (the
    event is kept when no plugin has one). Stops at first non-None result, see firstresult.
    Hook wrappers (``wrapper=True`` or ``hookwrapper=True``) around it are supported.

    **If it raises:** the flag is refused: ``flag()`` raises the error and nothing is stored.

    **Since:** 0.1.
    """


@hookspec
def flagpipe_event_delivered(events: Sequence[FlagEvent], callback_name: str, attempt: int) -> None:
    """Observe a successful delivery of a batch to one callback (metrics, audit logs).

    **When:** after a callback's ``deliver`` returned for a batch.

    **Arguments:** ``events``, the batch in flag order; ``callback_name``, the callback's name in the
    chain; ``attempt``, 1 for the first try.

    **Returns:** nothing; return values are ignored.

    **If it raises:** the error is logged with the plugin's name and ignored; an observer can never
    change or stop a delivery.

    **Since:** 0.1.
    """


@hookspec
def flagpipe_delivery_failed(
    events: Sequence[FlagEvent], callback_name: str, error: BaseException, attempt: int, final: bool
) -> None:
    """Observe a failed delivery of a batch to one callback (alerts, metrics).

    **When:** after a callback's ``deliver`` raised.

    **Arguments:** ``events``, the batch; ``callback_name``, the callback's name in the chain;
    ``error``, what it raised; ``attempt``, 1 for the first try; ``final``, True when no retry will
    follow (the events became dead letters for this callback).

    **Returns:** nothing; return values are ignored.

    **If it raises:** the error is logged with the plugin's name and ignored.

    **Since:** 0.1.
    """


@hookspec
def flagpipe_register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``flagpipe`` command line.

    **When:** when the CLI runs a command that is not built in, or lists commands for ``--help``
    and its cache of plugins' command names is out of date (a plugin was installed, upgraded or
    removed, or the plugin policy changed).

    **Arguments:** ``cli``, the :class:`click.Group` of ``flagpipe``; call ``cli.add_command(...)``.

    **Returns:** nothing; return values are ignored. A command whose name is already taken is
    refused with a warning naming the plugin.

    **If it raises:** the plugin's commands are missing; the error is logged with the plugin's name.

    **Since:** 0.1.
    """


@hookspec(firstresult=True)
def flagpipe_open_flag_source(source: str, storage_options: Mapping[str, Any]) -> FlagSource | None:
    """Open flags stored where a plugin knows how to read them: a database, Parquet on object storage.

    **When:** when ``flagpipe.read_flags(source)`` or ``flagpipe show / stats / export --from
    source`` is given a source that is not a local path (a string with ``://``, such as
    ``postgresql+psycopg://host/db``, ``sqlite:///flags.db`` or ``s3://bucket/flags/``). Plugins are
    asked in hook-call order; the first that returns a source reads it.

    **Arguments:** ``source``, the string as the user gave it (it may hold a password: never echo it
    unmasked); ``storage_options``, a mapping of extra settings passed through unchanged from
    ``read_flags(..., storage_options=...)`` (for example fsspec's credentials, or where the tables
    are); empty when none were given. Ignore keys that are not yours.

    **Returns:** a :class:`flagpipe.FlagSource` (its ``events(flag_filter)`` yields the flags in flag
    order with the filter applied where the data is; ``latest`` and ``stats`` may be overridden to
    answer without reading every flag), or None when the source is not one the plugin reads (an
    unknown URL scheme). Stops at first non-None result, see firstresult. When no plugin returns
    one, reading fails with an error that names the source's scheme. Opening should be cheap:
    connect on first read if you can, and release connections in ``close()``.

    **If it raises:** reading fails with the error (with the plugin's name): a source a plugin
    recognises but cannot open (a bad option, a missing driver) is a clear error, not a silent
    fall-through to the next plugin.

    **Since:** 0.1.
    """
