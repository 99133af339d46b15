"""flagpipe redact --dry-run previews a config's redaction on stored flags; flagpipe stats counts redactions."""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from click.testing import Result

EMAIL = "jane@example.com"
PLAIN = """\
dir: flagged
callbacks: [{type: csv, file_name: log.csv}]
"""
REDACTING = """\
dir: flagged
redact:
  detect: [email]
callbacks:
  - type: csv
    file_name: log.csv
  - type: csv
    name: public
    file_name: public.csv
    redact:
      detect: [email, phone]
      action: drop
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return name


def test_dry_run_shows_what_would_change_and_stores_nothing(tmp_path: Path, run: Callable[..., Result]) -> None:
    plain = write(tmp_path, "plain.yaml", PLAIN)
    redacting = write(tmp_path, "redacting.yaml", REDACTING)
    assert run("flag", "-c", plain, "-f", f"prompt=mail {EMAIL}").exit_code == 0
    assert run("flag", "-c", plain, "-f", "prompt=call +1 415-555-2671").exit_code == 0
    assert run("flag", "-c", plain, "-f", "prompt=5 add 7 = -12").exit_code == 0
    stored = b"".join(p.read_bytes() for p in sorted((tmp_path / "flagged").rglob("*")) if p.is_file())

    result = run("redact", "-c", redacting, "--dry-run", "--last", "2", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert len(report) == 2  # the latest two: the phone number and the sum
    phone, plain_sum = report
    assert phone["redactions"] == [
        {"where": "before storing", "refused": None, "found": {}, "changed": {}},
        {
            "where": "callback public",
            "refused": "redaction found phone (1) in field 'prompt' and its action is drop",
            "found": {},
            "changed": {},
        },
    ]
    assert [r["found"] for r in plain_sum["redactions"]] == [{}, {}]

    result = run("redact", "-c", redacting, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "3 flags; nothing is stored (dry run)" in result.output
    assert "before storing: email 1" in result.output
    assert "field prompt: mail <email>" in result.output
    assert EMAIL not in result.output
    after = b"".join(p.read_bytes() for p in sorted((tmp_path / "flagged").rglob("*")) if p.is_file())
    assert after == stored


def test_redact_without_dry_run_or_without_a_redact_block_says_why(tmp_path: Path, run: Callable[..., Result]) -> None:
    plain = write(tmp_path, "plain.yaml", PLAIN)
    assert run("flag", "-c", plain, "-f", "prompt=x").exit_code == 0
    result = run("redact", "-c", plain)
    assert result.exit_code == 1
    assert "pass --dry-run" in result.output
    result = run("redact", "-c", plain, "--dry-run")
    assert result.exit_code == 1
    assert "has no redact: block" in result.output


def test_stats_counts_redactions(tmp_path: Path, run: Callable[..., Result]) -> None:
    redacting = write(tmp_path, "redacting.yaml", REDACTING)
    for prompt in (f"mail {EMAIL} or {EMAIL}", f"mail {EMAIL}", "nothing"):
        assert run("flag", "-c", redacting, "-f", f"prompt={prompt}").exit_code == 0
    result = run("stats", "-c", redacting, "--json")
    assert json.loads(result.output)["redacted"] == {
        "flags": 2,
        "by_detector": [{"detector": "email", "spans": 3, "flags": 2}],
    }
    result = run("stats", "-c", redacting, "-n", "0")
    assert "redacted: 2 of 3 flags" in result.output
    assert "email         3      2" in result.output


def test_dry_run_scans_files_with_a_detector_of_files(tmp_path: Path, run: Callable[..., Result]) -> None:
    from tests.plugins.redact.test_files import LOCATED
    from tests.plugins.redact.test_files import PLAIN as PLAIN_PHOTO

    plain = write(tmp_path, "plain.yaml", PLAIN)
    redacting = write(tmp_path, "photos.yaml", "dir: flagged\nredact:\n  detect: [image_location]\n")
    (tmp_path / "beach.jpg").write_bytes(LOCATED)
    (tmp_path / "plain.jpg").write_bytes(PLAIN_PHOTO)
    assert run("flag", "-c", plain, "--file", "photo=beach.jpg").exit_code == 0
    assert run("flag", "-c", plain, "--file", "photo=plain.jpg").exit_code == 0
    result = run("redact", "-c", redacting, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    located, clean = (flag["redactions"][0] for flag in json.loads(result.output))
    assert located == {
        "where": "before storing",
        "refused": None,
        "found": {"image_location": 1},
        "changed": {"field photo": "(file withheld)"},
    }
    assert clean["found"] == {} and clean["changed"] == {}
