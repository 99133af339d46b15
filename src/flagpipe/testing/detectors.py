"""The contract a redaction detector should pass: what it finds, what it leaves, and through a real Flagger."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from flagpipe.core.detectors import Detector
from flagpipe.core.hookspecs import hookimpl
from flagpipe.core.redact_settings import RedactConfig
from flagpipe.core.redaction import Redactor
from flagpipe.testing.fixtures import new_plugin_manager

if TYPE_CHECKING:
    from pathlib import Path


#: The built-in plugin that registers flagpipe's own detectors.
BUILTIN_DETECTOR_PLUGIN = "flagpipe.plugins.redact"


class DetectorPlugin:
    """A plugin object that registers the given detectors (what a plugin module does)."""

    def __init__(self, *detectors: Detector) -> None:
        self.detectors = detectors

    @hookimpl
    def flagpipe_register_detectors(self) -> list[Detector]:
        """Register the detectors."""
        return list(self.detectors)

    def __repr__(self) -> str:
        return f"DetectorPlugin({', '.join(d.name for d in self.detectors)})"


def _redactor(detector: Detector, options: dict[str, Any] | None) -> Redactor:
    settings = RedactConfig.model_validate({"detect": [{detector.name: options or {}}]})
    return Redactor.build(settings, {detector.name: detector})


def find_spans(detector: Detector, text: str, options: dict[str, Any] | None = None) -> list[str]:
    """The texts ``detector`` (configured with ``options``) finds in ``text``, in order, as redaction sees them."""
    return [text[start:end] for start, end, _ in _redactor(detector, options).scan(text)]


def scan_file(detector: Detector, path: Path, options: dict[str, Any] | None = None) -> int:
    """How many things ``detector`` (configured with ``options``) finds in the file at ``path``, as redaction asks.

    The media type is guessed from the file's name, as flagpipe guesses it when it stores a file.
    """
    from flagpipe.core.files import guess_media_type

    found = _redactor(detector, options).scan_file(path, guess_media_type(path.name), f"file {path.name!r}")
    return found.get(detector.name, 0)


class DetectorContract:
    """The contract every detector should pass; subclass it in your tests.

    Set :attr:`detector`, and :attr:`options` when it needs some. For a detector of text, set
    :attr:`found` (texts with the span the detector must find in each) and :attr:`not_found` (near
    misses it must leave alone); for a detector of files, :attr:`files_found` and
    :attr:`files_not_found` (file names with their bytes). The last test registers the detector
    through ``flagpipe_register_detectors`` and flags one of the :attr:`found` texts (and one of the
    :attr:`files_found` files) through a real :class:`flagpipe.Flagger` with ``redact: detect:``.
    """

    #: The detector under test.
    detector: ClassVar[Detector]
    #: ``(text, span)`` pairs: the detector must find exactly ``span`` in ``text``.
    found: ClassVar[list[tuple[str, str]]] = []
    #: Texts in which the detector must find nothing.
    not_found: ClassVar[list[str]] = []
    #: ``(file name, bytes)`` pairs in which a detector of files must find something.
    files_found: ClassVar[list[tuple[str, bytes]]] = []
    #: ``(file name, bytes)`` pairs in which a detector of files must find nothing.
    files_not_found: ClassVar[list[tuple[str, bytes]]] = []
    #: The options of the ``detect:`` entry (``- name: {options}``).
    options: ClassVar[dict[str, Any]] = {}

    def test_name_and_shape(self) -> None:
        """The detector is a :class:`flagpipe.Detector` and its contract lists both kinds of cases."""
        assert isinstance(self.detector, Detector)
        if self.detector.scans_text:
            assert self.found, "list at least one (text, span) the detector finds in found"
            assert self.not_found, "list at least one near miss in not_found"
        if self.detector.scan_file is not None:
            assert self.files_found, "list at least one (name, bytes) file the detector finds something in"
            assert self.files_not_found, "list at least one (name, bytes) file the detector leaves alone"

    def test_finds_each_span(self, tmp_path: Path) -> None:
        """Each text of :attr:`found` gives exactly its span; each file of :attr:`files_found` a finding."""
        for text, span in self.found:
            assert find_spans(self.detector, text, self.options) == [span], text
        for name, data in self.files_found:
            assert scan_file(self.detector, _written(tmp_path, name, data), self.options) > 0, name

    def test_leaves_near_misses(self, tmp_path: Path) -> None:
        """Nothing is found in the texts of :attr:`not_found`, nor in the files of :attr:`files_not_found`."""
        for text in self.not_found:
            assert find_spans(self.detector, text, self.options) == [], text
        for name, data in self.files_not_found:
            assert scan_file(self.detector, _written(tmp_path, name, data), self.options) == 0, name

    def test_redacts_through_a_flagger(self, tmp_path: Path) -> None:
        """Registered by a plugin and named in ``redact: detect:``, the detector masks what it finds before storing."""
        from flagpipe.flagger import Flagger

        plugins = new_plugin_manager()
        if self.detector.name in plugins.detectors():  # a built-in's name: test it without the built-in plugin
            from flagpipe.core.host import create_plugin_host
            from flagpipe.core.policy import PluginPolicy

            plugins = create_plugin_host(PluginPolicy(autoload=False, block=frozenset({BUILTIN_DETECTOR_PLUGIN})))
        entry = {self.detector.name: self.options}
        directory = tmp_path / "flags"
        config = {"dir": str(directory), "delivery": {"mode": "inline"}, "redact": {"detect": [entry]}}
        with plugins.registered(DetectorPlugin(self.detector)), Flagger(config, plugins=plugins) as flagger:
            if self.found:
                text, span = self.found[0]
                receipt = flagger.flag({"text": text})
                (event,) = flagger.latest(1)
                assert receipt.stored
                assert event.field("text").value == text.replace(span, f"<{self.detector.name}>", 1)
                assert event.metadata["redacted"] == {self.detector.name: 1}
                if span not in text.replace(span, "", 1):
                    assert span.encode() not in _all_bytes(directory)
            if self.files_found:
                name, data = self.files_found[0]
                receipt = flagger.flag({"file": _written(tmp_path / "upload", name, data)})
                (event,) = flagger.latest(1)
                assert receipt.stored
                assert event.field("file").file is None, "a file with a finding is withheld"
                found = event.metadata["redacted"]
                assert isinstance(found, dict) and self.detector.name in found
                assert data not in _all_bytes(directory), "the withheld file's bytes are not in the flagging directory"

    @pytest.fixture(autouse=True)
    def _redact_extra(self) -> None:
        pytest.importorskip("regex", reason="redaction needs the regex library: pip install 'flagpipe[redact]'")


def _written(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def _all_bytes(directory: Path) -> bytes:
    return b"".join(p.read_bytes() for p in directory.rglob("*") if p.is_file())


__all__ = ["DetectorContract", "DetectorPlugin", "find_spans", "scan_file"]
