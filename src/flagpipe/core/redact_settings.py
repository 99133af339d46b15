"""The ``redact:`` settings, at the top of a config or on one callback of the chain."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    FieldSerializationInfo,
    SecretStr,
    field_serializer,
    model_validator,
)

from flagpipe.core.detectors import DETECTOR_NAME_PATTERN

#: The extra that installs what the built-in detectors and custom patterns need.
REDACT_EXTRA = "pip install 'flagpipe[redact]'"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def compile_pattern(pattern: str) -> Any:
    """Compile a custom pattern with the ``regex`` library; raise ``ValueError`` saying what is wrong."""
    try:
        import regex
    except ImportError:  # pragma: no cover - the redact extra is part of the dev install
        raise ValueError(f"custom patterns need the regex library: {REDACT_EXTRA}") from None
    try:
        compiled = regex.compile(pattern, regex.VERSION0)
    except regex.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    if compiled.search("") is not None:
        raise ValueError("the pattern matches an empty text; it must match at least one character")
    return compiled


def _valid_pattern(pattern: str) -> str:
    compile_pattern(pattern)
    return pattern


def _valid_name(name: str) -> str:
    if not DETECTOR_NAME_PATTERN.match(name):
        raise ValueError(f"name {name!r} must match {DETECTOR_NAME_PATTERN.pattern}")
    return name


DetectorName = Annotated[str, AfterValidator(_valid_name)]
Pattern = Annotated[str, AfterValidator(_valid_pattern)]


class DetectEntry(_Strict):
    """One item of ``detect:``: a detector's name and its options (``- phone: {region: DE}``)."""

    name: DetectorName = Field(description="The detector's name.")
    options: dict[str, Any] = Field(default_factory=dict, description="The detector's own options.")

    @model_validator(mode="before")
    @classmethod
    def _from_short_forms(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"name": data}
        if isinstance(data, dict) and len(data) == 1 and "name" not in data:
            ((name, options),) = data.items()
            if options is not None and not isinstance(options, dict):
                raise ValueError(f"the options of detector {name!r} must be a mapping of keys")
            return {"name": name, "options": options or {}}
        return data


class RedactConfig(_Strict):
    """What to find in a flag's text and what to do with it, before storing (top level) or sending (a callback)."""

    detect: tuple[DetectEntry, ...] = Field(
        default=(),
        description="Detectors to run: email, phone, credit_card, iban, ip, url_credentials, secret (text), "
        "image_location (files), or one a plugin registers; an item may be a one-key mapping of a detector "
        "to its options. Files are scanned only when a detector of files is listed.",
    )
    patterns: dict[DetectorName, Pattern] = Field(
        default_factory=dict,
        description="Custom detectors: a name (the mask is <name>) to a regular expression (regex library syntax).",
    )
    fields: tuple[str, ...] | None = Field(
        default=None,
        description="The fields to scan (default: every field; a file field only by a detector of files).",
    )
    skip_fields: tuple[str, ...] = Field(default=(), description="Fields never scanned.")
    comment: bool = Field(default=True, description="Scan the comment.")
    metadata: bool = Field(default=True, description="Scan the strings in the metadata.")
    action: Literal["mask", "hash", "drop"] = Field(
        default="mask",
        description="mask: replace with <detector>; hash: with <detector:keyed-HMAC>, the same for the same "
        "value; drop: refuse the whole flag (the receipt says why).",
    )
    username: Literal["keep", "hash", "drop"] = Field(
        default="keep", description="keep the username, hash it (keyed HMAC) or drop it."
    )
    key: SecretStr | None = Field(
        default=None, description="The HMAC key for hash (such as ${REDACT_KEY}); at least 16 characters."
    )
    timeout: float = Field(
        default=1.0,
        gt=0,
        description="Seconds one text's scan may take before redaction fails closed (bounds a backtracking pattern).",
    )

    @field_serializer("key")
    def _masked_key(self, value: SecretStr | None, info: FieldSerializationInfo) -> str | None:
        """The key masked in every dump, unless the context asks for secrets (a config's round trip)."""
        if value is None:
            return None
        if isinstance(info.context, dict) and info.context.get("reveal_secrets"):
            return value.get_secret_value()
        return "**********"

    @model_validator(mode="after")
    def _key_for_hash(self) -> RedactConfig:
        hashing = self.action == "hash" or self.username == "hash"
        if hashing and self.key is None:
            raise ValueError("hash needs a key: set key (for example key: ${REDACT_KEY})")
        if self.key is not None and len(self.key.get_secret_value()) < 16:
            raise ValueError("key must be at least 16 characters long")
        names = [entry.name for entry in self.detect]
        repeated = sorted({n for n in names if names.count(n) > 1} | (set(names) & set(self.patterns)))
        if repeated:
            raise ValueError(f"detector names must be unique; repeated: {', '.join(repeated)}")
        if not names and not self.patterns and self.username == "keep":
            raise ValueError("nothing to redact: list detectors in detect, add patterns, or set username")
        return self


__all__ = ["REDACT_EXTRA", "DetectEntry", "RedactConfig", "compile_pattern"]
