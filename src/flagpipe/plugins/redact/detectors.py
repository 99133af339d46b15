"""The list of built-in detectors, in the order they are offered a candidate at the same position."""

from __future__ import annotations

from flagpipe.plugins.redact.files import IMAGE_LOCATION
from flagpipe.plugins.redact.numbers import CREDIT_CARD, IBAN, phone_detector
from flagpipe.plugins.redact.text import EMAIL, IP, SECRET, URL_CREDENTIALS

#: Built-in detectors: url_credentials before email (a URL's user:password@host looks like one);
#: image_location, the one detector of files, last.
BUILTIN_DETECTORS = (URL_CREDENTIALS, EMAIL, SECRET, IBAN, CREDIT_CARD, IP, phone_detector(), IMAGE_LOCATION)

__all__ = ["BUILTIN_DETECTORS"]
