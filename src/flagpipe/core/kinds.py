"""Value kinds: how an in-memory object (a numpy array, a PIL image) becomes a stored file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True)
class EncodedFile:
    """The bytes a value kind produced for one value, with a file suffix and a media type.

    :param kind: the field kind for this value, when it differs from the value kind's usual one
        (a numpy array that is an image becomes ``image``; other arrays stay ``file``).
    """

    data: bytes
    suffix: str
    media_type: str
    kind: str | None = None


@dataclass(frozen=True)
class ValueKind:
    """A way to turn values of some Python type into files, registered by a plugin.

    :param name: a unique name, such as ``"PIL.Image"``.
    :param kind: the field kind the value becomes (``image``, ``audio``, ``file``, ...).
    :param accepts: returns True for values this kind handles; it must not import heavy libraries
        just to answer (check ``type(value).__module__`` first).
    :param encode: turns an accepted value into an :class:`EncodedFile`.
    """

    name: str
    kind: str
    accepts: Callable[[object], bool]
    encode: Callable[[object], EncodedFile]


@dataclass(frozen=True)
class FileUpload:
    """A file's bytes with the name and media type it came with (an upload), for ``flag()``.

    Stored under ``name`` (made safe); ``media_type`` is kept when given, else guessed from the name.
    """

    data: bytes
    name: str
    media_type: str | None = None
