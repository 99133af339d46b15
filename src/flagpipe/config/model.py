"""The config model: what ``flagging.yaml`` may hold, validated by pydantic."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    FieldSerializationInfo,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    field_serializer,
    field_validator,
    model_serializer,
    model_validator,
)

from flagpipe.config.server_model import ServerConfig
from flagpipe.core.event import Role
from flagpipe.core.policy import PolicyLayer
from flagpipe.core.redact_settings import RedactConfig
from flagpipe.core.routing import When
from flagpipe.core.secrets import mask_settings, mask_userinfo_in
from flagpipe.core.settings import DeliveryConfig, RetentionConfig

#: The config file flagpipe looks for when none is named.
DEFAULT_CONFIG_NAME = "flagging.yaml"
#: Environment variable that overrides the config's ``mode``.
ENV_MODE = "FLAGPIPE_MODE"
#: Why the mode is ``never`` when the config sets no mode on a Hugging Face Space: Gradio's default there.
SPACES_MODE_NOTE = (
    "the default on Hugging Face Spaces (SPACE_ID or SYSTEM=spaces is set), as in Gradio; "
    "set mode in the config to flag there"
)
#: Environment variable naming the config file when none is given.
ENV_CONFIG = "FLAGPIPE_CONFIG"
#: Serialization context that keeps secrets (``model_dump(context=REVEAL_SECRETS)``), for round trips only.
REVEAL_SECRETS = {"reveal_secrets": True}
#: Keys of a callback chain item that belong to flagpipe, not to the callback's settings.
CHAIN_KEYS = ("type", "name", "when", "redact")

FlaggingMode = Literal["manual", "auto", "never"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OptionChoice(_Strict):
    """A reason a person can pick: a ``label`` shown on the button and the ``value`` stored."""

    label: str = Field(min_length=1, description="Shown to the person flagging ('Flag as <label>').")
    value: str = Field(description="Stored in the event's option.")

    @model_validator(mode="before")
    @classmethod
    def _from_short_forms(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"label": data, "value": data}
        if isinstance(data, (list, tuple)):
            if len(data) != 2:
                raise ValueError("an option pair must be [label, value]")
            return {"label": data[0], "value": data[1]}
        if isinstance(data, dict) and "label" in data and "value" not in data:
            return {**data, "value": data["label"]}
        return data


def resolve_option(options: Sequence[OptionChoice], option: str | None) -> str | None:
    """The value to store for ``option`` (a label or a value of ``options``); any option when none are set.

    :raises ValueError: when options are configured and ``option`` is none of them (the message lists them).
    """
    if option is None or not options:
        return option
    for choice in options:
        if option in (choice.value, choice.label):
            return choice.value
    allowed = ", ".join(repr(c.value) for c in options)
    raise ValueError(f"option {option!r} is not one of the configured options: {allowed}")


class FieldDeclaration(_Strict):
    """A field declared in the config: its name, kind and role."""

    name: str = Field(min_length=1, description="The field's label.")
    kind: str = Field(default="text", pattern=r"^[a-z][a-z0-9_]*$", description="text, number, image, ...")
    role: Role = Field(default="input", description="input or output.")


class ChainItem(BaseModel):
    """One item of the callback chain: a ``type``, an optional ``name``, and the callback's settings.

    Everything but ``type`` and ``name`` is the callback's settings, validated by its own ``Settings``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str = Field(min_length=1, description="The callback type, such as csv.")
    name: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.-]+$", description="A unique name in the chain (default: type)."
    )
    when: When | None = Field(
        default=None, description="Only events meeting these conditions go to this callback (routing)."
    )
    redact: RedactConfig | None = Field(
        default=None, description="Redaction of what this callback receives only (the journal keeps the original)."
    )
    settings: dict[str, Any] = Field(
        default_factory=dict,
        repr=False,  # raw values: secrets are masked only once the callback's Settings validate them
        description="The callback's own settings.",
    )
    #: The settings as the callback's own model validated them (secrets as ``SecretStr``), once resolved.
    _validated: BaseModel | None = PrivateAttr(default=None)

    def attach_settings(self, settings: BaseModel) -> None:
        """Keep the validated settings, so that dumps show their secrets masked the way the callback declares."""
        self._validated = settings

    @field_serializer("settings")
    def _masked_settings(self, value: dict[str, Any], info: FieldSerializationInfo) -> Any:
        """Secrets masked in every dump, unless the context is :data:`REVEAL_SECRETS`."""
        if isinstance(info.context, dict) and info.context.get("reveal_secrets"):
            return value
        if self._validated is None:
            return mask_settings(value)
        return mask_userinfo_in(self._validated.model_dump(mode="json", include=set(value)))

    @model_serializer(mode="wrap")
    def _flat(self, handler: SerializerFunctionWrapHandler) -> Any:
        """Dump in the YAML's shape (settings beside ``type``), so a dump validates back into the same item."""
        data = handler(self)
        if isinstance(data, dict) and data.get("redact", ...) is None:
            del data["redact"]  # no redact: of its own, as in the YAML
        if isinstance(data, dict) and isinstance(data.get("settings"), dict):
            data = {**{k: v for k, v in data.items() if k != "settings"}, **data["settings"]}
        return data

    @model_validator(mode="before")
    @classmethod
    def _split_settings(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"type": data}
        if isinstance(data, dict):
            own = {k: v for k, v in data.items() if k in CHAIN_KEYS}
            own["settings"] = {k: v for k, v in data.items() if k not in CHAIN_KEYS}
            return own
        return data


def _repeated(items: Iterable[str]) -> list[str]:
    """The items given more than once, sorted (one pass: linear in the number of items)."""
    return sorted(item for item, count in Counter(items).items() if count > 1)


class FlagpipeConfig(BaseModel):
    """The whole of ``flagging.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = Field(default=1, description="The config format version.")
    mode: FlaggingMode = Field(
        default="manual",
        description="manual: a Flag button; auto: every prediction is stored; never: nothing is stored. "
        "FLAGPIPE_MODE overrides it.",
    )
    options: tuple[OptionChoice, ...] = Field(
        default=(), description="Reasons to pick: strings, [label, value] pairs or {label, value} maps."
    )
    dir: str = Field(
        default="flagged", min_length=1, description="The flagging directory, relative to the config file."
    )
    app: str | None = Field(default=None, description="The app's name, stored in every event.")
    fields: tuple[FieldDeclaration, ...] | None = Field(
        default=None, description="Declared fields (otherwise the first flag defines them)."
    )
    notice: str | Literal[False] | None = Field(
        default=None,
        description="Markdown shown beside Flag buttons; false turns off the default notice of auto mode.",
    )
    max_file_bytes: int = Field(
        default=100 * 1024 * 1024, gt=0, description="The largest file a flag may carry, in bytes."
    )
    plugins: PolicyLayer = Field(
        default_factory=PolicyLayer, description="Which plugins load: autoload, allow, block, require, strict."
    )
    delivery: DeliveryConfig = Field(default_factory=DeliveryConfig, description="How flags reach the chain.")
    retention: RetentionConfig = Field(
        default_factory=RetentionConfig, description="How long delivered events stay in the journal."
    )
    server: ServerConfig = Field(
        default_factory=ServerConfig, description="API keys and limits for flagpipe serve (the collector)."
    )
    redact: RedactConfig | None = Field(
        default=None,
        description="Redaction applied before a flag is stored: nothing it finds reaches the journal or any callback.",
    )
    callbacks: tuple[ChainItem, ...] = Field(
        default=(ChainItem(type="csv"),), description="The chain of callbacks every flag is delivered to."
    )

    @field_validator("options")
    @classmethod
    def _unique_options(cls, value: tuple[OptionChoice, ...]) -> tuple[OptionChoice, ...]:
        for attribute in ("label", "value"):
            repeated = _repeated(getattr(o, attribute) for o in value)
            if repeated:
                raise ValueError(f"option {attribute}s must be unique; repeated: {', '.join(repeated)}")
        return value

    @field_validator("fields")
    @classmethod
    def _unique_fields(cls, value: tuple[FieldDeclaration, ...] | None) -> tuple[FieldDeclaration, ...] | None:
        repeated = _repeated(f.name for f in value or ())
        if repeated:
            raise ValueError(f"field names must be unique; repeated: {', '.join(repeated)}")
        return value
