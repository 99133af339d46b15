"""Turn the values an app hands to ``flag()`` into typed event fields, storing files on the way."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flagpipe.core.chat import CHAT_KIND, normalize
from flagpipe.core.event import FILE_KINDS, FieldValue
from flagpipe.core.event_build import trusted_field
from flagpipe.core.files import FileWithheldError, guess_media_type, safe_component
from flagpipe.core.kinds import FileUpload
from flagpipe.core.redaction import withheld_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from flagpipe.core.event import FileRef
    from flagpipe.core.files import FileStore
    from flagpipe.core.kinds import ValueKind
    from flagpipe.core.schema import FieldSpec

_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, ".png"),
    (b"\xff\xd8\xff", 0, ".jpg"),
    (b"GIF8", 0, ".gif"),
    (b"WEBP", 8, ".webp"),
    (b"WAVE", 8, ".wav"),
    (b"ID3", 0, ".mp3"),
    (b"OggS", 0, ".ogg"),
    (b"fLaC", 0, ".flac"),
    (b"%PDF", 0, ".pdf"),
    (b"ftyp", 4, ".mp4"),
)


def sniff_suffix(data: bytes) -> str:
    """Guess a file suffix from the first bytes of ``data`` (``.bin`` when unknown)."""
    for magic, offset, suffix in _MAGIC:
        if data[offset : offset + len(magic)] == magic:
            return suffix
    return ".bin"


class ValueConverter:
    """Builds :class:`FieldValue` items from raw values, declared fields and registered value kinds."""

    def __init__(self, files: FileStore, value_kinds: Sequence[ValueKind]) -> None:
        self.files = files
        self.value_kinds = tuple(value_kinds)

    def convert(
        self, name: str, value: Any, declared: FieldSpec | None, *, withheld: dict[str, int] | None = None
    ) -> FieldValue:
        """Convert one value; raise ``ValueError`` or ``TypeError`` naming the field on bad input.

        :param withheld: where to count what the file store's screen found in a file it withheld
            (the field is then left without its file); None lets :class:`FileWithheldError` out.
        """
        if declared is None and name.strip():  # the common case first: an undeclared text or number
            plain = _plain_field(name, value)
            if plain is not None:
                return plain
        return self._convert(name, value, declared, withheld)

    def _convert(
        self, name: str, value: Any, declared: FieldSpec | None, withheld: dict[str, int] | None
    ) -> FieldValue:
        if not name.strip():
            raise ValueError(f"field names must not be empty or blank, got {name!r}")
        role = declared.role if declared else "input"
        kind = declared.kind if declared else None
        if kind == CHAT_KIND and value is not None:
            messages = normalize(name, value, lambda file: self._chat_file(name, file, withheld))
            return _field(name, role, kind, messages)
        if isinstance(value, (Path, bytes, bytearray, FileUpload)) or (kind in FILE_KINDS and value is not None):
            try:
                return self._file(name, value, kind, role)
            except FileWithheldError as exc:
                if withheld is None:
                    raise
                _count(withheld, exc.found)
                return FieldValue(name=name, role=role, kind=kind or _withheld_kind(value))
        if value is None:
            return _field(name, role, kind or "text", None)
        if kind is None:
            kind = _infer_kind(value)
            if kind is None:
                value_kind = self._value_kind(value)
                if value_kind is None:
                    raise TypeError(
                        f"field {name!r}: cannot flag a value of type {type(value).__name__}; "
                        "pass a str, number, bool, list, dict, bytes or path, or install a plugin "
                        "that registers a value kind for it"
                    )
                return self._file(name, value, None, role)
        return _field(name, role, kind, _coerce(name, value, kind))

    def _chat_file(self, name: str, file: Any, withheld: dict[str, int] | None) -> FileRef | str:
        """A chat message's file stored, or, when the screen withholds it, the text that stands for it."""
        if isinstance(file, str):
            file = Path(file)
        try:
            stored = self._file(name, file, "file", "input").file
        except FileWithheldError as exc:
            if withheld is None:
                raise
            _count(withheld, exc.found)
            return withheld_text(exc.found)
        assert stored is not None
        return stored

    def _value_kind(self, value: object) -> ValueKind | None:
        for value_kind in self.value_kinds:
            if value_kind.accepts(value):
                return value_kind
        return None

    def _file(self, name: str, value: Any, kind: str | None, role: Any) -> FieldValue:
        label = safe_component(name, fallback="field")
        if isinstance(value, (str, Path)):
            ref = self.files.store_path(name, Path(value))
        elif isinstance(value, (bytes, bytearray)):
            data = bytes(value)
            ref = self.files.store_bytes(name, data, original_name=label + sniff_suffix(data))
        elif isinstance(value, FileUpload):
            original = safe_component(value.name, fallback=label + sniff_suffix(value.data))
            ref = self.files.store_bytes(name, value.data, original_name=original)
            if value.media_type:
                ref = ref.model_copy(update={"media_type": value.media_type})
        else:
            value_kind = self._value_kind(value)
            if value_kind is None:
                raise TypeError(
                    f"field {name!r} ({kind}): expected a path, bytes or a value a plugin can encode, "
                    f"got {type(value).__name__}"
                )
            encoded = value_kind.encode(value)
            ref = self.files.store_bytes(name, encoded.data, original_name=label + encoded.suffix)
            if encoded.media_type:
                ref = ref.model_copy(update={"media_type": encoded.media_type})
            kind = kind or encoded.kind or value_kind.kind
        return FieldValue(name=name, role=role, kind=kind or kind_of_media(ref.media_type), file=ref)


def _withheld_kind(value: Any) -> str:
    """The kind a withheld file's field would have had, from the name it came with (``file`` when unknown)."""
    if isinstance(value, FileUpload):
        return kind_of_media(value.media_type or guess_media_type(value.name))
    if isinstance(value, (str, Path)):
        return kind_of_media(guess_media_type(Path(value).name))
    return kind_of_media(guess_media_type("x" + sniff_suffix(value)) if isinstance(value, bytes) else None)


def _count(withheld: dict[str, int], found: dict[str, int]) -> None:
    for detector, count in found.items():
        withheld[detector] = withheld.get(detector, 0) + count


def _field(name: str, role: Any, kind: str, value: Any) -> FieldValue:
    """Build a field whose parts this module has already checked, without validating them again.

    Names are non-empty strings, kinds come from declarations (validated) or inference (constants),
    and values went through :func:`_coerce`: a second validation would only cost time on every flag.
    """
    return trusted_field(name, role, kind, value)


def _plain_field(name: str, value: Any) -> FieldValue | None:
    """An undeclared ``str``, ``int`` or finite ``float`` as the general path makes it, else None."""
    plain = type(value)
    if plain is str:
        return trusted_field(name, "input", "text", value)
    if plain is int or (plain is float and math.isfinite(value)):
        return trusted_field(name, "input", "number", value)
    return None


def kind_of_media(media_type: str | None) -> str:
    """The field kind for a media type: ``image``, ``audio``, ``video`` or ``file``."""
    major = (media_type or "").split("/")[0]
    return major if major in ("image", "audio", "video") else "file"


def _infer_kind(value: object) -> str | None:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, (list, tuple, dict)):
        return "json"
    return None


def _coerce(name: str, value: Any, kind: str) -> Any:
    if kind == "number":
        if isinstance(value, str):
            try:
                value = json.loads(value.strip())
            except ValueError:
                raise ValueError(f"field {name!r}: {value!r} is not a number") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"field {name!r}: expected a number, got {type(value).__name__}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"field {name!r}: {value} cannot be stored (not a finite number)")
        return value
    if kind == "bool":
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if not isinstance(value, bool):
            raise ValueError(f"field {name!r}: expected true or false, got {value!r}")
        return value
    if kind == "text":
        return value if isinstance(value, str) else json.dumps(value)
    if kind == "json":
        if isinstance(value, tuple):
            value = list(value)
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"field {name!r}: not JSON: {exc}") from None
        return value
    return value
