"""Detectors of files: photos that carry the place where they were taken."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flagpipe.core.detectors import Detector

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

#: The EXIF sub-directory of GPS tags, and the tags in it that locate a photo (latitude and longitude).
_GPS_IFD = 0x8825
_POSITION_TAGS = (1, 2, 3, 4)
#: Images that hold no EXIF metadata and that Pillow does not read: passed, not refused.
_WITHOUT_EXIF = frozenset({"image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon"})


def image_location(path: Path, media_type: str | None) -> int:
    """1 when the file is an image whose EXIF metadata holds a GPS position, else 0.

    Pillow decides what the file is by its content, whatever its name or declared type says. A file
    said to be an image (by its media type) that Pillow cannot read, such as a HEIC photo without
    the ``pillow-heif`` plugin or a damaged JPEG, might still carry a position: the scan fails
    (closed), as it does for what Pillow refuses as a decompression bomb.

    :raises ValueError: for an image Pillow cannot read.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            exif = image.getexif()
    except UnidentifiedImageError:
        if media_type is not None and media_type.startswith("image/") and media_type not in _WITHOUT_EXIF:
            raise ValueError(f"cannot read this {media_type} file to look for a position") from None
        return 0  # not an image
    gps = exif.get_ifd(_GPS_IFD)
    return 1 if any(tag in gps for tag in _POSITION_TAGS) else 0


def _configure(options: Mapping[str, Any]) -> Detector:
    if options:
        raise ValueError(f"detector 'image_location' takes no options, got {', '.join(map(repr, options))}")
    import PIL  # noqa: F401  # fail when the config is loaded, not at the first photo

    return IMAGE_LOCATION


#: Photos with a GPS position in their EXIF metadata (where a phone took them): the file is withheld.
IMAGE_LOCATION = Detector(
    "image_location",
    scan_file=image_location,
    configure=_configure,
    description="images whose EXIF metadata holds a GPS position (the file is withheld)",
)

__all__ = ["IMAGE_LOCATION", "image_location"]
