"""Gradio integration: a drop-in ``gradio.FlaggingCallback`` backed by a flagpipe Flagger.

Install with ``pip install "flagpipe[gradio]"``. Importing this module imports gradio; importing
``flagpipe`` does not.

With an Interface, let the config choose the mode, the options and the directory::

    import gradio as gr
    from flagpipe.integrations.gradio import interface_kwargs

    demo = gr.Interface(calculator, inputs, outputs, **interface_kwargs("flagging.yaml"))

With Blocks, Gradio's guide pattern works unchanged::

    callback = FlagpipeCallback("flagging.yaml")
    with gr.Blocks() as demo:
        ...
        callback.setup([img_input, strength, img_output], "flagged")
        btn.click(lambda *args: callback.flag(list(args)), [img_input, strength, img_output], None,
                  preprocess=False)
        notice(callback)  # the privacy notice, beside the button

See ``docs/gradio.md`` for how component values become fields.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import inspect
import json
import logging
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from flagpipe.config.loader import LoadedConfig, load_config
from flagpipe.config.model import FlagpipeConfig
from flagpipe.core.files import safe_component
from flagpipe.core.schema import FieldSpec
from flagpipe.flagger import Flagger

if TYPE_CHECKING:
    from types import TracebackType

    from gradio.blocks import Blocks
    from gradio.components import Component

    from flagpipe.config.model import OptionChoice
    from flagpipe.core.event import Role

log = logging.getLogger("flagpipe.gradio")

__all__ = [
    "DEFAULT_AUTO_NOTICE",
    "FlagpipeCallback",
    "component_field",
    "interface_kwargs",
    "notice",
    "notice_text",
]

#: Shown beside the app in ``auto`` mode when the config has no ``notice`` (``notice: false`` hides it).
DEFAULT_AUTO_NOTICE = (
    "**Your submissions are saved.** This app keeps every input you submit, with the result it returns, "
    "so that its developers can review and improve it."
)

#: CSS class of the notice's ``gr.Markdown``, to style or find it.
NOTICE_CLASS = "flagpipe-notice"

#: Gradio component class name -> flagpipe field kind. A component's classes are looked up from the
#: most derived one, so subclasses (``gr.Sketchpad`` of ``gr.ImageEditor``) map like their base.
_KINDS: dict[str, str] = {
    "Number": "number",
    "Slider": "number",
    "Checkbox": "bool",
    "Textbox": "text",
    "TextArea": "text",
    "Radio": "text",
    "Dropdown": "text",  # "json" when multiselect
    "ColorPicker": "text",
    "Code": "text",
    "DateTime": "text",
    "Markdown": "text",
    "HTML": "text",
    "CheckboxGroup": "json",
    "Image": "image",
    "ImageEditor": "image",  # its composite image
    "Audio": "audio",
    "Video": "video",
    "File": "file",  # several files (file_count "multiple" or "directory") are stored as one zip
    "UploadButton": "file",
    "DownloadButton": "file",
    "Model3D": "file",
}

ConfigSource = str | os.PathLike[str] | Mapping[str, Any] | FlagpipeConfig | LoadedConfig | Flagger


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
        elif isinstance(config, LoadedConfig):
            self._loaded = config
        elif isinstance(config, (str, os.PathLike)):
            self._loaded = load_config(config, env=env)
        elif isinstance(config, FlagpipeConfig):
            self._loaded = load_config(data=config.model_dump(mode="json", exclude_unset=True), env=env)
        else:
            self._loaded = load_config(data=dict(config or {}), env=env)
        self._allowed = tuple(Path(p).resolve() for p in allowed_paths)
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
        return _notice_for(self.config)

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
        roles = _interface_roles(components, inspect.currentframe())
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
            names = _field_names(components)
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
            self._blocks = _root_blocks()
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
        request = _current_request()
        if username is None and request is not None:
            username = getattr(request, "username", None) or None
        session_id = getattr(request, "session_hash", None) if request is not None else None
        option = flag_option or None  # Gradio 4 passes "" for the plain Flag button
        scratch: list[Path] = []
        try:
            values = {
                field.name: self._value(field, data[index] if index < len(data) else None, scratch)
                for index, field in enumerate(fields)
            }
            if flagger.mode == "auto" and option is None:
                flagger.record(values, username=username, session_id=session_id)
            else:
                flagger.flag(values, option=option, username=username, session_id=session_id)
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

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<FlagpipeCallback mode={self.mode!r} dir={str(self.directory)!r}>"

    # -- internals -----------------------------------------------------------------------------

    def _resolve_pending_roles(self) -> None:
        if self._fields is not None or self._components is None:
            return
        blocks = _running_blocks() or self._blocks
        event_roles = _roles_from_events(blocks, self._components) if blocks is not None else {}
        for index, component in enumerate(self._components):
            if self._pending_roles.get(index) is None:
                fallback: Role = "output" if getattr(component, "interactive", None) is False else "input"
                self._pending_roles[index] = event_roles.get(id(component), fallback)
        self._declare()

    def _declare(self) -> None:
        assert self._components is not None
        declared = self._declared
        fields = []
        for index, (component, name) in enumerate(zip(self._components, _field_names(self._components), strict=True)):
            role = self._pending_roles[index]
            assert role is not None
            kind = declared[name].kind if name in declared else component_field(component, index).kind
            fields.append(FieldSpec(name, kind=kind, role=role))
        self.flagger.setup(fields)
        self._fields = tuple(fields)

    def _value(self, field: FieldSpec, value: Any, scratch: list[Path]) -> Any:
        if _is_prop_update(value):
            value = value.get("value")
        if value is None or not field.is_file:
            return _plain_value(field, value)
        return self._file_value(field, value, scratch)

    def _file_value(self, field: FieldSpec, value: Any, scratch: list[Path]) -> Any:
        if isinstance(value, (list, tuple)):
            paths = [self._file_value(field, item, scratch) for item in value if item is not None]
            return _zip_files(field.name, [p for p in paths if isinstance(p, Path)], scratch) if paths else None
        if hasattr(value, "model_dump") and not isinstance(value, type):
            value = value.model_dump()  # a Gradio FileData (or other data model) object
        if isinstance(value, Mapping):
            for key in ("path", "video", "composite", "image"):
                inner = value.get(key)
                if inner is not None:
                    return self._file_value(field, inner, scratch) if key != "path" else self._trusted(field, inner)
            raise ValueError(f"field {field.name!r}: the file payload has no local path (keys: {', '.join(value)})")
        if isinstance(value, str):
            if value.startswith("data:"):
                return _data_url_bytes(field, value)
            return self._trusted(field, value)
        return value  # a pathlib.Path, bytes, a PIL image or a numpy array: flagpipe stores it

    def _trusted(self, field: FieldSpec, raw: Any) -> Path:
        """A path sent by a browser: accept it only inside Gradio's cache, the temp folder or allowed paths."""
        text = str(raw)
        if text.startswith(("http://", "https://")):
            raise ValueError(f"field {field.name!r}: remote files are not fetched ({text})")
        path = Path(text).resolve()
        roots = (*_gradio_folders(), *self._allowed)
        if not any(path.is_relative_to(root) for root in roots):
            raise ValueError(
                f"field {field.name!r}: {str(path)!r} is outside Gradio's cache and the temp folder; "
                "pass a pathlib.Path, or add its folder to allowed_paths"
            )
        return path


# -- helpers for Interface and Blocks ----------------------------------------------------------


def interface_kwargs(
    config: ConfigSource | FlagpipeCallback | None = None, *, article: str | None = None
) -> dict[str, Any]:
    """The ``gr.Interface`` keyword arguments for flagging, taken from the config.

    Returns ``flagging_mode`` (``allow_flagging`` for Gradio 4), ``flagging_options`` as
    ``("Flag as <label>", value)`` pairs (None without options: Gradio's plain Flag button),
    ``flagging_dir``, ``flagging_callback``, and ``article`` holding the privacy notice (after the
    ``article`` given here) when there is one.
    """
    callback = config if isinstance(config, FlagpipeCallback) else FlagpipeCallback(config)
    parameters = inspect.signature(gr.Interface.__init__).parameters
    mode_key = "flagging_mode" if "flagging_mode" in parameters else "allow_flagging"
    kwargs: dict[str, Any] = {
        mode_key: callback.mode,
        "flagging_options": [(f"Flag as {o.label}", o.value) for o in callback.options] or None,
        "flagging_dir": str(callback.directory),
        "flagging_callback": callback,
    }
    parts = [part for part in (article, callback.notice_text) if part]
    if parts:
        kwargs["article"] = "\n\n".join(parts)
    return kwargs


def notice_text(config: ConfigSource | FlagpipeCallback | None = None) -> str | None:
    """The notice to show beside the Flag buttons, or None.

    The config's ``notice`` when it is a string; in ``auto`` mode without one, :data:`DEFAULT_AUTO_NOTICE`;
    nothing when ``notice: false`` or the mode is ``never``.
    """
    if isinstance(config, FlagpipeCallback):
        return config.notice_text
    if isinstance(config, Flagger):
        return _notice_for(config.config)
    if isinstance(config, LoadedConfig):
        return _notice_for(config.config)
    if isinstance(config, FlagpipeConfig):
        return _notice_for(config)
    loaded = load_config(config) if isinstance(config, (str, os.PathLike)) else load_config(data=dict(config or {}))
    return _notice_for(loaded.config)


def notice(config: ConfigSource | FlagpipeCallback | None = None, **markdown_kwargs: Any) -> gr.Markdown | None:
    """Render the privacy notice as a ``gr.Markdown`` where it is called (inside ``gr.Blocks``).

    Returns the component, or None (rendering nothing) when there is no notice to show. Extra keyword
    arguments go to ``gr.Markdown``; the component has the CSS class ``flagpipe-notice``.
    """
    text = notice_text(config)
    if not text:
        return None
    extra = markdown_kwargs.pop("elem_classes", None) or []
    classes = [NOTICE_CLASS, *([extra] if isinstance(extra, str) else extra)]
    return gr.Markdown(text, elem_classes=classes, **markdown_kwargs)


def component_field(component: Component, index: int) -> FieldSpec:
    """The field a component's values become: its label (else ``component <index>``) and its kind.

    The role is ``input``; :class:`FlagpipeCallback` decides the real role when it is set up.
    """
    label = getattr(component, "label", None)
    name = str(label) if label else f"component {index}"
    kind = "json"
    for cls in type(component).__mro__:
        if cls.__name__ in _KINDS:
            kind = _KINDS[cls.__name__]
            break
    if kind == "text" and getattr(component, "multiselect", False):
        kind = "json"
    return FieldSpec(name, kind=kind)


# -- internals ------------------------------------------------------------------------------------


def _notice_for(config: FlagpipeConfig) -> str | None:
    if config.mode == "never":
        return None
    text: object = config.notice
    if isinstance(text, str):
        return text.strip() or None
    if text is None and config.mode == "auto":
        return DEFAULT_AUTO_NOTICE
    return None  # notice: false, or manual mode without a notice


def _field_names(components: Sequence[Component]) -> list[str]:
    """Labels as field names; a repeated label gets `` 2``, `` 3``... (Gradio would write it twice)."""
    names: list[str] = []
    for index, component in enumerate(components):
        base = component_field(component, index).name
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base} {n}"
        names.append(name)
    return names


def _interface_roles(components: Sequence[Component], frame: Any) -> list[Role] | None:
    """When ``setup`` is called by a ``gr.Interface``, its inputs then its outputs; else None."""
    try:
        caller = frame.f_back if frame is not None else None
        owner = caller.f_locals.get("self") if caller is not None else None
    finally:
        del frame
    if not isinstance(owner, gr.Interface):
        return None
    inputs = list(getattr(owner, "input_components", None) or [])
    outputs = list(getattr(owner, "output_components", None) or [])
    expected = inputs + outputs
    if len(components) == len(expected) and all(a is b for a, b in zip(components, expected, strict=True)):
        roles: list[Role] = ["input"] * len(inputs)
        return roles + ["output"] * len(outputs)
    if len(components) == len(inputs) and all(a is b for a, b in zip(components, inputs, strict=True)):
        only_inputs: list[Role] = ["input"] * len(inputs)
        return only_inputs  # a unified interface flags its inputs only
    return None


def _root_blocks() -> Blocks | None:
    """The Blocks being built when ``setup`` is called inside ``with gr.Blocks()``."""
    try:
        from gradio.context import Context
    except ImportError:  # pragma: no cover - every supported Gradio has it
        return None
    root = getattr(Context, "root_block", None)
    return root if isinstance(root, gr.Blocks) else None


def _running_blocks() -> Blocks | None:
    try:
        from gradio.context import LocalContext
    except ImportError:  # pragma: no cover
        return None
    var = getattr(LocalContext, "blocks", None)
    blocks = var.get(None) if var is not None else None
    return blocks if isinstance(blocks, gr.Blocks) else None


def _current_request() -> Any:
    """The ``gr.Request`` of the event being handled, when Gradio exposes it (4.x and later)."""
    try:
        from gradio.context import LocalContext
    except ImportError:  # pragma: no cover
        return None
    var = getattr(LocalContext, "request", None)
    return var.get(None) if var is not None else None


def _roles_from_events(blocks: Blocks, components: Sequence[Component]) -> dict[int, Role]:
    """Roles from the app's Python event handlers.

    A component is an input when some handler reads it to produce another component's value, an
    output when a handler writes it and none reads it that way. Buttons as outputs (a Flag button's
    "Saving...") and JavaScript-only handlers (Clear) do not count.
    """
    fns = getattr(blocks, "fns", None) or {}
    handlers = fns.values() if isinstance(fns, Mapping) else fns
    fed: set[int] = set()
    produced: set[int] = set()
    for handler in handlers:
        if getattr(handler, "fn", None) is None:
            continue
        outputs = [o for o in getattr(handler, "outputs", None) or () if not _is_button(o)]
        for item in getattr(handler, "inputs", None) or ():
            if any(o is not item for o in outputs):
                fed.add(id(item))
        produced.update(id(o) for o in outputs)
    roles: dict[int, Role] = {}
    for component in components:
        if id(component) in fed:
            roles[id(component)] = "input"
        elif id(component) in produced:
            roles[id(component)] = "output"
    return roles


def _is_button(component: object) -> bool:
    return any(cls.__name__.endswith("Button") for cls in type(component).__mro__)


def _is_prop_update(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get("__type__") == "update"


def _plain_value(field: FieldSpec, value: Any) -> Any:
    if hasattr(value, "model_dump") and not isinstance(value, type):
        value = value.model_dump()
    if field.kind == "json" and value is not None:
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            return str(value)
    return value


def _gradio_folders() -> tuple[Path, ...]:
    try:
        from gradio.utils import get_upload_folder

        cache = Path(get_upload_folder())
    except ImportError:  # pragma: no cover - Gradio 4 before get_upload_folder
        cache = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")
    return (cache.resolve(), Path(tempfile.gettempdir()).resolve())


def _data_url_bytes(field: FieldSpec, value: str) -> bytes:
    """Gradio 3 sent images as base64 data URLs."""
    header, _, payload = value.partition(",")
    if ";base64" not in header:
        raise ValueError(f"field {field.name!r}: only base64 data URLs are supported")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"field {field.name!r}: not valid base64 data") from None


def _zip_files(name: str, paths: Sequence[Path], scratch: list[Path]) -> Path:
    """Several files of one component (``gr.File(file_count="multiple")``) as one zip to store."""
    folder = Path(tempfile.mkdtemp(prefix="flagpipe-"))
    scratch.append(folder)
    archive = folder / f"{safe_component(name, fallback='files')}.zip"
    seen: set[str] = set()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for index, path in enumerate(paths):
            arcname = path.name if path.name not in seen else f"{index}-{path.name}"
            seen.add(arcname)
            bundle.write(path, arcname)
    return archive
