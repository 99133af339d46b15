"""The ``flagpipe`` commands, run in-process with click's CliRunner."""

from __future__ import annotations

import csv
import json
import re
from typing import TYPE_CHECKING

from flagpipe.cli.ids import short_ids
from flagpipe.config.starter import STARTER_CONFIG

if TYPE_CHECKING:
    from pathlib import Path

ID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
CALCULATOR_ARGS = ("--field", "num1=5", "--field", "operation=add", "--field", "num2=7", "--field", "output=-12")


def _raw_rows(path: Path) -> list[dict[str, str]]:
    """The CSV as written (no un-neutralizing), so a cell's exact text can be checked."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _flag(run, config: Path, *args: str) -> str:
    result = run("flag", "--config", str(config), *args)
    assert result.exit_code == 0, result.output
    (event_id,) = ID.findall(result.stdout)
    return event_id


# -- init and check ---------------------------------------------------------------------------


def test_init_writes_a_commented_config_that_check_accepts(run, tmp_path) -> None:
    result = run("init")
    assert result.exit_code == 0, result.output
    assert "wrote flagging.yaml" in result.stdout
    written = (tmp_path / "flagging.yaml").read_text(encoding="utf-8")
    assert written == STARTER_CONFIG
    comments = [line for line in written.splitlines() if line.lstrip().startswith("#")]
    assert len(comments) >= 5
    checked = run("check", "flagging.yaml")
    assert checked.exit_code == 0, checked.output
    assert "flagging.yaml: valid; mode manual" in checked.stdout
    assert str(tmp_path / "flagged") in checked.stdout
    assert "csv" in checked.stdout
    assert "ok" in checked.stdout


def test_check_finds_flagging_yaml_in_the_current_folder(run) -> None:
    assert run("init").exit_code == 0
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "flagging.yaml: valid" in result.stdout


def test_init_refuses_to_overwrite_without_force(run, tmp_path) -> None:
    target = tmp_path / "custom.yaml"
    target.write_text("mode: never\n", encoding="utf-8")
    result = run("init", "custom.yaml")
    assert result.exit_code == 1
    assert "custom.yaml exists; use --force to overwrite it" in result.stderr
    assert target.read_text(encoding="utf-8") == "mode: never\n"
    forced = run("init", "custom.yaml", "--force")
    assert forced.exit_code == 0, forced.output
    assert target.read_text(encoding="utf-8") == STARTER_CONFIG


def test_check_reports_every_problem_with_file_line_and_key(run, tmp_path) -> None:
    (tmp_path / "flagging.yaml").write_text(
        "version: 1\n"
        "mode: sometimes\n"
        "options:\n"
        "  - [a, b, c]\n"
        "callbacks:\n"
        "  - type: csv\n"
        "    file_name: ../escape.csv\n"
        "  - type: slack\n",
        encoding="utf-8",
    )
    result = run("check", "flagging.yaml")
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "error: invalid config:"
    assert [line.strip() for line in lines[1:]] == [
        "flagging.yaml:2 mode: Input should be 'manual', 'auto' or 'never'",
        "flagging.yaml:4 options[0]: an option pair must be [label, value]",
        "flagging.yaml:7 callbacks[0].file_name: file_name must be a plain file name ending in .csv, "
        "got '../escape.csv'",
        "flagging.yaml:8 callbacks[1].type: unknown callback type 'slack'; installed types: csv, flagpipe, hf_dataset, "
        "parquet, sql, webhook (is the plugin that provides it installed?)",
    ]


def test_check_names_a_bad_mode_variable(run, calculator, monkeypatch) -> None:
    monkeypatch.setenv("FLAGPIPE_MODE", "sometimes")
    result = run("check", str(calculator))
    assert result.exit_code == 1
    assert "environment variable FLAGPIPE_MODE mode: Input should be" in result.stderr


def test_check_a_missing_file(run) -> None:
    result = run("check", "absent.yaml")
    assert result.exit_code == 1
    assert "absent.yaml: cannot read config" in result.stderr


def test_check_reports_the_mode_override(run, calculator, monkeypatch) -> None:
    monkeypatch.setenv("FLAGPIPE_MODE", "never")
    result = run("check", str(calculator))
    assert result.exit_code == 0, result.output
    assert "valid; mode never" in result.stdout


# -- schema and plugins ---------------------------------------------------------------------------


def test_schema_prints_json_with_the_csv_settings(run) -> None:
    result = run("schema")
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["title"] == "flagging.yaml"
    variants = schema["properties"]["callbacks"]["items"]["oneOf"]
    (csv_variant,) = [v for v in variants if v.get("properties", {}).get("type", {}).get("const") == "csv"]
    assert {"file_name", "id_column", "extra_columns"} <= set(csv_variant["properties"])
    assert csv_variant["properties"]["file_name"]["default"] == "log.csv"


def test_plugins_table(run) -> None:
    result = run("plugins")
    assert result.exit_code == 0, result.output
    assert "distribution" in result.stdout
    assert "built-in plugins hidden; --all shows them" in result.stdout
    assert "flagpipe.plugins.csv" not in result.stdout
    shown = run("plugins", "--all")
    assert shown.exit_code == 0, shown.output
    assert "flagpipe.plugins.csv" in shown.stdout
    assert "loaded" in shown.stdout


def test_plugins_json_lists_the_builtin_csv_plugin(run) -> None:
    result = run("plugins", "--json", "--all")
    assert result.exit_code == 0, result.output
    records = {r["name"]: r for r in json.loads(result.stdout)}
    csv_plugin = records["flagpipe.plugins.csv"]
    assert csv_plugin["status"] == "loaded"
    assert csv_plugin["builtin"] is True
    assert csv_plugin["distribution"] == "flagpipe"
    assert csv_plugin["error"] is None
    assert csv_plugin["callback_types"] == ["csv"]
    assert "flagpipe_register_callbacks" in csv_plugin["hooks"]
    only_third_party = json.loads(run("plugins", "--json").stdout)
    assert all(not r["builtin"] for r in only_third_party)


def test_plugins_json_marks_a_blocked_builtin(run) -> None:
    result = run("--block-plugin", "flagpipe.plugins.value_kinds", "plugins", "--json", "--all")
    assert result.exit_code == 0, result.output
    records = {r["name"]: r for r in json.loads(result.stdout)}
    assert records["flagpipe.plugins.value_kinds"]["status"] == "blocked"
    assert records["flagpipe.plugins.csv"]["status"] == "loaded"


# -- flag ---------------------------------------------------------------------------------------


def test_flag_stores_a_row_and_says_where_it_went(run, calculator, tmp_path) -> None:
    result = run("flag", "--config", str(calculator), *CALCULATOR_ARGS, "--option", "wrong sign", "--username", "alice")
    assert result.exit_code == 0, result.output
    (event_id,) = ID.findall(result.stdout)
    assert result.stdout.splitlines() == [f"flagged {event_id}", "  delivered to csv"]
    (row,) = _raw_rows(tmp_path / "flagged" / "log.csv")
    assert row["num1"] == "5"
    assert row["operation"] == "add"
    assert row["num2"] == "7"
    assert row["output"] == "-12"  # a number, not text a spreadsheet must be protected from
    assert row["flag"] == "wrong sign"
    assert row["username"] == "alice"
    assert row["id"] == event_id


def test_flag_short_options_and_text_that_looks_like_a_formula(run, calculator, tmp_path) -> None:
    event_id = _flag(run, calculator, "-f", "operation=-cmd", "-o", "other", "-u", "bob", "--comment", "hm")
    (row,) = _raw_rows(tmp_path / "flagged" / "log.csv")
    assert row["operation"] == "'-cmd"  # text starting with '-' is neutralized
    assert (row["flag"], row["username"], row["id"]) == ("other", "bob", event_id)


def test_flag_a_file(run, calculator, tmp_path) -> None:
    image = tmp_path / "input.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\nnot really an image")
    event_id = _flag(run, calculator, "--file", f"image={image}", "--field", "label=cat")
    (row,) = _raw_rows(tmp_path / "flagged" / "log.csv")
    assert row["id"] == event_id
    assert row["label"] == "cat"
    stored = tmp_path / "flagged" / row["image"]
    assert row["image"].startswith("image/")
    assert stored.is_file()
    assert stored.parent.parent == tmp_path / "flagged" / "image"
    assert stored.read_bytes() == image.read_bytes()


def test_flag_a_missing_file(run, calculator, tmp_path) -> None:
    result = run("flag", "--config", str(calculator), "--file", "image=absent.png")
    assert result.exit_code == 1
    assert "absent.png" in result.stderr
    assert not (tmp_path / "flagged" / "log.csv").exists()


def test_flag_with_a_bad_option_stores_nothing(run, calculator, tmp_path) -> None:
    result = run("flag", "--config", str(calculator), *CALCULATOR_ARGS, "--option", "looks fine")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "option 'looks fine' is not one of the configured options: 'wrong sign', 'off by one', 'other'" in (
        result.stderr
    )
    assert not (tmp_path / "flagged" / "log.csv").exists()
    shown = run("show", "--config", str(calculator))
    assert shown.exit_code == 0, shown.output
    assert "no flags yet" in shown.stdout


def test_flag_field_without_equals_is_a_usage_error(run, calculator, tmp_path) -> None:
    result = run("flag", "--config", str(calculator), "--field", "num1")
    assert result.exit_code == 2
    assert "--field" in result.stderr
    assert "expected NAME=VALUE, got 'num1'" in result.stderr
    assert not (tmp_path / "flagged" / "log.csv").exists()


def test_flag_with_a_bad_config(run, tmp_path) -> None:
    (tmp_path / "bad.yaml").write_text("mode: manual\ncolour: red\n", encoding="utf-8")
    result = run("flag", "--config", "bad.yaml", "--field", "x=1")
    assert result.exit_code == 1
    assert "bad.yaml:2 colour: unknown key; allowed keys:" in result.stderr
    assert not (tmp_path / "flagged").exists()


def test_flag_in_never_mode_is_not_stored(run, calculator, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("FLAGPIPE_MODE", "never")
    result = run("flag", "--config", str(calculator), *CALCULATOR_ARGS)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "not stored: flagging mode is never"
    assert not (tmp_path / "flagged" / "log.csv").exists()


# -- show ---------------------------------------------------------------------------------------


def test_show_the_latest_flags(run, calculator) -> None:
    first = _flag(run, calculator, "--field", "num1=1", "--option", "other")
    second = _flag(run, calculator, "--field", "num1=2", "--option", "off by one", "--username", "alice")
    third = _flag(run, calculator, "--field", "num1=3", "--option", "wrong sign", "--username", "bob")
    result = run("show", "--config", str(calculator), "-n", "2")
    assert result.exit_code == 0, result.output
    out = result.stdout
    (short_second, short_third) = short_ids([second, third])
    assert first not in out
    assert short_second in out
    assert short_third in out
    assert second not in out  # a table shows ids short; --json has them whole
    assert out.index(short_second) < out.index(short_third)  # oldest first
    for text in ("num1=2", "num1=3", "off by one", "wrong sign", "alice", "bob"):
        assert text in out
    assert "num1=1" not in out
    assert "latest flags in" in out
    shown = json.loads(run("show", "--config", str(calculator), "-n", "2", "--json").stdout)
    assert [flag["id"] for flag in shown["flags"]] == [second, third]  # oldest first, whole


def test_show_on_an_empty_dir(run, calculator, tmp_path) -> None:
    result = run("show", "--config", str(calculator))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"no flags yet in {tmp_path / 'flagged'}"
    assert not (tmp_path / "flagged").exists()  # showing creates nothing


def test_show_needs_a_positive_count(run, calculator) -> None:
    result = run("show", "--config", str(calculator), "-n", "0")
    assert result.exit_code == 2
    assert "-n" in result.stderr


def test_show_prints_ids_short_in_a_narrow_terminal_and_whole_in_json(run, calculator, monkeypatch) -> None:
    ids = [_flag(run, calculator, "--field", f"text=value number {n}") for n in range(2)]
    monkeypatch.setenv("COLUMNS", "80")
    result = run("show", "--config", str(calculator))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()[1:]  # below the headline that names the directory
    assert lines
    assert max(len(line) for line in lines) <= 80
    for event_id, short in zip(ids, short_ids(ids), strict=True):
        assert short in result.stdout
        assert event_id not in result.stdout
    shown = json.loads(run("show", "--config", str(calculator), "--json").stdout)
    assert [flag["id"] for flag in shown["flags"]] == ids


def test_show_prints_markup_like_values_as_they_are(run, calculator) -> None:
    _flag(run, calculator, "--field", "text=[/] and [bold]x", "--username", "[red]eve")
    result = run("show", "--config", str(calculator))
    assert result.exit_code == 0, result.output
    assert '"[/] and [bold]x"' in result.stdout
    assert "[red]eve" in result.stdout


def test_flag_says_which_callbacks_a_when_rule_skips(run, tmp_path) -> None:
    (tmp_path / "routed.yaml").write_text(
        "options: [wrong sign, other]\n"
        "callbacks:\n"
        "  - type: csv\n"
        "    name: everything\n"
        "  - type: csv\n"
        "    name: signs\n"
        "    file_name: signs.csv\n"
        "    when: {options: [wrong sign]}\n",
        encoding="utf-8",
    )
    result = run("flag", "--config", "routed.yaml", "--field", "x=1", "--option", "other")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == ["  delivered to everything", "  skipped by signs (its when rule)"]
    result = run("flag", "--config", "routed.yaml", "--field", "x=2", "--option", "wrong sign")
    assert result.stdout.splitlines()[1:] == ["  delivered to everything", "  delivered to signs"]
    assert [r["x"] for r in _raw_rows(tmp_path / "flagged" / "signs.csv")] == ["2"]
    assert [r["x"] for r in _raw_rows(tmp_path / "flagged" / "log.csv")] == ["1", "2"]


def test_check_says_the_mode_is_never_by_default_on_spaces(run, tmp_path, monkeypatch) -> None:
    config = tmp_path / "flagging.yaml"
    config.write_text("options: [wrong sign]\n", encoding="utf-8")
    monkeypatch.setenv("SPACE_ID", "alice/calculator")
    result = run("check", str(config), "--no-health")
    assert result.exit_code == 0, result.output
    assert "valid; mode never (the default on Hugging Face Spaces" in result.stdout
    assert not (tmp_path / "flagged").exists()
    monkeypatch.delenv("SPACE_ID")
    monkeypatch.setenv("SYSTEM", "spaces")
    result = run("check", str(config), "--no-health", "--json")
    assert json.loads(result.stdout)["mode"] == "never"
    assert "Hugging Face Spaces" in json.loads(result.stdout)["mode_note"]


def test_a_mode_set_in_the_config_wins_over_the_spaces_default(run, tmp_path, monkeypatch) -> None:
    config = tmp_path / "flagging.yaml"
    config.write_text("mode: manual\n", encoding="utf-8")
    monkeypatch.setenv("SPACE_ID", "alice/calculator")
    result = run("check", str(config), "--no-health", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["mode"] == "manual"
    assert json.loads(result.stdout)["mode_note"] is None
