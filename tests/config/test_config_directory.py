"""``config_directory``: the flagging directory of a YAML config, without loading plugins or callbacks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from flagpipe.config.errors import ConfigError
from flagpipe.config.loader import config_directory, load_config

if TYPE_CHECKING:
    from pathlib import Path


def test_the_directory_is_resolved_as_load_config_resolves_it(write_config, tmp_path: Path) -> None:
    path = write_config("dir: ${FLAG_DIR:-flags}/here\n")
    env = {"FLAG_DIR": "elsewhere"}
    assert config_directory(path, env=env) == tmp_path / "elsewhere" / "here"
    assert config_directory(path, env=env) == load_config(path, env=env).directory
    assert config_directory(path, env={}) == tmp_path / "flags" / "here"


def test_the_default_directory_and_an_absolute_one(write_config, tmp_path: Path) -> None:
    assert config_directory(write_config("mode: auto\n"), env={}) == tmp_path / "flagged"
    absolute = tmp_path / "abs"
    assert config_directory(write_config(f"dir: {absolute}\n"), env={}) == absolute


def test_only_dir_is_read(write_config, tmp_path: Path) -> None:
    path = write_config(
        """\
        app: ${UNSET_APP}
        plugins: {require: [not-installed>=9]}
        callbacks:
          - type: webhook
            url: ${SLACK_WEBHOOK_URL}
          - type: not_a_callback_type
        """
    )
    assert config_directory(path, env={}) == tmp_path / "flagged"
    with pytest.raises(ConfigError):
        load_config(path, env={})


def test_an_unset_variable_in_dir_is_an_error_naming_it(write_config) -> None:
    path = write_config("mode: auto\ndir: ${FLAG_DIR}\n")
    with pytest.raises(ConfigError) as info:
        config_directory(path, env={})
    assert str(info.value).startswith("flagging.yaml:2")
    assert "FLAG_DIR is not set" in str(info.value)


def test_a_bad_file_is_an_error(write_config, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must be a mapping"):
        config_directory(write_config("- a list\n"), env={})
    with pytest.raises(ConfigError, match="dir"):
        config_directory(write_config("dir: ''\n"), env={})
    with pytest.raises(ConfigError, match="cannot read config"):
        config_directory(tmp_path / "missing.yaml", env={})
