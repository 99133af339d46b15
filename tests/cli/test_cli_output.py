"""Every command that prints data, at 80 and at 200 columns, and with ``--json``.

At any width: no line is longer than the terminal (a headline that names a path keeps the path whole),
names and numbers are whole, event ids are short, free text is cut with an ellipsis on one line, and
a table whose rows cannot fit becomes one ``key: value`` block per record. ``--json`` has it all whole.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from tests.cli.conftest import assert_fits

from flagpipe.cli.ids import short_ids
from flagpipe.core.host import BUILTIN_PLUGINS

if TYPE_CHECKING:
    from pathlib import Path


#: A callback name longer than any column a narrow table would give it.
LONG_NAME = "slack_alerts_for_the_oncall_team"
#: The long name's CSV file: a folder is in its way, so every delivery fails with a long error.
LONG_FILE = "alerts_for_the_oncall_team_" + "with_a_file_name_long_enough_that_its_error_never_fits_" * 2 + "x.csv"
#: A field value longer than any table row.
LONG_TEXT = "the model said the sum of five and seven is minus twelve, " * 4
ONCALL_CONFIG = textwrap.dedent(
    f"""\
    dir: flags
    options: [wrong sign, off by one, other]
    delivery:
      mode: inline
      retry: {{attempts: 1}}
    callbacks:
      - type: csv
      - type: csv
        name: {LONG_NAME}
        file_name: {LONG_FILE}
    """
)

WIDTHS = pytest.mark.parametrize("width", [80, 200])


@dataclass(frozen=True)
class Oncall:
    """A flagging directory made by a real Flagger: three flags, a callback whose deliveries all failed."""

    config: Path
    directory: Path
    ids: list[str]


@pytest.fixture
def oncall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Oncall:
    """Three flags (long usernames and field values), delivered to ``csv``, dead for :data:`LONG_NAME`."""
    from flagpipe import Flagger

    monkeypatch.setenv("FLAGPIPE_DISABLE_PLUGIN_AUTOLOAD", "1")
    config = tmp_path / "flagging.yaml"
    config.write_text(ONCALL_CONFIG, encoding="utf-8")
    (tmp_path / "flags" / LONG_FILE).mkdir(parents=True)
    with Flagger.from_yaml(config) as flagger:
        receipts = [
            flagger.flag(
                {"num1": n, "explanation": LONG_TEXT},
                option="wrong sign",
                username="alexandra_the_reviewer",
                comment="line one\nline two",
            )
            for n in range(3)
        ]
    assert all(r.failed for r in receipts)
    return Oncall(config, tmp_path / "flags", [str(r.id) for r in receipts])


def field(text: str, key: str) -> list[str]:
    """The values of ``key`` in vertical records (``key: value`` lines)."""
    return re.findall(rf"^{re.escape(key)}:\s+(.*)$", text, re.MULTILINE)


def vertical(text: str, key: str) -> bool:
    return bool(field(text, key))


# -- status ----------------------------------------------------------------------------------------


@WIDTHS
def test_status(at, oncall: Oncall, width: int) -> None:
    result = at(width, "status", "-c", str(oncall.config))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert_fits(out, width, str(oncall.directory))
    assert out.splitlines()[0] == f"3 flags in {oncall.directory}"
    (error,) = [line for line in out.splitlines() if "cannot write the CSV log" in line]
    assert error.endswith("…")
    assert len(out.splitlines()) == (13 if width == 80 else 5)  # nothing wraps onto a line of its own
    if width == 80:  # the long name does not leave room for a row: one block per callback
        assert field(out, "callback") == ["csv", LONG_NAME]
        assert field(out, "delivered") == ["3", "0"]
        assert field(out, "dead") == ["0", "3"]
        assert error.startswith("last error:")
    else:
        assert not vertical(out, "callback")
        header = next(line for line in out.splitlines() if line.startswith("callback"))
        headers = ("callback", "delivered", "skipped", "pending", "dead", "oldest pending", "next try", "last error")
        assert header.split() == " ".join(headers).split()
        row = next(line for line in out.splitlines() if line.startswith(LONG_NAME))
        assert re.match(rf"{LONG_NAME}\s+0\s+0\s+0\s+3\s+cannot write the CSV log", row)
        assert re.match(r"csv\s+3\s+0\s+0\s+0$", next(line for line in out.splitlines() if line.startswith("csv ")))


def test_status_json_has_the_whole_error(at, oncall: Oncall) -> None:
    result = at(80, "status", "-c", str(oncall.config), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["events"] == 3
    lanes = {lane["name"]: lane for lane in data["callbacks"]}
    assert lanes[LONG_NAME]["dead"] == 3
    assert LONG_FILE in lanes[LONG_NAME]["last_error"]
    assert lanes[LONG_NAME]["last_error"].endswith("Is a directory; fix it, then flagpipe retry")


def test_a_pipe_gets_no_colour_codes(at, oncall: Oncall, monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR")
    result = at(80, "status", "-c", str(oncall.config))
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stdout
    assert LONG_NAME in result.stdout


# -- show and stats --------------------------------------------------------------------------------


@WIDTHS
def test_show(at, oncall: Oncall, width: int) -> None:
    result = at(width, "show", "-c", str(oncall.config))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert_fits(out, width, str(oncall.directory))
    shorts = short_ids(oncall.ids)
    assert all(8 <= len(s) < 36 for s in shorts)
    for event_id in oncall.ids:
        assert event_id not in out
    if width == 80:  # a long username and a timestamp leave too little room for the fields
        assert field(out, "id") == shorts
        assert field(out, "username") == ["alexandra_the_reviewer"] * 3
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", w) for w in field(out, "when (UTC)"))
        assert all(f.startswith("num1=") and f.endswith("…") for f in field(out, "fields"))
    else:
        lines = out.splitlines()
        assert lines[1].split() == ["when", "(UTC)", "option", "username", "fields", "id"]
        rows = lines[3:]
        assert len(rows) == 3
        for row, short in zip(rows, shorts, strict=True):
            assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  wrong sign  alexandra_the_reviewer  num1=", row)
            assert row.endswith(f"…  {short}")


def test_show_fits_80_columns_as_a_table_when_it_can(at, calculator, run) -> None:
    ids = []
    for _ in range(2):
        flagged = run("flag", "--config", str(calculator), "-f", f"text={LONG_TEXT}", "-u", "bob", "-o", "other")
        ids.append(flagged.stdout.split()[1])
    result = at(80, "show", "--config", str(calculator))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert not vertical(out, "id")
    lines = out.splitlines()
    assert lines[1].split() == ["when", "(UTC)", "option", "username", "fields", "id"]
    assert_fits(out, 80, str(calculator.parent))
    for line, short in zip(lines[3:], short_ids(ids), strict=True):
        assert line.endswith(f"…  {short}")
        assert re.search(r"  other +bob +text=\"the model said", line)


def test_show_json_has_whole_ids_iso_times_and_values(at, oncall: Oncall) -> None:
    result = at(80, "show", "-c", str(oncall.config), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["directory"] == str(oncall.directory)
    assert [flag["id"] for flag in data["flags"]] == oncall.ids
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", flag["created_at"]) for flag in data["flags"])
    assert [f["value"] for f in data["flags"][0]["fields"]] == [0, LONG_TEXT]
    assert data["flags"][0]["comment"] == "line one\nline two"


def test_show_json_on_an_empty_dir(at, calculator) -> None:
    result = at(80, "show", "--config", str(calculator), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"directory": str(calculator.parent / "flagged"), "flags": []}


@WIDTHS
def test_stats(at, oncall: Oncall, width: int) -> None:
    result = at(width, "stats", "-c", str(oncall.config), "-n", "3")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert_fits(out, width, str(oncall.directory))
    assert re.search(r"^wrong sign\s+3\s+100\.0%$", out, re.MULTILINE)
    assert re.search(r"^alexandra_the_reviewer\s+3\s+100\.0%$", out, re.MULTILINE)
    assert re.search(r"^\d{4}-\d\d-\d\d\s+3$", out, re.MULTILINE)
    newest_first = list(reversed(short_ids(oncall.ids)))
    for event_id in oncall.ids:
        assert event_id not in out
    if width == 80:
        assert field(out, "id") == newest_first
    else:
        assert not vertical(out, "id")
        assert [line.rsplit(maxsplit=1)[-1] for line in out.splitlines()[-3:]] == newest_first


def test_stats_json(at, oncall: Oncall) -> None:
    data = json.loads(at(80, "stats", "-c", str(oncall.config), "--json", "-n", "3").stdout)
    assert data["total"] == 3
    assert [e["id"] for e in data["latest"]] == list(reversed(oncall.ids))


# -- check and plugins -----------------------------------------------------------------------------


@WIDTHS
def test_check(at, oncall: Oncall, width: int) -> None:
    result = at(width, "check", str(oncall.config))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert_fits(out, width, str(oncall.directory))
    if width == 80:
        assert field(out, "callback") == ["csv", LONG_NAME]
        assert field(out, "provided by")[0].endswith("(flagpipe.plugins.csv)")
        assert field(out, "health") == ["ok", "ok"]
    else:
        row = next(line for line in out.splitlines() if line.startswith(LONG_NAME))
        assert re.match(rf"{LONG_NAME}\s+csv\s+flagpipe \S+ \(flagpipe\.plugins\.csv\)\s+ok$", row)


def test_check_json(at, oncall: Oncall) -> None:
    result = at(80, "check", str(oncall.config), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["config"] == str(oncall.config)
    assert data["dir"] == str(oncall.directory)
    assert data["mode"] == "manual"
    assert [(c["name"], c["type"], c["ok"], c["health"]) for c in data["callbacks"]] == [
        ("csv", "csv", True, "ok"),
        (LONG_NAME, "csv", True, "ok"),
    ]
    assert data["failed_plugins"] == []
    skipped = json.loads(at(80, "check", str(oncall.config), "--json", "--no-health").stdout)
    assert [(c["ok"], c["health"]) for c in skipped["callbacks"]] == [(None, "skipped")] * 2


@WIDTHS
def test_plugins(at, monkeypatch, width: int) -> None:
    monkeypatch.setenv("FLAGPIPE_DISABLE_PLUGIN_AUTOLOAD", "1")
    result = at(width, "plugins", "--all")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert_fits(out, width)
    if width == 80:
        assert field(out, "plugin") == list(BUILTIN_PLUGINS)
        assert field(out, "callback types") == ["csv", "webhook", "hf_dataset", "sql", "parquet", "flagpipe"]
        assert set(field(out, "status")) == {"loaded"}
    else:
        header = out.splitlines()[0]
        assert header.split() == ["plugin", "distribution", "version", "status", "callback", "types", "hooks"]
        rows = [line.split() for line in out.splitlines()[2:]]
        assert [row[0] for row in rows] == list(BUILTIN_PLUGINS)
        assert rows[0][1:] == ["flagpipe", rows[0][2], "loaded", "csv", "register_callbacks"]


def test_plugins_json(at, monkeypatch) -> None:
    monkeypatch.setenv("FLAGPIPE_DISABLE_PLUGIN_AUTOLOAD", "1")
    data = json.loads(at(80, "plugins", "--all", "--json").stdout)
    assert [r["name"] for r in data] == list(BUILTIN_PLUGINS)
    assert data[0]["hooks"] == ["flagpipe_register_callbacks"]


# -- flag, retry, drain, purge ---------------------------------------------------------------------


@WIDTHS
def test_flag_receipt(at, oncall: Oncall, width: int) -> None:
    result = at(width, "flag", "-c", str(oncall.config), "-f", "num1=9", "-u", "alexandra_the_reviewer")
    assert result.exit_code == 1  # a delivery failed
    out = result.stdout
    assert_fits(out, width)
    lines = out.splitlines()
    assert re.fullmatch(r"flagged [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", lines[0])  # just made
    assert lines[1] == "  delivered to csv"
    assert lines[2].startswith(f"  failed {LONG_NAME}: cannot write the CSV log")
    assert lines[2].endswith("…")


def test_flag_receipt_json(at, oncall: Oncall) -> None:
    result = at(80, "flag", "-c", str(oncall.config), "-f", "num1=9", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["stored"] is True
    assert len(data["id"]) == 36
    assert data["delivered"] == ["csv"]
    assert data["pending"] == data["skipped"] == []
    assert LONG_FILE in data["failed"][LONG_NAME]
    assert data["failed"][LONG_NAME].endswith("Is a directory; fix it, then flagpipe retry")


def test_flag_json_when_nothing_is_stored(at, oncall: Oncall, monkeypatch) -> None:
    monkeypatch.setenv("FLAGPIPE_MODE", "never")
    data = json.loads(at(80, "flag", "-c", str(oncall.config), "-f", "num1=9", "--json").stdout)
    assert data == {
        "stored": False,
        "id": None,
        "reason": "flagging mode is never",
        "delivered": [],
        "skipped": [],
        "pending": [],
        "failed": {},
    }


@WIDTHS
def test_retry_drain_purge_summaries(at, oncall: Oncall, width: int) -> None:
    config = str(oncall.config)
    result = at(width, "retry", "-c", config, "--callback", LONG_NAME)
    assert result.exit_code == 0, result.output
    assert_fits(result.stdout, width)
    assert result.stdout.startswith("re-queued 3 dead letter(s)")
    result = at(width, "drain", "-c", config)
    assert result.exit_code == 0, result.output  # the fault is still there: dead again, nothing pending
    assert_fits(result.stdout, width)
    assert result.stdout.splitlines() == ["csv: 0 pending", f"{LONG_NAME}: 0 pending, 3 dead"]
    result = at(width, "purge", "-c", config, "--older-than", "0s", "--dry-run")
    assert result.exit_code == 0, result.output
    assert_fits(result.stdout, width)
    assert result.stdout.strip() == "would remove 0 event(s) and 0 file(s) older than 0s"


def test_retry_drain_purge_json(at, oncall: Oncall) -> None:
    config = str(oncall.config)
    data = json.loads(at(80, "retry", "-c", config, "--callback", LONG_NAME, "--json").stdout)
    assert data == {"requeued": 3, "callback": LONG_NAME, "event_id": None}
    result = at(80, "drain", "-c", config, "--json")
    assert result.exit_code == 0, result.output
    lanes = {lane["name"]: lane for lane in json.loads(result.stdout)["callbacks"]}
    assert (lanes[LONG_NAME]["pending"], lanes[LONG_NAME]["dead"], lanes["csv"]["delivered"]) == (0, 3, 3)
    assert LONG_FILE in lanes[LONG_NAME]["last_error"]
    data = json.loads(at(80, "purge", "-c", config, "--older-than", "0s", "--dry-run", "--json").stdout)
    assert data == {"dry_run": True, "older_than": "0s", "events": 0, "files": []}


def test_retry_takes_a_short_id(at, oncall: Oncall) -> None:
    config = str(oncall.config)
    short = short_ids(oncall.ids)[1]
    result = at(80, "retry", "-c", config, "--id", short, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"requeued": 1, "callback": None, "event_id": oncall.ids[1]}
    whole = at(80, "retry", "-c", config, "--id", oncall.ids[2])
    assert whole.exit_code == 0, whole.output
    assert whole.stdout.startswith("re-queued 1 dead letter(s)")


def test_retry_names_an_ambiguous_or_unknown_id(at, oncall: Oncall) -> None:
    config = str(oncall.config)
    shared = oncall.ids[0][:8]
    if not all(i.startswith(shared) for i in oncall.ids):
        pytest.skip("the three flags straddle the minute their ids' first 8 characters count")
    result = at(80, "retry", "-c", config, "--id", shared)
    assert result.exit_code == 1
    assert f"event id {shared!r} is ambiguous: it starts 3 ids" in result.stderr
    for short in short_ids(oncall.ids):
        assert short in result.stderr
    unknown = at(80, "retry", "-c", config, "--id", "ffffffff")
    assert unknown.exit_code == 1
    assert "no event id starting with 'ffffffff' among the dead letters" in unknown.stderr
    short = at(80, "retry", "-c", config, "--id", oncall.ids[0][:4])
    assert short.exit_code == 1
    assert "an event id needs at least 8 characters" in short.stderr
    status = json.loads(at(80, "status", "-c", config, "--json").stdout)
    assert {lane["name"]: lane["dead"] for lane in status["callbacks"]}[LONG_NAME] == 3  # nothing re-queued


# -- export and import-gradio ----------------------------------------------------------------------


@WIDTHS
def test_export_summary(at, oncall: Oncall, tmp_path: Path, width: int) -> None:
    out = tmp_path / "flags.jsonl"
    result = at(width, "export", "-c", str(oncall.config), "--format", "jsonl", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert_fits(result.stdout, width, str(out))
    assert result.stdout.strip() == f"exported 3 flags to {out} (jsonl)"
    data = json.loads(at(width, "export", "-c", str(oncall.config), "-o", str(out), "--json").stdout)
    assert data == {"path": str(out), "format": "csv", "count": 3}


@WIDTHS
def test_import_gradio_summary(at, oncall: Oncall, tmp_path: Path, width: int) -> None:
    source = tmp_path / "gradio"
    source.mkdir()
    (source / "log.csv").write_text(
        "text,output,flag,username,timestamp\n"
        "hello,HELLO,wrong sign,alice,2024-05-01 10:00:00.000001\n"
        "bye,BYE,,,2024-05-01 10:01:00.000001\n",
        encoding="utf-8",
    )
    result = at(width, "import-gradio", str(source), "-c", str(oncall.config))
    assert result.exit_code == 0, result.output
    assert_fits(result.stdout, width)
    assert result.stdout.strip() == "read log.csv: imported 2 flags, skipped 0 already there"
    data = json.loads(at(width, "import-gradio", str(source), "-c", str(oncall.config), "--json").stdout)
    assert data == {"files": [str(source / "log.csv")], "imported": 0, "skipped": 2, "warnings": [], "pending": []}
