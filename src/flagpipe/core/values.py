"""Turn the values an app hands to ``flag()`` into typed event fields, storing files on the way."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flagpipe.core.chat import CHAT_KIND, normalize
from flagpipe.core.event import FILE_KINDS, FieldValue, FileRef
from flagpipe.core.event_build import trusted_field
from flagpipe.core.files import FileWithheldError, guess_media_type, safe_component
from flagpipe.core.kinds import FileUpload
from flagpipe.core.redaction import withheld_text

if TYPE_CHECKING:
    from collections.abc import Sequence

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


#: Decides whether a value given as a local path may be read: given the field's name and the path
#: as it came (text, or a ``Path`` object made by code), returns the path to read, or raises
#: ``ValueError`` naming the field.
PathCheck = Callable[[str, "str | Path"], Path]

#: How many files one flag may carry in its chat messages (each is stored or checked).
MAX_CHAT_FILES = 1000


def no_local_paths(name: str, path: str | Path) -> Path:
    """A :data:`PathCheck` for flags from outside (``flagpipe serve``): no file is read from this machine."""
    raise ValueError(
        f"field {name!r}: a file must be sent as the file itself (base64 or a multipart part), "
        "not as a path on the server"
    )


@dataclass
class Intake:
    """What one flag's conversion keeps: where its values may come from, and what redaction withheld.

    :param paths: checks every value given as a local path before it is read (None: any path,
        for values from the app's own code).
    """

    paths: PathCheck | None = None
    #: What the file store's screen found in files it withheld, detector name to count.
    withheld: dict[str, int] = dataclass_field(default_factory=dict)
    #: Stored-file references checked already in this flag (each is checked once).
    checked: set[tuple[str, int, str]] = dataclass_field(default_factory=set)
    #: How many chat files this flag carried so far.
    chat_files: int = 0


class ValueConverter:
    """Builds :class:`FieldValue` items from raw values, declared fields and registered value kinds."""

    def __init__(self, files: FileStore, value_kinds: Sequence[ValueKind]) -> None:
        self.files = files
        self.value_kinds = tuple(value_kinds)

    def convert(self, name: str, value: Any, declared: FieldSpec | None, intake: Intake | None = None) -> FieldValue:
        """Convert one value; raise ``ValueError`` or ``TypeError`` naming the field on bad input.

        :param intake: the flag's conversion state (see :class:`Intake`); without one, any local
            path is read and a file the store's screen withholds raises :class:`FileWithheldError`.
        """
        if declared is None and name.strip():  # the common case first: an undeclared text or number
            plain = _plain_field(name, value)
            if plain is not None:
                return plain
        return self._convert(name, value, declared, intake)

    def _convert(self, name: str, value: Any, declared: FieldSpec | None, intake: Intake | None) -> FieldValue:
        if not name.strip():
            raise ValueError(f"field names must not be empty or blank, got {name!r}")
        role = declared.role if declared else "input"
        kind = declared.kind if declared else None
        if kind == CHAT_KIND and value is not None:
            messages = normalize(name, value, lambda file: self._chat_file(name, file, intake))
            return _field(name, role, kind, messages)
        if isinstance(value, (Path, bytes, bytearray, FileUpload)) or (kind in FILE_KINDS and value is not None):
            return self._withholding(name, value, kind, role, intake, kind or _withheld_kind(value))
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
                return self._withholding(name, value, None, role, intake, value_kind.kind)
        return _field(name, role, kind, _coerce(name, value, kind))

    def _withholding(
        self, name: str, value: Any, kind: str | None, role: Any, intake: Intake | None, fallback: str
    ) -> FieldValue:
        """:meth:`_file`, or, when the store's screen withholds the file, the field without it (kind ``fallback``)."""
        try:
            return self._file(name, value, kind, role, intake)
        except FileWithheldError as exc:
            if intake is None:
                raise
            _count(intake.withheld, exc.found)
            return FieldValue(name=name, role=role, kind=fallback)

    def _chat_file(self, name: str, file: Any, intake: Intake | None) -> FileRef | str:
        """A chat message's file stored (or, stored already, checked), or the text that stands for it when withheld."""
        if intake is not None and intake.paths is not None and isinstance(file, (str, Path)):
            file = intake.paths(name, file)
        elif isinstance(file, str):
            file = Path(file)
        if intake is not None:
            intake.chat_files += 1
            if intake.chat_files > MAX_CHAT_FILES:
                raise ValueError(f"field {name!r} (chat): more than {MAX_CHAT_FILES:,} files in one conversation")
        try:
            if isinstance(file, FileRef):
                key = (file.path, file.size, file.sha256)
                if intake is None or key not in intake.checked:
                    self.files.check_stored(name, file)
                    if intake is not None:
                        intake.checked.add(key)
                return file
            stored = self._file(name, file, "file", "input", intake).file
        except FileWithheldError as exc:
            if intake is None:
                raise
            _count(intake.withheld, exc.found)
            return withheld_text(exc.found)
        assert stored is not None
        return stored

    def _value_kind(self, value: object) -> ValueKind | None:
        for value_kind in self.value_kinds:
            if value_kind.accepts(value):
                return value_kind
        return None

    def _file(self, name: str, value: Any, kind: str | None, role: Any, intake: Intake | None) -> FieldValue:
        label = safe_component(name, fallback="field")
        if isinstance(value, (str, Path)):
            path = intake.paths(name, value) if intake is not None and intake.paths is not None else Path(value)
            ref = self.files.store_path(name, path)
        elif isinstance(value, (bytes, bytearray)):
            data = bytes(value)
            ref = self.files.store_bytes(name, data, original_name=label + sniff_suffix(data))
        elif isinstance(value, FileUpload):
            original = safe_component(value.name, fallback=label + sniff_suffix(value.data))
            ref = self.files.store_bytes(name, value.data, original_name=original, media_type=value.media_type)
        else:
            value_kind = self._value_kind(value)
            if value_kind is None:
                raise TypeError(
                    f"field {name!r} ({kind}): expected a path, bytes or a value a plugin can encode, "
                    f"got {type(value).__name__}"
                )
            encoded = value_kind.encode(value)
            original = label + encoded.suffix
            ref = self.files.store_bytes(name, encoded.data, original_name=original, media_type=encoded.media_type)
            kind = kind or encoded.kind or value_kind.kind
        return FieldValue(name=name, role=role, kind=kind or kind_of_media(ref.media_type), file=ref)


def _withheld_kind(value: Any) -> str:
    """The kind a withheld file's field would have had, from the name it came with (``file`` when unknown)."""
    if isinstance(value, FileUpload):
        return kind_of_media(value.media_type or guess_media_type(value.name))
    if isinstance(value, (str, Path)):
        return kind_of_media(guess_media_type(Path(value).name))
    data = bytes(value) if isinstance(value, (bytes, bytearray)) else b""
    return kind_of_media(guess_media_type("x" + sniff_suffix(data)) if data else None)


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
