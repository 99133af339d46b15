"""From Gradio payloads to the values a Flagger stores: files checked and bundled, data URLs decoded.

With ``preprocess=False`` a handler receives Gradio's payloads: file data (``{"path": ...}``), video
data (``{"video": ...}``), image-editor data (``{"composite": ...}``), ``gr.update`` dicts, and from
Gradio 3 base64 ``data:`` URLs. A path string comes from the browser, so it must lie inside Gradio's
cache, the temp folder or an allowed folder; a ``pathlib.Path`` comes from the app's code and is trusted.
"""

from __future__ import annotations

import base64
import binascii
import json
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flagpipe.core.files import safe_component

from ._compat import unwrap_update, upload_folder

if TYPE_CHECKING:
    import os

    from flagpipe.core.schema import FieldSpec

__all__ = ["ValueConverter", "data_url_bytes", "gradio_folders", "plain_value", "zip_files"]

#: Keys of Gradio's file payloads that hold the file (``path``) or a nested payload, in the order tried.
_FILE_KEYS = ("path", "video", "composite", "image")


class ValueConverter:
    """Turns one component's payload into the value of its field.

    :param allowed_paths: folders besides Gradio's cache and the system temp folder that path strings
        may point into.
    """

    def __init__(self, allowed_paths: Sequence[str | os.PathLike[str]] = ()) -> None:
        self.allowed = tuple(Path(p).resolve() for p in allowed_paths)

    def convert(self, field: FieldSpec, value: Any, scratch: list[Path]) -> Any:
        """The value to store for ``field``.

        :param scratch: collects temporary folders (zips of several files) for the caller to remove
            once the flag is stored.
        :raises ValueError: for a path outside the trusted folders, a remote URL or a bad data URL.
        """
        value = unwrap_update(value)
        if value is None or not field.is_file:
            return plain_value(field, value)
        return self._file_value(field, value, scratch)

    def trusted(self, field: FieldSpec, raw: Any) -> Path:
        """A path sent by a browser: accept it only inside Gradio's cache, the temp folder or allowed paths."""
        return self._inside_folders(field.name, raw)

    def check_path(self, name: str, path: str | Path) -> Path:
        """The check of every path flagpipe reads for a flag from the browser (a ``PathCheck``).

        A ``pathlib.Path`` was made by the app's code and is read as it is; a text path (what a
        browser sends, in any key of a file payload or chat message) only inside Gradio's folders.
        """
        return path if isinstance(path, Path) else self._inside_folders(name, path)

    def _inside_folders(self, name: str, raw: Any) -> Path:
        text = str(raw)
        if text.startswith(("http://", "https://")):
            raise ValueError(f"field {name!r}: remote files are not fetched ({text})")
        path = Path(text).resolve()
        roots = (*gradio_folders(), *self.allowed)
        if not any(path.is_relative_to(root) for root in roots):
            raise ValueError(
                f"field {name!r}: {str(path)!r} is outside Gradio's cache and the temp folder; "
                "pass a pathlib.Path, or add its folder to allowed_paths"
            )
        return path

    def _file_value(self, field: FieldSpec, value: Any, scratch: list[Path]) -> Any:
        if isinstance(value, (list, tuple)):
            paths = [self._file_value(field, item, scratch) for item in value if item is not None]
            return zip_files(field.name, [p for p in paths if isinstance(p, Path)], scratch) if paths else None
        if hasattr(value, "model_dump") and not isinstance(value, type):
            value = value.model_dump()  # a Gradio FileData (or other data model) object
        if isinstance(value, Mapping):
            for key in _FILE_KEYS:
                inner = value.get(key)
                if inner is not None:
                    return self._file_value(field, inner, scratch) if key != "path" else self.trusted(field, inner)
            raise ValueError(f"field {field.name!r}: the file payload has no local path (keys: {', '.join(value)})")
        if isinstance(value, str):
            if value.startswith("data:"):
                return data_url_bytes(field, value)
            return self.trusted(field, value)
        return value  # a pathlib.Path, bytes, a PIL image or a numpy array: flagpipe stores it


def plain_value(field: FieldSpec, value: Any) -> Any:
    """A value that is not a file: data models as dicts; for a ``json`` field, text when JSON cannot encode it."""
    if hasattr(value, "model_dump") and not isinstance(value, type):
        value = value.model_dump()
    if field.kind == "json" and value is not None:
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            return str(value)
    return value


def gradio_folders() -> tuple[Path, ...]:
    """Where browser-sent paths may point: Gradio's cache and the system temp folder, resolved."""
    return (upload_folder().resolve(), Path(tempfile.gettempdir()).resolve())


def data_url_bytes(field: FieldSpec, value: str) -> bytes:
    """The bytes of a base64 ``data:`` URL (Gradio 3 sent images this way).

    :raises ValueError: when the URL is not base64 or its data does not decode.
    """
    header, _, payload = value.partition(",")
    if ";base64" not in header:
        raise ValueError(f"field {field.name!r}: only base64 data URLs are supported")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"field {field.name!r}: not valid base64 data") from None


def zip_files(name: str, paths: Sequence[Path], scratch: list[Path]) -> Path:
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
