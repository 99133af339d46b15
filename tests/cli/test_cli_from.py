"""``flagpipe show / stats / export --from URL``: the same answers as from the journal, at 80 and 200 columns.

The flags are made by a real Flagger with a csv + sql chain, then read once from the config's journal
and once from the database (SQLite always, PostgreSQL and MariaDB through the sql tests' servers).
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from tests.cli.conftest import assert_fits
from tests.plugins.sql.conftest import open_database, statements

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


#: A field value longer than any table row.
LONG_TEXT = "the model said the sum of five and seven is minus twelve, " * 4

WIDTHS = pytest.mark.parametrize("width", [80, 200])


@dataclass(frozen=True)
class Flagged:
    """Flags in a journal and in a database: the config, the ``--from`` URL and where it points."""

    config: Path
    url: str
    shown: str


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def flagged(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flagged]:
    """Six flags (three options, two users, long values) through csv + sql, in each database."""
    from flagpipe import Flagger

    monkeypatch.setenv("FLAGPIPE_DISABLE_PLUGIN_AUTOLOAD", "1")
    for database in open_database(request.param, tmp_path):
        directory = database.directory or tmp_path / "flagged"
        sql = "\n".join(f"    {key}: {value}" for key, value in database.settings.items())
        config = tmp_path / "flagging.yaml"
        config.write_text(
            textwrap.dedent(
                f"""\
                dir: {directory}
                app: calculator
                options: [wrong sign, off by one, other]
                delivery: {{mode: inline}}
                callbacks:
                  - type: csv
                  - type: sql
                """
            )
            + sql
            + "\n",
            encoding="utf-8",
        )
        with Flagger.from_yaml(config) as flagger:
            for n in range(6):
                receipt = flagger.flag(
                    {"num1": n, "explanation": LONG_TEXT},
                    option=("wrong sign", "off by one", None)[n % 3],
                    username=("alexandra_the_reviewer", None)[n % 2],
                    comment="line one\nline two",
                )
                assert receipt.delivered == ("csv", "sql"), receipt
        url = database.url if database.kind != "sqlite" else f"sqlite:///{directory / 'flags.db'}"
        query = f"table_prefix={database.prefix}" + (f"&schema={database.schema}" if database.schema else "")
        yield Flagged(config, f"{url}?{query}", url)


@WIDTHS
def test_show_from_a_database_prints_what_the_journal_does(at, flagged: Flagged, width: int) -> None:
    from_db = at(width, "show", "--from", flagged.url, "-n", "4")
    from_journal = at(width, "show", "-c", str(flagged.config), "-n", "4")
    assert from_db.exit_code == 0, from_db.output
    out = from_db.stdout
    assert out.splitlines()[0].startswith("latest flags in ")
    assert_fits(out, width, flagged.shown)
    assert out.splitlines()[1:] == from_journal.stdout.splitlines()[1:]
    assert "alexandra_the_reviewer" in out
    assert "…" in out  # the long explanation is cut, on one line
    if width == 80:
        assert "\nid: " in out or "\nid:" in out  # too narrow for a row: one block per flag
    else:
        assert out.splitlines()[1].split() == ["when", "(UTC)", "option", "username", "fields", "id"]


def test_show_json_from_a_database_has_the_whole_flags(at, flagged: Flagged) -> None:
    from_db = json.loads(at(80, "show", "--from", flagged.url, "--json").stdout)
    from_journal = json.loads(at(80, "show", "-c", str(flagged.config), "--json").stdout)
    assert from_db["flags"] == from_journal["flags"]
    assert len(from_db["flags"]) == 6
    assert from_db["source"] == flagged.shown.split("?")[0]
    assert LONG_TEXT in json.dumps(from_db["flags"])


@WIDTHS
def test_stats_from_a_database_counts_in_sql(at, flagged: Flagged, width: int) -> None:
    with statements() as seen:
        from_db = at(width, "stats", "--from", flagged.url, "-n", "2")
    assert from_db.exit_code == 0, from_db.output
    from_journal = at(width, "stats", "-c", str(flagged.config), "-n", "2")
    out = from_db.stdout
    assert out.splitlines()[0] == f"6 flags in {flagged.shown}"
    assert_fits(out, width, flagged.shown)
    assert out.splitlines()[1:] == from_journal.stdout.splitlines()[1:]
    for heading in ("by option", "by day", "by user", "latest 2"):
        assert heading in out.splitlines()
    assert len([s for s in seen if "GROUP BY" in s]) == 3
    fetched = [s for s in seen if "fields" in s.split("FROM")[0]]
    assert len(fetched) == 1  # only the latest two flags are read whole
    assert "LIMIT" in fetched[0]


def test_stats_json_from_a_database_equals_the_journals(at, flagged: Flagged) -> None:
    from_db = json.loads(at(80, "stats", "--from", flagged.url, "--json", "-n", "3").stdout)
    from_journal = json.loads(at(80, "stats", "-c", str(flagged.config), "--json", "-n", "3").stdout)
    assert from_db == from_journal
    assert from_db["total"] == 6
    assert from_db["by_option"] == [
        {"option": "off by one", "count": 2},
        {"option": "wrong sign", "count": 2},
        {"option": None, "count": 2},
    ]
    assert [e["id"] for e in from_db["latest"]] == [e["id"] for e in from_journal["latest"]]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_from_a_database_writes_what_the_journal_export_does(
    at, flagged: Flagged, tmp_path: Path, fmt: str
) -> None:
    import flagpipe

    filters = ("--option", "wrong sign", "--option", "off by one", "--app", "calculator")
    result = at(80, "export", "--from", flagged.url, "--format", fmt, "-o", str(tmp_path / f"db.{fmt}"), *filters)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"exported 4 flags to {tmp_path / f'db.{fmt}'} ({fmt})\n"
    at(80, "export", "-c", str(flagged.config), "--format", fmt, "-o", str(tmp_path / f"journal.{fmt}"), *filters)
    if fmt == "parquet":
        import pandas as pd

        pd.testing.assert_frame_equal(
            flagpipe.read_flags(tmp_path / "db.parquet"), flagpipe.read_flags(tmp_path / "journal.parquet")
        )
    else:
        assert (tmp_path / f"db.{fmt}").read_bytes() == (tmp_path / f"journal.{fmt}").read_bytes()
    data = json.loads(at(80, "export", "--from", flagged.url, "-o", str(tmp_path / "x.csv"), "--json").stdout)
    assert data["count"] == 6
    assert at(80, "export", "--from", flagged.url, "-o", "y.csv", "--app", "sepia").stdout.startswith("exported 0 ")


def test_from_errors_are_one_clear_line(run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAGPIPE_DISABLE_PLUGIN_AUTOLOAD", "1")
    (tmp_path / "flagging.yaml").write_text("dir: flags\n", encoding="utf-8")
    both = run("show", "--from", "sqlite:///flags.db", "-c", "flagging.yaml")
    assert both.exit_code == 1
    assert "give --config or --from, not both" in both.stderr
    unknown = run("stats", "--from", "ftp://example.org/flags")
    assert unknown.exit_code == 1
    assert "cannot read flags from ftp:// sources: no installed plugin reads them" in unknown.stderr
    not_url = run("stats", "--from", "flags.db")
    assert "--from takes a URL" in not_url.stderr
    refused = run("stats", "--from", "postgresql+psycopg://flagger:s3cret-pw@127.0.0.1:9/nowhere")
    assert refused.exit_code == 1
    assert "cannot read flags from postgresql+psycopg://flagger:***@127.0.0.1:9/nowhere" in refused.stderr
    assert "s3cret-pw" not in refused.stderr + refused.stdout
    assert len(refused.stderr.strip().splitlines()) == 1
