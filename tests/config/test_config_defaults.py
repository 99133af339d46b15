"""Defaults as in Gradio, where the flagging directory lives, and the forms an option can take."""

from __future__ import annotations

import csv
import textwrap
from typing import TYPE_CHECKING

import pytest

from flagpipe import Flagger
from flagpipe.config.model import OptionChoice

if TYPE_CHECKING:
    from pathlib import Path


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_no_config_means_gradio_defaults(load, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    loaded = load()
    assert loaded.source == "<config>"
    assert loaded.config.mode == "manual"
    assert loaded.config.options == ()
    assert loaded.config.dir == "flagged"
    assert loaded.directory == tmp_path / "flagged"
    assert [(e.name, e.type_name) for e in loaded.chain] == [("csv", "csv")]
    assert loaded.chain[0].settings.file_name == "log.csv"  # type: ignore[attr-defined]


def test_flagger_without_config_writes_flagged_log_csv(tmp_path, monkeypatch, plugins) -> None:
    monkeypatch.chdir(tmp_path)
    with Flagger(plugins=plugins, env={}) as flagger:
        assert flagger.mode == "manual"
        assert flagger.options == ()
        assert flagger.callback_names == ("csv",)
        receipt = flagger.flag({"text": "hello"})
    assert receipt.stored
    rows = _rows(tmp_path / "flagged" / "log.csv")
    assert [(r["text"], r["id"]) for r in rows] == [("hello", receipt.id)]


def test_relative_dir_resolves_against_the_config_folder(tmp_path, monkeypatch, load) -> None:
    config_dir = tmp_path / "app" / "conf"
    config_dir.mkdir(parents=True)
    (config_dir / "flagging.yaml").write_text("dir: out/flags\n", encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load(str(config_dir / "flagging.yaml")).directory == config_dir / "out" / "flags"
    monkeypatch.chdir(tmp_path)
    loaded = load("app/conf/flagging.yaml")
    assert loaded.directory.is_absolute()
    assert loaded.directory == config_dir / "out" / "flags"


def test_parent_and_absolute_dirs(tmp_path, load) -> None:
    config = tmp_path / "conf" / "flagging.yaml"
    config.parent.mkdir()
    config.write_text("dir: ../shared\n", encoding="utf-8")
    assert load(str(config)).directory.resolve() == tmp_path / "shared"
    absolute = tmp_path / "absolute"
    config.write_text(f"dir: {absolute}\n", encoding="utf-8")
    assert load(str(config)).directory == absolute


def test_dict_config_dir_resolves_against_base_dir(tmp_path, load) -> None:
    assert load(data={"dir": "flags"}, base_dir=tmp_path).directory == tmp_path / "flags"


def test_flagger_from_yaml_writes_next_to_the_config(tmp_path, monkeypatch) -> None:
    config = tmp_path / "conf" / "flagging.yaml"
    config.parent.mkdir()
    config.write_text("dir: flags\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with Flagger.from_yaml("conf/flagging.yaml", env={}) as flagger:
        flagger.flag({"x": 1})
    assert (tmp_path / "conf" / "flags" / "log.csv").is_file()
    assert not (tmp_path / "flags").exists()


OPTIONS_YAML = """\
options:
  - wrong sign
  - [Off by one, off_by_one]
  - {label: Too slow, value: slow}
  - {label: Other}
"""


def test_option_forms(write_config, load) -> None:
    loaded = load(write_config(OPTIONS_YAML))
    assert loaded.config.options == (
        OptionChoice(label="wrong sign", value="wrong sign"),
        OptionChoice(label="Off by one", value="off_by_one"),
        OptionChoice(label="Too slow", value="slow"),
        OptionChoice(label="Other", value="Other"),
    )


def test_flagging_with_a_label_stores_the_value(tmp_path) -> None:
    config = tmp_path / "flagging.yaml"
    config.write_text(OPTIONS_YAML, encoding="utf-8")
    with Flagger.from_yaml(config, env={}) as flagger:
        by_label = flagger.flag({"num1": 5}, option="Off by one")
        by_value = flagger.flag({"num1": 6}, option="slow")
        plain = flagger.flag({"num1": 7}, option="wrong sign")
        with pytest.raises(ValueError, match="not one of the configured options") as caught:
            flagger.flag({"num1": 8}, option="Too fast")
        assert "'off_by_one'" in str(caught.value)
        latest = flagger.latest(10)
    assert [e.option for e in latest] == ["off_by_one", "slow", "wrong sign"]
    assert [e.id for e in latest] == [by_label.id, by_value.id, plain.id]
    rows = _rows(tmp_path / "flagged" / "log.csv")
    assert [(r["num1"], r["flag"]) for r in rows] == [("5", "off_by_one"), ("6", "slow"), ("7", "wrong sign")]


def test_options_from_keyword_arguments_take_the_same_forms(tmp_path, plugins) -> None:
    options = ["a", ("B label", "b"), {"label": "C label", "value": "c"}]
    with Flagger(options=options, dir=tmp_path, plugins=plugins, env={}) as flagger:
        assert [(o.label, o.value) for o in flagger.options] == [("a", "a"), ("B label", "b"), ("C label", "c")]
        flagger.flag({"x": 1}, option="C label")
        assert [e.option for e in flagger.latest(1)] == ["c"]


def test_declared_fields_from_yaml(tmp_path) -> None:
    config = tmp_path / "flagging.yaml"
    config.write_text(
        textwrap.dedent(
            """\
            fields:
              - {name: num1, kind: number}
              - {name: output, kind: number, role: output}
            """
        ),
        encoding="utf-8",
    )
    with Flagger.from_yaml(config, env={}) as flagger:
        assert flagger.schema is not None
        assert flagger.schema.names == ("num1", "output")
        with pytest.raises(ValueError, match="unknown field"):
            flagger.flag({"num1": 1, "colour": "red"})


def test_a_loaded_config_takes_the_flaggers_overrides(tmp_path: Path) -> None:
    from flagpipe.config.loader import load_config, resolve_config

    config = tmp_path / "conf" / "flagging.yaml"
    config.parent.mkdir()
    config.write_text("dir: flags\noptions: [a, b]\napp: demo\n", encoding="utf-8")
    loaded = load_config(config)
    assert resolve_config(loaded) is loaded
    changed = resolve_config(loaded, overrides={"app": "other", "mode": "auto", "options": None})
    assert (changed.config.app, changed.config.mode) == ("other", "auto")
    assert [o.value for o in changed.config.options] == ["a", "b"]
    assert changed.directory == loaded.directory == tmp_path / "conf" / "flags"
    with Flagger(loaded, app="third") as flagger:
        assert flagger.config.app == "third" and flagger.directory == loaded.directory
