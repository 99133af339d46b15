"""Redacting a flag event: what a ``redact:`` block finds in its text, masked, hashed or refused.

A :class:`Redactor` is built once per ``redact:`` block from the registered detectors and applied
to each event: the global one before the journal (``flag()`` refuses a flag it drops), a
callback's own one to the copy that callback receives. The event's ``metadata["redacted"]`` counts
the spans each detector found (never the values).

Files are scanned only by a block that lists a detector of files (one with ``scan_file``): the
global block screens each file before it is stored (:meth:`Redactor.screen_file`, called by the
file store), a callback's block each file of the copy it sends. A file with a finding is withheld
whole: the field keeps its name and kind with no file (a file inside a chat message becomes a text
part such as ``<image_location>``), or, with ``action: drop``, the flag is refused.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import io
import mimetypes
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePath
from typing import IO, TYPE_CHECKING, Any

from flagpipe.core.chat import CHAT_KIND
from flagpipe.core.detectors import Detector
from flagpipe.core.event import FILE_KINDS, FileRef
from flagpipe.core.redact_scan import Found, Scanner, ScanTimeoutError, merge

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from pydantic import JsonValue

    from flagpipe.core.event import FieldValue, FlagEvent
    from flagpipe.core.redact_settings import RedactConfig

#: The metadata key where an event records what redaction found: detector name to number of spans.
METADATA_KEY = "redacted"

#: How many hex digits of the HMAC a hashed span keeps (64 bits: stable, and short enough to read).
TOKEN_DIGITS = 16


class RedactionRefusedError(Exception):
    """Redaction refused a flag (``action: drop``, or a scan that failed); the message says why."""


class RedactionFailedError(RedactionRefusedError):
    """A scan could not finish (it timed out, or a detector failed), so what it was given is refused.

    A global block refuses the flag, as for a drop; a callback's block makes the delivery a dead
    letter for that callback (a drop there only skips the callback).
    """


class UnknownDetectorError(ValueError):
    """A ``detect:`` entry names a detector no plugin registered; ``index`` is its place in the list."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.index = index


def resolve_detectors(settings: RedactConfig, available: Mapping[str, Detector]) -> list[Detector]:
    """The detectors a ``redact:`` block asks for, configured, custom patterns first.

    :raises UnknownDetectorError: for a name no plugin registered (the error lists the known ones).
    :raises ValueError: for options a detector refuses (``UnknownDetectorError`` carries the index).
    """
    detectors = [Detector(name, pattern=pattern) for name, pattern in settings.patterns.items()]
    for index, entry in enumerate(settings.detect):
        detector = available.get(entry.name)
        if detector is None:
            known = ", ".join(sorted(available)) or "none"
            raise UnknownDetectorError(f"unknown detector {entry.name!r}; registered detectors: {known}", index)
        try:
            detectors.append(detector.with_options(entry.options))
        except (ValueError, TypeError) as exc:
            raise UnknownDetectorError(str(exc), index) from None
    return detectors


class Redactor:
    """One ``redact:`` block, compiled: apply it to events with :meth:`redact`."""

    def __init__(self, settings: RedactConfig, detectors: list[Detector]) -> None:
        self.settings = settings
        self.detector_names = tuple(d.name for d in detectors)
        text = [d for d in detectors if d.scans_text]
        custom = [d for d in text if d.name in settings.patterns]
        own = [d for d in text if d.name not in settings.patterns]
        self._file_detectors = tuple(d for d in detectors if d.scan_file is not None)
        self._scanners = tuple(
            Scanner(group, settings.timeout, bounded=bounded)
            for group, bounded in ((custom, True), (own, False))
            if group
        )
        self._key = settings.key.get_secret_value().encode() if settings.key is not None else None
        self._only = frozenset(settings.fields) if settings.fields is not None else None
        self._skip = frozenset(settings.skip_fields)
        self._action = settings.action

    @classmethod
    def build(cls, settings: RedactConfig, available: Mapping[str, Detector]) -> Redactor:
        """Resolve the block's detectors among ``available`` and compile them (see :func:`resolve_detectors`)."""
        return cls(settings, resolve_detectors(settings, available))

    # -- events ----------------------------------------------------------------------------------

    @property
    def scans_files(self) -> bool:
        """True when the block lists a detector of files, so that files are scanned too."""
        return bool(self._file_detectors)

    def scans_field(self, name: str) -> bool:
        """True when the block's ``fields`` / ``skip_fields`` let it scan the field ``name``."""
        return name not in self._skip and (self._only is None or name in self._only)

    def redact(
        self, event: FlagEvent, *, directory: Path | None = None, withheld: Mapping[str, int] | None = None
    ) -> FlagEvent:
        """The event with its text redacted (the same object when nothing was found).

        :param directory: the flagging directory, where the event's files are: given, a block with a
            detector of files scans them and withholds those with a finding (a callback's block).
        :param withheld: what :meth:`screen_file` found in the files it kept out of the event when
            they were stored (a global block), counted in ``metadata["redacted"]`` with the rest.
        :raises RedactionRefusedError: when the action is ``drop`` and something was found, or a
            text took longer to scan than the timeout; the message says why, never what was found.
        """
        counts: collections.Counter[str] = collections.Counter(withheld or {})
        places: list[str] = []
        update: dict[str, Any] = {}
        files = directory if self._file_detectors else None
        fields = tuple(self._field(item, counts, places, files) for item in event.fields)
        if any(new is not old for new, old in zip(fields, event.fields, strict=True)):
            update["fields"] = fields
        if self.settings.comment and event.comment:
            comment = self._value(event.comment, counts, places, "the comment")
            if comment is not event.comment:
                update["comment"] = comment
        metadata = event.metadata
        if self.settings.metadata and metadata:
            scanned = {k: self._value(v, counts, places, "the metadata") for k, v in metadata.items()}
            if any(scanned[k] is not v for k, v in metadata.items()):
                metadata = scanned
        if counts:
            if self._action == "drop":
                found = ", ".join(f"{name} ({count})" for name, count in sorted(counts.items()))
                raise RedactionRefusedError(
                    f"redaction found {found} in {', '.join(dict.fromkeys(places))} and its action is drop"
                )
            metadata = {**metadata, METADATA_KEY: _merged(metadata.get(METADATA_KEY), counts)}
        if metadata is not event.metadata:
            update["metadata"] = metadata
        username = self._username(event.username)
        if username != event.username:
            update["username"] = username
        return event.model_copy(update=update) if update else event

    def _field(
        self, item: FieldValue, counts: collections.Counter[str], places: list[str], files: Path | None
    ) -> FieldValue:
        if not self.scans_field(item.name):
            return item
        where = f"field {item.name!r}"
        if item.file is not None or item.kind in FILE_KINDS:
            if item.file is None or files is None:
                return item
            found = self.scan_file(files / item.file.path, item.file.media_type, where)
            if not found:
                return item
            counts.update(found)
            places.append(where)
            return item.model_copy(update={"file": None, "value": None})
        value = item.value
        if files is not None and item.kind == CHAT_KIND:
            value = self._chat_files(value, files, counts, places, where)
        value = self._value(value, counts, places, where)
        return item if value is item.value else item.model_copy(update={"value": value})

    def _chat_files(
        self, messages: Any, files: Path, counts: collections.Counter[str], places: list[str], where: str
    ) -> Any:
        """A conversation with each file part in which a detector of files finds something replaced by a text part."""
        if not isinstance(messages, list):
            return messages
        changed = False
        result = []
        for message in messages:
            content = message.get("content") if isinstance(message, dict) else None
            kept = message
            if isinstance(content, list):
                parts = [self._chat_part(part, files, counts, places, where) for part in content]
                if any(a is not b for a, b in zip(parts, content, strict=True)):
                    kept = {**message, "content": parts}
                    changed = True
            result.append(kept)
        return result if changed else messages

    def _chat_part(
        self, part: Any, files: Path, counts: collections.Counter[str], places: list[str], where: str
    ) -> Any:
        if not (isinstance(part, dict) and part.get("type") == "file" and isinstance(part.get("file"), dict)):
            return part
        ref = FileRef.model_validate(part["file"])
        found = self.scan_file(files / ref.path, ref.media_type, where)
        if not found:
            return part
        counts.update(found)
        places.append(where)
        return {"type": "text", "text": withheld_text(found)}

    # -- files -----------------------------------------------------------------------------------

    def scan_file(self, path: Path, media_type: str | None, where: str) -> dict[str, int]:
        """What the block's detectors of files find in the file at ``path``: detector name to count.

        A ZIP archive's members are scanned one by one (each from a temporary copy); a finding in
        any of them counts for the archive, which is withheld whole.

        :raises RedactionRefusedError: when the action is ``drop`` and something was found.
        :raises RedactionFailedError: when a detector failed, or an archive is too large to open
            (redaction fails closed: nothing unscanned goes on).
        """
        found: dict[str, int] = {}
        for member, member_type in _members(path, media_type, where):
            for detector in self._file_detectors:
                count = self._run(detector, member, member_type, where)
                if count:
                    found[detector.name] = found.get(detector.name, 0) + count
        if found and self._action == "drop":
            names = ", ".join(f"{name} ({count})" for name, count in sorted(found.items()))
            raise RedactionRefusedError(f"redaction found {names} in the file of {where} and its action is drop")
        return found

    @staticmethod
    def _run(detector: Detector, path: Path, media_type: str | None, where: str) -> int:
        assert detector.scan_file is not None
        try:
            count = detector.scan_file(path, media_type)
        except Exception as exc:  # noqa: BLE001  # any failure of a plugin's code refuses rather than leaks
            raise RedactionFailedError(
                f"redaction of {where} failed: detector {detector.name!r}: {type(exc).__name__}: {exc}"
            ) from None
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise RedactionFailedError(
                f"redaction of {where} failed: detector {detector.name!r} returned {count!r}, not a count"
            )
        return count

    def screen_file(self, label: str, path: Path, media_type: str | None) -> dict[str, int]:
        """For the file store: what makes the file of field ``label`` at ``path`` withheld (empty: store it).

        :raises RedactionRefusedError: as :meth:`scan_file`.
        """
        if not self._file_detectors or not self.scans_field(label):
            return {}
        return self.scan_file(path, media_type, f"field {label!r}")

    def _value(self, value: Any, counts: collections.Counter[str], places: list[str], where: str) -> Any:
        """``value`` with every string in it redacted; the same object when nothing changed."""
        if isinstance(value, str):
            return self._text(value, counts, places, where)
        if isinstance(value, list):
            items = [self._value(v, counts, places, where) for v in value]
            return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
        if isinstance(value, dict):
            mapping = {k: self._value(v, counts, places, where) for k, v in value.items()}
            return mapping if any(mapping[k] is not v for k, v in value.items()) else value
        return value

    def scan(self, text: str) -> list[Found]:
        """Every span to redact in ``text``: the config's patterns first, then the detectors' (not overlapping).

        :raises ScanTimeoutError: when the scan takes longer than the block's ``timeout``.
        """
        if not self._scanners:
            return []
        if len(self._scanners) == 1:
            return self._scanners[0](text)
        patterns, detectors = (scanner(text) for scanner in self._scanners)
        return merge(patterns, detectors)

    def _text(self, text: str, counts: collections.Counter[str], places: list[str], where: str) -> str:
        try:
            spans = self.scan(text)
        except ScanTimeoutError as exc:
            raise RedactionFailedError(f"redaction of {where} failed: {exc}") from None
        if not spans:
            return text
        places.append(where)
        pieces: list[str] = []
        last = 0
        for start, end, name in spans:
            counts[name] += 1
            pieces += (text[last:start], self.token(name, text[start:end]))
            last = end
        pieces.append(text[last:])
        return "".join(pieces)

    def _username(self, username: str | None) -> str | None:
        mode = self.settings.username
        if username is None or mode == "keep":
            return username
        return None if mode == "drop" else self._hashed("username", username)

    def fingerprint(self) -> str:
        """A digest of the block's settings, its key included (as a keyed digest): equal blocks give equal ones."""
        text = self.settings.model_dump_json()
        if self._key is not None:  # the dump masks the key; two keys must still differ
            text += hmac.new(self._key, b"flagpipe redaction fingerprint", hashlib.sha256).hexdigest()
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    # -- tokens ----------------------------------------------------------------------------------

    def token(self, name: str, value: str) -> str:
        """What replaces ``value`` found by detector ``name``: ``<name>``, or ``<name:HMAC>`` with ``hash``."""
        return self._hashed(name, value) if self._action == "hash" else f"<{name}>"

    def _hashed(self, name: str, value: str) -> str:
        assert self._key is not None  # the settings refuse hash without a key
        digest = hmac.new(self._key, f"{name}\x00{value}".encode(), hashlib.sha256).hexdigest()
        return f"<{name}:{digest[:TOKEN_DIGITS]}>"


#: Bounds on opening a ZIP archive to scan its members: beyond them, the scan fails closed.
ARCHIVE_MEMBERS = 10_000
ARCHIVE_BYTES = 1 << 30


def _members(path: Path, media_type: str | None, where: str) -> Iterator[tuple[Path, str | None]]:
    """The file itself, or for a ZIP archive each member, from a temporary copy beside it."""
    if not zipfile.is_zipfile(path):
        yield path, media_type
        return
    try:
        with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory(dir=path.parent) as folder:
            infos = [info for info in archive.infolist() if not info.is_dir()]
            if len(infos) > ARCHIVE_MEMBERS or sum(info.file_size for info in infos) > ARCHIVE_BYTES:
                raise RedactionFailedError(
                    f"redaction of {where} failed: the archive holds more than {ARCHIVE_MEMBERS:,} files"
                    f" or {ARCHIVE_BYTES:,} bytes, too many to scan"
                )
            for index, info in enumerate(infos):
                name = PurePath(info.filename).name
                copy = Path(folder) / f"{index}{PurePath(name).suffix[:16]}"
                with archive.open(info) as source, copy.open("wb") as out:
                    shutil.copyfileobj(_bounded(source, info.file_size), out)
                yield copy, mimetypes.guess_type(name, strict=False)[0]
                copy.unlink()
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:  # encrypted, damaged
        raise RedactionFailedError(f"redaction of {where} failed: cannot open the archive: {exc}") from None


class _bounded(io.RawIOBase):  # noqa: N801  # a read-only view, named like the function it stands for
    """Reads at most ``limit`` bytes from ``source`` (a member whose header lies about its size stops there)."""

    def __init__(self, source: IO[bytes], limit: int) -> None:
        self._source = source
        self._left = limit

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._source.read(size)
        self._left -= len(data)
        return data


def withheld_text(found: Mapping[str, int]) -> str:
    """The text that stands for a withheld file: the masks of the detectors that found something."""
    return "".join(f"<{name}>" for name in sorted(found))


def _merged(earlier: Any, counts: collections.Counter[str]) -> dict[str, JsonValue]:
    """Counts added to an event's earlier ``metadata["redacted"]`` (a global redaction's, for a callback's)."""
    merged: collections.Counter[str] = collections.Counter()
    if isinstance(earlier, dict):
        merged.update({k: v for k, v in earlier.items() if isinstance(v, int)})
    merged.update(counts)
    return dict(sorted(merged.items()))


__all__ = [
    "ARCHIVE_BYTES",
    "ARCHIVE_MEMBERS",
    "METADATA_KEY",
    "TOKEN_DIGITS",
    "RedactionFailedError",
    "RedactionRefusedError",
    "Redactor",
    "UnknownDetectorError",
    "resolve_detectors",
    "withheld_text",
]
