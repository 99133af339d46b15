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


PASSWORD = "pw-0ff-the-record"
CHAIN = """\
    callbacks:
      - type: webhook
        url: https://bot:${PASSWORD}@hooks.example.com/services/${TOKEN}
        headers: {Authorization: "Bearer ${TOKEN}"}
        files_url: https://files:${PASSWORD}@cdn.example.com/flags/
      - type: sql
        url: postgresql+psycopg://flagger:${PASSWORD}@db.example.com/flags
      - type: hf_dataset
        repo_id: me/flags
        token: ${TOKEN}
      - type: vault
        token: ${TOKEN}
    """


def _dumps(config: object) -> list[str]:
    from flagpipe.config.model import FlagpipeConfig

    assert isinstance(config, FlagpipeConfig)
    return [
        config.model_dump_json(),
        config.model_dump_json(indent=2, exclude_unset=True),
        str(config.model_dump()),
        str(config.model_dump(mode="json")),
        repr(config),
        str(config),
    ]


def test_dumps_of_a_loaded_config_mask_every_secret(write_config, load, vault) -> None:
    loaded = load(write_config(CHAIN), env={"PASSWORD": PASSWORD, "TOKEN": SECRET})
    shown = [*_dumps(loaded.config), repr(loaded), *(repr(e.settings) for e in loaded.chain)]
    for text in shown:
        assert PASSWORD not in text and SECRET not in text
    dumped = loaded.config.model_dump(mode="json")["callbacks"]
    assert dumped[0]["url"] == "**********"
    assert dumped[0]["files_url"] == "https://files:***@cdn.example.com/flags/"
    assert dumped[2] == {"type": "hf_dataset", "name": None, "when": None, "repo_id": "me/flags", "token": "**********"}


def test_a_config_never_resolved_is_masked_by_key_and_by_url(vault) -> None:
    from flagpipe.config.model import FlagpipeConfig

    config = FlagpipeConfig.model_validate(
        {
            "callbacks": [
                {"type": "thirdparty", "api_key": SECRET, "endpoint": f"https://u:{PASSWORD}@x.example/"},
                {"type": "other", "nested": {"password": SECRET, "list": [f"s3://k:{PASSWORD}@bucket/p"]}},
            ]
        }
    )
    for text in _dumps(config):
        assert PASSWORD not in text and SECRET not in text
    settings = config.model_dump(exclude_none=True)["callbacks"][0]
    assert settings == {"type": "thirdparty", "api_key": "**********", "endpoint": "https://u:***@x.example/"}


def test_a_flagger_built_from_a_config_model_still_gets_its_secrets(tmp_path, httpserver) -> None:
    """Masked dumps must not break the round trip a Flagger makes through its config model."""
    import flagpipe
    from flagpipe.config.model import FlagpipeConfig

    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    url = httpserver.url_for("/hook").replace("://", f"://bot:{PASSWORD}@", 1)
    chain = [{"type": "webhook", "private_addresses": "allow", "url": url}]
    config = FlagpipeConfig.model_validate({"dir": str(tmp_path), "callbacks": chain, "delivery": {"mode": "inline"}})
    with flagpipe.Flagger(config) as flagger:
        assert flagger.flag({"x": 1}).stored
        for text in _dumps(flagger.config):
            assert PASSWORD not in text
    assert httpserver.log[0][0].authorization.password == PASSWORD


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("see https://u:p4ss@h.example/x and ftp://a:b@c/", "see https://u:***@h.example/x and ftp://a:***@c/"),
        ("redis://:p4ss@localhost:6379/0", "redis://:***@localhost:6379/0"),
        ("https://ghp_t0ken@github.com/o/r.git", "https://***@github.com/o/r.git"),
        ("no url here: a@b c://", "no url here: a@b c://"),
    ],
)
def test_mask_userinfo_hides_passwords_in_any_text(text: str, shown: str) -> None:
    from flagpipe.core.secrets import mask_userinfo

    assert mask_userinfo(text) == shown
