"""Built-in value kinds: PIL images become PNG files, numpy arrays become PNG images or ``.npy`` files.

Neither library is imported unless a value of its type is flagged.
"""

from __future__ import annotations

import io
from typing import Any

import flagpipe


def _is_pil_image(value: object) -> bool:
    return type(value).__module__.startswith("PIL.") and hasattr(value, "save") and hasattr(value, "mode")


def _encode_pil(value: Any) -> flagpipe.EncodedFile:
    buffer = io.BytesIO()
    image = value if value.mode in ("RGB", "RGBA", "L", "LA", "P", "I;16", "1") else value.convert("RGBA")
    image.save(buffer, format="PNG")
    return flagpipe.EncodedFile(buffer.getvalue(), ".png", "image/png", kind="image")


def _is_ndarray(value: object) -> bool:
    return type(value).__module__ == "numpy" and type(value).__name__ == "ndarray"


def _looks_like_image(array: Any) -> bool:
    return str(array.dtype) == "uint8" and (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (1, 3, 4)))


def _encode_ndarray(value: Any) -> flagpipe.EncodedFile:
    if _looks_like_image(value):
        try:
            from PIL import Image
        except ImportError:
            pass
        else:
            array = value[:, :, 0] if value.ndim == 3 and value.shape[2] == 1 else value
            encoded = _encode_pil(Image.fromarray(array))
            return flagpipe.EncodedFile(encoded.data, encoded.suffix, encoded.media_type, kind="image")
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, value, allow_pickle=False)
    return flagpipe.EncodedFile(buffer.getvalue(), ".npy", "application/x-npy")


def _ndarray_kind() -> flagpipe.ValueKind:
    return flagpipe.ValueKind(name="numpy.ndarray", kind="file", accepts=_is_ndarray, encode=_encode_ndarray)


@flagpipe.hookimpl
def flagpipe_register_value_kinds() -> list[flagpipe.ValueKind]:
    """Register PIL images and numpy arrays."""
    return [
        flagpipe.ValueKind(name="PIL.Image", kind="image", accepts=_is_pil_image, encode=_encode_pil),
        _ndarray_kind(),
    ]
