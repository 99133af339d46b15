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


def image_location(path: Path, media_type: str | None) -> int:
    """1 when the file is an image whose EXIF metadata holds a GPS position, else 0.

    Files whose media type says they are not images are not opened; a file Pillow cannot read as an
    image is not one. What Pillow refuses as a decompression bomb fails the scan (closed).
    """
    if media_type is not None and not media_type.startswith("image/"):
        return 0
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            exif = image.getexif()
    except UnidentifiedImageError:
        return 0
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
