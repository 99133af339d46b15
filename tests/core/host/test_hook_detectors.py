"""flagpipe_register_detectors: a plugin's detectors join redaction; clashes and failures are reported."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flagpipe import Detector, Flagger, hookimpl
from flagpipe.config.errors import ConfigError
from flagpipe.testing import DetectorPlugin

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe.core.host import PluginHost


def _ticket(text: str) -> list[tuple[int, int]]:
    start = text.find("TICKET-")
    return [] if start < 0 else [(start, start + 11)]


def test_hook_flagpipe_register_detectors(tmp_path: Path, plugins: PluginHost) -> None:
    employee = Detector("employee_id", pattern=r"(?<!\w)E\d{6}(?!\w)", check=lambda s: s != "E000000")
    ticket = Detector("ticket", find=_ticket)
    config = {
        "dir": str(tmp_path),
        "delivery": {"mode": "inline"},
        "redact": {"detect": ["email", "employee_id", "ticket"]},
    }
    with plugins.registered(DetectorPlugin(employee, ticket), name="hr"):
        assert {"email", "employee_id", "ticket"} <= set(plugins.detectors())
        assert plugins.record_for("hr").detectors == ("employee_id", "ticket")
        with Flagger(config, plugins=plugins) as flagger:
            flagger.flag({"p": "E123456 and E000000 wrote TICKET-1234 from a@example.com"})
            (event,) = flagger.latest(1)
    assert event.field("p").value == "<employee_id> and E000000 wrote <ticket> from <email>"
    assert event.metadata["redacted"] == {"email": 1, "employee_id": 1, "ticket": 1}
    # Without the plugin, the config names a detector nobody registers.
    try:
        Flagger(config, plugins=plugins)
    except ConfigError as exc:
        assert "unknown detector 'employee_id'" in str(exc)
    else:
        raise AssertionError("a config naming an unregistered detector must be refused")


def test_hook_flagpipe_register_detectors_clash_and_failure(plugins: PluginHost) -> None:
    class Broken:
        @hookimpl
        def flagpipe_register_detectors(self) -> list[Detector]:
            raise RuntimeError("no detectors today")

    with plugins.registered(DetectorPlugin(Detector("email", pattern="@")), name="another-email"):
        (conflict,) = plugins.conflicts
        assert "detector 'email' is provided by both" in conflict
        assert "another-email" in conflict
    with plugins.registered(Broken(), name="broken"):
        record = plugins.record_for("broken")
        plugins.detectors()
        assert record.status == "failed"
        assert record.error is not None
        assert "no detectors today" in record.error


def test_a_detector_is_checked_when_made() -> None:
    for kwargs, message in (
        ({"name": "Bad Name", "pattern": "x"}, "must match"),
        ({"name": "both", "pattern": "x", "find": _ticket}, "one of pattern and find, not both"),
        ({"name": "neither"}, "needs a pattern or find (for text) or scan_file (for files)"),
    ):
        try:
            Detector(**kwargs)  # type: ignore[arg-type]
        except ValueError as exc:
            assert message in str(exc)
        else:
            raise AssertionError(f"{kwargs} must be refused")
