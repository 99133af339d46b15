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


def find_spans(detector: Detector, text: str, options: dict[str, Any] | None = None) -> list[str]:
    """The texts ``detector`` (configured with ``options``) finds in ``text``, in order, as redaction sees them."""
    settings = RedactConfig.model_validate({"detect": [{detector.name: options or {}}]})
    redactor = Redactor.build(settings, {detector.name: detector})
    return [text[start:end] for start, end, _ in redactor.scan(text)]


class DetectorContract:
    """The contract every detector should pass; subclass it in your tests.

    Set :attr:`detector`, :attr:`found` (texts with the span the detector must find in each) and
    :attr:`not_found` (near misses it must leave alone), and :attr:`options` when it needs some.
    The last test registers the detector through ``flagpipe_register_detectors`` and flags one of
    the :attr:`found` texts through a real :class:`flagpipe.Flagger` with ``redact: detect:``.
    """

    #: The detector under test.
    detector: ClassVar[Detector]
    #: ``(text, span)`` pairs: the detector must find exactly ``span`` in ``text``.
    found: ClassVar[list[tuple[str, str]]] = []
    #: Texts in which the detector must find nothing.
    not_found: ClassVar[list[str]] = []
    #: The options of the ``detect:`` entry (``- name: {options}``).
    options: ClassVar[dict[str, Any]] = {}

    def test_name_and_shape(self) -> None:
        """The detector is a :class:`flagpipe.Detector` and its contract lists both kinds of cases."""
        assert isinstance(self.detector, Detector)
        assert self.found, "list at least one (text, span) the detector finds in found"
        assert self.not_found, "list at least one near miss in not_found"

    def test_finds_each_span(self) -> None:
        """Each text of :attr:`found` gives exactly its span."""
        for text, span in self.found:
            assert find_spans(self.detector, text, self.options) == [span], text

    def test_leaves_near_misses(self) -> None:
        """Nothing is found in the texts of :attr:`not_found`."""
        for text in self.not_found:
            assert find_spans(self.detector, text, self.options) == [], text

    def test_redacts_through_a_flagger(self, tmp_path: Path) -> None:
        """Registered by a plugin and named in ``redact: detect:``, the detector masks what it finds before storing."""
        from flagpipe.flagger import Flagger

        plugins = new_plugin_manager()
        if self.detector.name in plugins.detectors():  # a built-in's name: test it without the built-in plugin
            from flagpipe.core.host import create_plugin_host
            from flagpipe.core.policy import PluginPolicy

            plugins = create_plugin_host(PluginPolicy(autoload=False, block=frozenset({BUILTIN_DETECTOR_PLUGIN})))
        text, span = self.found[0]
        entry = {self.detector.name: self.options}
        config = {"dir": str(tmp_path), "delivery": {"mode": "inline"}, "redact": {"detect": [entry]}}
        with plugins.registered(DetectorPlugin(self.detector)), Flagger(config, plugins=plugins) as flagger:
            receipt = flagger.flag({"text": text})
            (event,) = flagger.latest(1)
        assert receipt.stored
        assert event.field("text").value == text.replace(span, f"<{self.detector.name}>", 1)
        assert event.metadata["redacted"] == {self.detector.name: 1}
        if span not in text.replace(span, "", 1):
            assert span.encode() not in b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())

    @pytest.fixture(autouse=True)
    def _redact_extra(self) -> None:
        pytest.importorskip("regex", reason="redaction needs the regex library: pip install 'flagpipe[redact]'")


__all__ = ["DetectorContract", "DetectorPlugin", "find_spans"]
