"""Secrets given through ``${VAR}`` reach the callback but are never printed."""

from __future__ import annotations

import pytest

from flagpipe.config.errors import ConfigError
from flagpipe.config.loader import load_config

SECRET = "hunter2-s3cr3t-token"


def test_secret_reaches_the_settings_but_not_any_repr(write_config, load, vault) -> None:
    path = write_config(
        """\
        callbacks:
          - type: vault
            name: keeper
            token: ${TOKEN}
        """
    )
    loaded = load(path, env={"TOKEN": SECRET})
    (entry,) = loaded.chain
    assert entry.name == "keeper"
    assert entry.type_name == "vault"
    assert entry.settings.token.get_secret_value() == SECRET  # type: ignore[attr-defined]
    callback = entry.callback_type.cls(entry.settings)
    shown = [repr(loaded), str(loaded), repr(loaded.config), str(loaded.config), repr(entry), repr(callback)]
    shown += [repr(entry.settings), str(entry.settings), repr(loaded.config.callbacks)]
    for text in shown:
        assert SECRET not in text
    assert "**********" in repr(callback)


def test_secret_is_not_in_errors_about_other_keys_of_its_item(write_config, vault, plugins) -> None:
    path = write_config(
        """\
        callbacks:
          - type: vault
            token: ${TOKEN}
            retries: many
            colour: red
        """
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={"TOKEN": SECRET}, plugins=plugins)
    error = caught.value
    assert [str(p).split(": ", 1)[0] for p in error.problems] == [
        "flagging.yaml:4 callbacks[0].retries",
        "flagging.yaml:5 callbacks[0].colour",
    ]
    assert "allowed keys: type, name" in str(error)
    for text in (str(error), repr(error), *(repr(p) for p in error.problems)):
        assert SECRET not in text


def test_secret_is_not_in_errors_about_the_secret_itself(write_config, load, vault) -> None:
    path = write_config(
        """\
        callbacks:
          - type: vault
            token: ["${TOKEN}"]
        """
    )
    with pytest.raises(ConfigError) as caught:
        load(path, env={"TOKEN": SECRET})
    assert str(caught.value).startswith("flagging.yaml:3 callbacks[0].token: ")
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value)


def test_missing_secret_names_the_variable(write_config, problems, vault) -> None:
    path = write_config(
        """\
        callbacks:
          - type: vault
            token: ${TOKEN}
        """
    )
    assert problems(path) == [
        "flagging.yaml:3 callbacks[0].token: environment variable TOKEN is not set (set it, or write ${TOKEN:-default})"
    ]


def test_registered_type_is_listed_when_a_type_is_unknown(write_config, problems, vault) -> None:
    path = write_config("callbacks: [{type: vaults}]\n")
    (message,) = problems(path)
    assert message.startswith("flagging.yaml:1 callbacks[0].type: unknown callback type 'vaults'; ")
    assert "installed types: csv, flagpipe, hf_dataset, parquet, sql, vault, webhook" in message


def test_type_is_gone_after_the_block(write_config, problems, plugins, vault_plugin) -> None:
    with plugins.registered(vault_plugin, name="flagpipe-test-vault"):
        assert "vault" in plugins.callback_types()
    path = write_config("callbacks: [{type: vault, token: x}]\n")
    (message,) = problems(path)
    assert "unknown callback type 'vault'; installed types: csv" in message
