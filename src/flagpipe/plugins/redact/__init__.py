"""The built-in redaction detectors.

``email``, ``phone``, ``credit_card``, ``iban``, ``ip``, ``url_credentials`` and ``secret`` for
text; ``image_location`` (photos with a GPS position in their EXIF metadata) for files.

They are registered through ``flagpipe_register_detectors``, the hook a third-party plugin uses to
add its own (a model-based one, for example). A config's ``redact:`` block picks them by name.
"""

from __future__ import annotations

from flagpipe.core.detectors import Detector
from flagpipe.core.hookspecs import hookimpl


@hookimpl
def flagpipe_register_detectors() -> list[Detector]:
    """The built-in detectors, in the order a config's ``detect:`` usually lists them."""
    from flagpipe.plugins.redact.detectors import BUILTIN_DETECTORS

    return list(BUILTIN_DETECTORS)
