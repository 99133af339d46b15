"""Load a config from a YAML file, a dict or nothing, resolve its plugins and validate its chain."""

from __future__ import annotations

import os
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from pydantic import BaseModel, ValidationError

from flagpipe.config.errors import ConfigError, ConfigProblem, KeyPath, line_of
from flagpipe.config.model import CHAIN_KEYS, ENV_MODE, REVEAL_SECRETS, SPACES_MODE_NOTE, FlagpipeConfig
from flagpipe.config.yaml_source import interpolate, parse_yaml
from flagpipe.core.host import PluginError, PluginHost, create_plugin_host
from flagpipe.core.policy import PolicyLayer, resolve_policy

if TYPE_CHECKING:
    from collections.abc import Mapping

    from flagpipe.core.callback import Callback, CallbackSettings
    from flagpipe.core.host import CallbackType
    from flagpipe.core.redact_settings import RedactConfig
    from flagpipe.core.redaction import Redactor
    from flagpipe.core.routing import When


@dataclass(frozen=True)
class ChainEntry:
    """One callback of the chain, resolved: its unique name, its type and its validated settings."""

    name: str
    callback_type: CallbackType
    settings: CallbackSettings
    when: When | None = None
    #: The callback's own ``redact:``, compiled; None when it has none.
    redactor: Redactor | None = None

    @property
    def type_name(self) -> str:
        """The callback's ``type``."""
        return self.callback_type.type_name

    def fingerprint(self) -> str:
        """The lane's fingerprint: its type and settings, and its own ``redact:`` when it has one.

        Two processes sharing a lane must agree on it, so one cannot send raw flags to a callback
        that another redacts.
        """
        from flagpipe.core.lane import lane_fingerprint

        plain = lane_fingerprint(self.type_name, self.settings)
        if self.redactor is None:
            return plain
        return f"{plain}+{self.redactor.fingerprint()}"

    def build(self, directory: Path | None = None) -> Callback[Any]:
        """A new callback of this entry, wrapped to receive redacted copies when it has its own ``redact:``.

        :param directory: the flagging directory, where a ``redact:`` with a detector of files finds
            the events' files (else it learns it when the callback is set up).
        """
        callback = self.callback_type.cls(self.settings)
        if self.redactor is None:
            return callback
        from flagpipe.core.redacting_callback import RedactingCallback

        return RedactingCallback(callback, self.redactor, directory=directory)


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config with everything resolved: the directory, the plugins and the chain."""

    config: FlagpipeConfig
    source: str
    directory: Path
    plugins: PluginHost
    chain: tuple[ChainEntry, ...]
    #: The top-level ``redact:``, compiled: applied to every flag before it is stored. None without one.
    redactor: Redactor | None = None
    #: Why the mode is what it is when neither the config nor ``FLAGPIPE_MODE`` set it (the Spaces default).
    mode_note: str | None = None

    def storing_fingerprint(self) -> str:
        """A digest of what happens to a flag before it is stored (the top-level ``redact:``, or ``none``).

        Every process that flags into one directory must agree on it, so that one without the
        redaction cannot store raw flags in a journal another keeps redacted.
        """
        return "none" if self.redactor is None else self.redactor.fingerprint()


def load_config(
    path: str | os.PathLike[str] | None = None,
    *,
    data: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    cli_policy: PolicyLayer | None = None,
    plugins: PluginHost | None = None,
    base_dir: Path | None = None,
) -> LoadedConfig:
    """Load and validate a config, build its plugin manager and resolve its callback chain.

    :param path: a YAML file; relative ``dir`` values are taken from its folder.
    :param data: a config as a dict instead (relative ``dir`` values from ``base_dir`` or the cwd).
        With neither, the defaults apply: manual mode, no options, dir ``flagged``, a CSV callback.
    :param env: the environment for ``${VAR}`` and ``FLAGPIPE_*`` (default: ``os.environ``).
    :param cli_policy: plugin switches given on the command line (they win over env and YAML).
    :param plugins: an existing plugin manager to use instead of building one.
    :raises ConfigError: naming the file, line and key of every problem.
    """
    env = os.environ if env is None else env
    lines: dict[KeyPath, int] = {}
    if path is not None:
        source, raw, lines = _read_file(path)
        root = Path(path).resolve().parent
    else:
        source = "<config>"
        raw = dict(data or {})
        root = (base_dir or Path.cwd()).resolve()
    raw = interpolate(raw, env, source=source, lines=lines)
    override = env.get(ENV_MODE)
    mode_note = None
    if override:
        raw["mode"] = override.strip()
    elif "mode" not in raw and on_spaces(env):
        raw["mode"] = "never"
        mode_note = SPACES_MODE_NOTE
    earlier: tuple[ConfigProblem, ...] = ()
    try:
        config = _validate(FlagpipeConfig, raw, source, lines, (), mode_from_env=bool(override))
    except ConfigError as exc:
        # Report the chain's problems too, when the keys that went wrong leave it checkable.
        partial = _without_bad_keys(raw, exc.problems)
        if partial is None:
            raise
        config, earlier = partial, exc.problems
    if plugins is None:
        try:
            policy = resolve_policy(config.plugins, PolicyLayer.from_env(env), cli_policy)
            plugins = create_plugin_host(policy)
        except (PluginError, ValueError) as exc:
            problem = ConfigProblem(source, line_of(("plugins",), lines), ("plugins",), str(exc))
            raise ConfigError([*earlier, problem]) from None
    redactor = None
    try:
        if config.redact is not None:
            redactor = _redactor(config.redact, plugins, source, lines, ("redact",))
    except ConfigError as exc:
        earlier = (*earlier, *exc.problems)
    chain = _resolve_chain(config, plugins, source, lines, earlier)
    return LoadedConfig(config, source, _directory(config.dir, root), plugins, chain, redactor, mode_note)


def _redactor(
    settings: RedactConfig, plugins: PluginHost, source: str, lines: Mapping[KeyPath, int], at: KeyPath
) -> Redactor:
    """Compile a ``redact:`` block against the registered detectors; a config error names the bad entry."""
    from flagpipe.core.redaction import Redactor, UnknownDetectorError

    try:
        return Redactor.build(settings, plugins.detectors())
    except UnknownDetectorError as exc:
        path: KeyPath = (*at, "detect", exc.index)
        raise ConfigError([ConfigProblem(source, line_of(path, lines), path, str(exc))]) from None
    except ValueError as exc:
        raise ConfigError([ConfigProblem(source, line_of(at, lines), at, str(exc))]) from None


def on_spaces(env: Mapping[str, str]) -> bool:
    """Whether ``env`` is a Hugging Face Space's (``SPACE_ID`` set, or ``SYSTEM=spaces``)."""
    return bool(env.get("SPACE_ID")) or env.get("SYSTEM") == "spaces"


def config_directory(path: str | os.PathLike[str], *, env: Mapping[str, str] | None = None) -> Path:
    """The flagging directory a YAML config names, resolved as :func:`load_config` does.

    Only ``dir`` is read (``${VAR}`` interpolated, relative to the file's folder): no plugin is
    loaded and no callback is checked, so a callback's unset variable does not matter here.

    :raises ConfigError: when the file cannot be read, or its ``dir`` is not valid.
    """
    env = os.environ if env is None else env
    source, raw, lines = _read_file(path)
    only_dir = interpolate({k: v for k, v in raw.items() if k == "dir"}, env, source=source, lines=lines)
    config = _validate(FlagpipeConfig, only_dir, source, lines, ())
    return _directory(config.dir, Path(path).resolve().parent)


def _read_file(path: str | os.PathLike[str]) -> tuple[str, dict[str, Any], dict[KeyPath, int]]:
    """A YAML config's source name, its data (a mapping) and the line of every key."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigProblem(source, None, (), f"cannot read config: {exc.strerror}")]) from None
    raw, lines = parse_yaml(text, source)
    if raw is None:
        raw = {}
    _require_mapping(raw, source, lines)
    return source, raw, lines


def _require_mapping(raw: Any, source: str, lines: Mapping[KeyPath, int]) -> None:
    if not isinstance(raw, dict):
        raise ConfigError([ConfigProblem(source, line_of((), lines), (), "the config must be a mapping of keys")])


def _directory(value: str, root: Path) -> Path:
    """The flagging directory ``value``, taken from ``root`` when relative."""
    directory = Path(value)
    return directory if directory.is_absolute() else root / directory


def _without_bad_keys(raw: dict[str, Any], problems: tuple[ConfigProblem, ...]) -> FlagpipeConfig | None:
    """The config less the top-level keys with problems, or None when the chain cannot be checked without them."""
    bad = {p.path[0] for p in problems if p.path}
    if any(not p.path for p in problems) or bad & {"callbacks", "plugins"}:
        return None
    try:
        return FlagpipeConfig.model_validate({k: v for k, v in raw.items() if k not in bad})
    except ValidationError:
        return None


def _resolve_chain(
    config: FlagpipeConfig,
    plugins: PluginHost,
    source: str,
    lines: Mapping[KeyPath, int],
    earlier: tuple[ConfigProblem, ...] = (),
) -> tuple[ChainEntry, ...]:
    """Resolve each chain item; raise every problem found, after the ``earlier`` ones."""
    problems: list[ConfigProblem] = list(earlier)
    entries: list[ChainEntry] = []
    names: set[str] = set()
    try:
        plugins.callback_types()
    except PluginError as exc:
        problems.append(ConfigProblem(source, line_of(("callbacks",), lines), ("callbacks",), str(exc)))
        raise ConfigError(problems) from None
    for index, item in enumerate(config.callbacks):
        at: KeyPath = ("callbacks", index)
        try:
            callback_type = plugins.callback_type(item.type)
        except PluginError as exc:
            problems.append(ConfigProblem(source, line_of((*at, "type"), lines), (*at, "type"), str(exc)))
            continue
        try:
            settings = _validate(callback_type.settings_model, item.settings, source, lines, at)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        name = item.name or _unique(item.type, names)
        if name in names:
            problems.append(
                ConfigProblem(source, line_of((*at, "name"), lines), (*at, "name"), f"name {name!r} is used twice")
            )
            continue
        names.add(name)
        item.attach_settings(settings)
        redactor = None
        if item.redact is not None:
            try:
                redactor = _redactor(item.redact, plugins, source, lines, (*at, "redact"))
            except ConfigError as exc:
                problems.extend(exc.problems)
                continue
        entries.append(ChainEntry(name, callback_type, settings, item.when, redactor))
    if problems:
        raise ConfigError(problems)
    return tuple(entries)


def _unique(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


ModelT = typing.TypeVar("ModelT", bound=BaseModel)


def _validate(
    model: type[ModelT],
    raw: Any,
    source: str,
    lines: Mapping[KeyPath, int],
    prefix: KeyPath,
    *,
    mode_from_env: bool = False,
) -> ModelT:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors(include_input=False, include_url=False):
            loc = _clean_loc(error["loc"])
            path = (*prefix, *loc)
            message = _message(model, loc, error["type"], error["msg"], chain_item=bool(prefix))
            if mode_from_env and loc == ("mode",):
                problems.append(ConfigProblem(f"environment variable {ENV_MODE}", None, path, message))
                continue
            problems.append(ConfigProblem(source, line_of(path, lines), path, message))
        raise ConfigError(problems) from None


def _clean_loc(loc: tuple[int | str, ...]) -> KeyPath:
    """Drop pydantic's internal location parts (the ``settings`` wrapper of chain items)."""
    parts: list[str | int] = []
    for index, part in enumerate(loc):
        if part == "settings" and index >= 2 and loc[0] == "callbacks":
            continue
        parts.append(part)
    return tuple(parts)


def _message(model: type[BaseModel], loc: KeyPath, kind: str, msg: str, *, chain_item: bool) -> str:
    if kind == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        if parent is not None:
            allowed = list(parent.model_fields)
            if chain_item and not loc[:-1]:
                allowed = [*CHAIN_KEYS, *allowed]
            return f"unknown key; allowed keys: {', '.join(allowed) or 'none'}"
        return "unknown key"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    return _PLAIN_MESSAGES.get(kind, msg)


#: Messages in YAML's terms for pydantic errors that would otherwise name Python types or classes.
_PLAIN_MESSAGES = {
    "missing": "required key is missing",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
    "dict_type": "expected a mapping of keys",
    "model_type": "expected a mapping of keys",
}


def _model_at(model: type[BaseModel], loc: KeyPath) -> type[BaseModel] | None:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            args = [a for a in get_args(current) if a is not Ellipsis]
            current = args[0] if args else None
        elif isinstance(current, type) and issubclass(current, BaseModel) and part in current.model_fields:
            current = current.model_fields[part].annotation
        else:
            return None
        current = _unwrap_optional(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def resolve_config(
    config: Mapping[str, Any] | FlagpipeConfig | LoadedConfig | None,
    *,
    overrides: Mapping[str, Any] | None = None,
    plugins: PluginHost | None = None,
    env: Mapping[str, str] | None = None,
) -> LoadedConfig:
    """Resolve what a ``Flagger`` was given: a dict, model or loaded config, with overrides applied.

    A loaded config without overrides is used as it is; with overrides it is loaded again with them
    (its flagging dir kept as resolved, its plugins reused unless ``plugins`` is given).

    :param overrides: top-level keys (``mode``, ``options``, ``dir`` ...) that replace the config's;
        None values are ignored.
    """
    changes = {k: _plain(v) for k, v in (overrides or {}).items() if v is not None}
    if isinstance(config, LoadedConfig):
        if not changes:
            return config
        plugins = plugins or config.plugins
        data = config.config.model_dump(mode="json", exclude_unset=True, context=REVEAL_SECRETS)
        data["dir"] = str(config.directory)
    elif isinstance(config, FlagpipeConfig):
        data = config.model_dump(mode="json", exclude_unset=True, context=REVEAL_SECRETS)
    else:
        data = dict(config or {})
    data.update(changes)
    return load_config(data=data, plugins=plugins, env=env)


def _plain(value: Any) -> Any:
    """Turn tuples (from keyword arguments) into lists so the config model sees YAML-like data."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if hasattr(value, "__fspath__"):
        return str(value)
    return value
