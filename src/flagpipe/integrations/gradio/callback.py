"""The ``gradio.FlaggingCallback`` that hands every flag to a flagpipe :class:`~flagpipe.Flagger`."""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from flagpipe.config.loader import LoadedConfig
from flagpipe.core.schema import FieldSpec
from flagpipe.flagger import Flagger

from . import _compat
from .kinds import component_field, field_names
from .privacy import notice_for
from .roles import fallback_role, interface_roles, roles_from_events
from .sources import load_source
from .values import ValueConverter

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from gradio.blocks import Blocks
    from gradio.components import Component

    from flagpipe.config.model import FlagpipeConfig, OptionChoice
    from flagpipe.core.event import Role

    from .sources import ConfigSource

__all__ = ["FlagpipeCallback"]

log = logging.getLogger("flagpipe.gradio")


class FlagpipeCallback(gr.FlaggingCallback):
    """A ``gradio.FlaggingCallback`` that hands every flag to a flagpipe :class:`~flagpipe.Flagger`.

    :param config: a ``flagging.yaml`` path, a dict of its keys, a ``FlagpipeConfig``, a
        ``LoadedConfig``, or a ready ``Flagger`` (which the callback then does not close); None means
        the defaults (manual mode, a CSV log).
    :param allowed_paths: folders besides Gradio's cache and the system temp folder that file
        payloads given as strings (paths sent by a browser) may point into.
    :param env: the environment for ``${VAR}`` and ``FLAGPIPE_*`` (default ``os.environ``).

    The config's ``dir`` wins over the ``flagging_dir`` Gradio passes to :meth:`setup`; when the
    config does not set ``dir``, flags go to ``flagging_dir``, as with Gradio's own loggers.
    """

    def __init__(
        self,
        config: ConfigSource | None = None,
        *,
        allowed_paths: Sequence[str | os.PathLike[str]] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._flagger: Flagger | None = None
        self._owns_flagger = True
        if isinstance(config, Flagger):
            self._flagger = config
            self._owns_flagger = False
            self._loaded: LoadedConfig | None = None
        else:
            self._loaded = load_source(config, env)
        self._values = ValueConverter(allowed_paths)
        #: Fields declared before the components were known: the config's ``fields``, or the given
        #: Flagger's schema. Their kinds and roles win over what the components suggest.
        self._declared: dict[str, FieldSpec] = (
            {f.name: f for f in self._flagger.schema.fields}
            if self._flagger is not None and self._flagger.schema is not None
            else {f.name: FieldSpec(f.name, kind=f.kind, role=f.role) for f in self.config.fields or ()}
        )
        self._components: tuple[Component, ...] | None = None
        self._fields: tuple[FieldSpec, ...] | None = None
        self._pending_roles: dict[int, Role | None] = {}
        self._blocks: Blocks | None = None

    # -- what the config says ------------------------------------------------------------------

    @property
    def config(self) -> FlagpipeConfig:
        """The validated config."""
        return self._loaded.config if self._loaded is not None else self.flagger.config

    @property
    def mode(self) -> str:
        """``manual``, ``auto`` or ``never`` (after ``FLAGPIPE_MODE``)."""
        return self.config.mode

    @property
    def options(self) -> tuple[OptionChoice, ...]:
        """The configured options, each with a ``label`` and the stored ``value``."""
        return self.config.options

    @property
    def directory(self) -> Path:
        """The flagging directory (absolute)."""
        return self._loaded.directory if self._loaded is not None else self.flagger.directory

    @property
    def notice_text(self) -> str | None:
        """The Markdown notice to show beside the Flag buttons, or None (see :func:`notice_text`)."""
        return notice_for(self.config)

    @property
    def flagger(self) -> Flagger:
        """The Flagger behind this callback, built on first use."""
        with self._lock:
            if self._flagger is None:
                loaded = self._loaded_config()
                # setup() declares every component's field, the config's declared ones included; letting
                # the Flagger declare the config's fields first would have the CSV open a file for them.
                loaded = dataclasses.replace(loaded, config=loaded.config.model_copy(update={"fields": None}))
                self._flagger = Flagger(loaded)
            return self._flagger

    @property
    def fields(self) -> tuple[FieldSpec, ...] | None:
        """The fields declared from the components, once known (None before :meth:`setup`)."""
        with self._lock:
            self._resolve_pending_roles()
            return self._fields

    def _loaded_config(self) -> LoadedConfig:
        assert self._loaded is not None
        return self._loaded

    # -- Gradio's FlaggingCallback API ------------------------------------------------------------

    def setup(
        self,
        components: Sequence[Component],
        flagging_dir: str | os.PathLike[str],
        *,
        outputs: Sequence[Component] = (),
    ) -> None:
        """Declare one field per component; Gradio's Interface calls this, a Blocks app calls it itself.

        :param components: the components whose values ``flag()`` receives, in that order.
        :param flagging_dir: where flags go unless the config sets ``dir``.
        :param outputs: components to give the role ``output`` (Blocks apps; an Interface's outputs are
            known without it).
        """
        components = tuple(components)
        roles = interface_roles(components, _compat.calling_interface())
        with self._lock:
            if self._flagger is None:
                loaded = self._loaded_config()
                if "dir" not in loaded.config.model_fields_set:
                    directory = Path(flagging_dir).resolve()
                    loaded = dataclasses.replace(
                        loaded, config=loaded.config.model_copy(update={"dir": str(directory)}), directory=directory
                    )
                    self._loaded = loaded
            elif Path(flagging_dir).resolve() != self._flagger.directory:
                log.debug("flagpipe: flags go to %s (the Flagger's directory), not %s", self.directory, flagging_dir)
            declared = self._declared
            names = field_names(components)
            unknown = [name for name in declared if name not in names]
            if unknown:
                raise ValueError(
                    f"fields {', '.join(map(repr, unknown))} are declared in the config but no component has "
                    f"that label; component labels: {', '.join(map(repr, names))}"
                )
            output_ids = {id(c) for c in outputs}
            pending: dict[int, Role | None] = {}
            for index, (component, name) in enumerate(zip(components, names, strict=True)):
                if name in declared:
                    pending[index] = declared[name].role
                elif id(component) in output_ids:
                    pending[index] = "output"
                elif roles is not None:
                    pending[index] = roles[index]
                else:
                    pending[index] = None  # decided at the first flag, from the app's events
            self._components = components
            self._pending_roles = pending
            self._blocks = _compat.root_blocks()
            self._fields = None
            if all(role is not None for role in pending.values()):
                self._declare()

    def flag(
        self,
        flag_data: list[Any],
        flag_option: str | None = None,
        username: str | None = None,
    ) -> int:
        """Store one flag; return how many flags this callback's Flagger has stored (no file is re-read).

        :param flag_data: the components' values, in the order given to :meth:`setup` (Gradio's
            payloads, as with ``preprocess=False``, or plain Python values).
        :param flag_option: the option's stored value (or label); ``""`` and None mean no option.
        :param username: who flagged; by default the logged-in user of the current Gradio request.
        :raises ValueError: for a bad value, a file outside Gradio's folders, or an unknown option.
        """
        flagger = self.flagger
        with self._lock:
            if self._components is None:
                raise RuntimeError("call setup(components, flagging_dir) before flag()")
            self._resolve_pending_roles()
            fields = self._fields
        assert fields is not None
        data = list(flag_data)
        if len(data) > len(fields):
            raise ValueError(f"got {len(data)} values for {len(fields)} components")
        request = _compat.current_request()
        if username is None and request is not None:
            username = getattr(request, "username", None) or None
        session_id = getattr(request, "session_hash", None) if request is not None else None
        option = _compat.option_or_none(flag_option)
        scratch: list[Path] = []
        try:
            values = {
                field.name: self._values.convert(field, data[index] if index < len(data) else None, scratch)
                for index, field in enumerate(fields)
            }
            mode = "auto" if flagger.mode == "auto" and option is None else "manual"
            details = {"option": option, "username": username, "session_id": session_id}
            # Values come from the browser: every file path flagpipe reads for them is checked (chat messages too).
            flagger._submit(values, mode, details, paths=self._values.check_path)  # type: ignore[arg-type]
        finally:
            for folder in scratch:
                shutil.rmtree(folder, ignore_errors=True)
        return flagger.count

    # -- closing -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the Flagger this callback built (delivering what is pending); a given Flagger stays open."""
        with self._lock:
            if self._flagger is not None and self._owns_flagger:
                self._flagger.close()

    def __enter__(self) -> FlagpipeCallback:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<FlagpipeCallback mode={self.mode!r} dir={str(self.directory)!r}>"

    # -- internals -----------------------------------------------------------------------------

    def _resolve_pending_roles(self) -> None:
        if self._fields is not None or self._components is None:
            return
        blocks = _compat.running_blocks() or self._blocks
        handlers = _compat.python_handlers(blocks) if blocks is not None else []
        event_roles = roles_from_events(handlers, self._components)
        for index, component in enumerate(self._components):
            if self._pending_roles.get(index) is None:
                self._pending_roles[index] = event_roles.get(id(component), fallback_role(component))
        self._declare()

    def _declare(self) -> None:
        assert self._components is not None
        declared = self._declared
        fields = []
        for index, (component, name) in enumerate(zip(self._components, field_names(self._components), strict=True)):
            role = self._pending_roles[index]
            assert role is not None
            kind = declared[name].kind if name in declared else component_field(component, index).kind
            fields.append(FieldSpec(name, kind=kind, role=role))
        self.flagger.setup(fields)
        self._fields = tuple(fields)
