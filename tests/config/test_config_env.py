"""``${VAR}`` interpolation, ``$$`` escapes, the ``env=`` argument, and the FLAGPIPE_MODE override."""

from __future__ import annotations

import pytest

from flagpipe.config.loader import load_config


def test_variables_with_and_without_defaults(write_config, load, tmp_path) -> None:
    path = write_config(
        """\
        app: ${APP_NAME}
        dir: ${FLAG_DIR:-flags}
        notice: "by ${TEAM:-nobody} for ${APP_NAME}"
        """
    )
    loaded = load(path, env={"APP_NAME": "calculator"})
    assert loaded.config.app == "calculator"
    assert loaded.config.dir == "flags"
    assert loaded.directory == tmp_path / "flags"
    assert loaded.config.notice == "by nobody for calculator"


def test_a_set_variable_wins_over_its_default(write_config, load) -> None:
    path = write_config("dir: ${FLAG_DIR:-flags}\n")
    assert load(path, env={"FLAG_DIR": "elsewhere"}).config.dir == "elsewhere"


def test_empty_default_and_empty_value(write_config, load) -> None:
    path = write_config('notice: "[${EMPTY:-}] [${SET_EMPTY}]"\n')
    assert load(path, env={"SET_EMPTY": ""}).config.notice == "[] []"


def test_double_dollar_is_a_literal_dollar(write_config, load) -> None:
    path = write_config(
        """\
        app: "price $${AMOUNT}"
        notice: "costs $5, $$HOME, ${CURRENCY:-EUR}"
        """
    )
    loaded = load(path)
    assert loaded.config.app == "price ${AMOUNT}"
    assert loaded.config.notice == "costs $5, $HOME, EUR"


def test_substituted_values_are_not_interpolated_again(write_config, load) -> None:
    path = write_config("app: ${RAW}\n")
    assert load(path, env={"RAW": "${OTHER} and $$"}).config.app == "${OTHER} and $$"


def test_interpolation_inside_nested_lists_and_maps(write_config, load) -> None:
    path = write_config(
        """\
        options:
          - ${FIRST}
          - ["${SECOND_LABEL}", "${SECOND_VALUE}"]
          - {label: third, value: "${THIRD:-3rd}"}
        fields:
          - {name: "${FIELD}", kind: number}
        callbacks:
          - type: csv
            file_name: ${LOG:-log}-${STAGE}.csv
            extra_columns: ["${EXTRA}"]
        """
    )
    env = {
        "FIRST": "wrong sign",
        "SECOND_LABEL": "Off by one",
        "SECOND_VALUE": "off_by_one",
        "FIELD": "num1",
        "STAGE": "prod",
        "EXTRA": "comment",
    }
    loaded = load(path, env=env)
    assert [(o.label, o.value) for o in loaded.config.options] == [
        ("wrong sign", "wrong sign"),
        ("Off by one", "off_by_one"),
        ("third", "3rd"),
    ]
    assert loaded.config.fields is not None
    assert [f.name for f in loaded.config.fields] == ["num1"]
    (entry,) = loaded.chain
    assert entry.settings.file_name == "log-prod.csv"  # type: ignore[attr-defined]
    assert entry.settings.extra_columns == ("comment",)  # type: ignore[attr-defined]


def test_non_string_values_are_left_alone(write_config, load) -> None:
    path = write_config(
        """\
        max_file_bytes: 1024
        callbacks:
          - type: csv
            id_column: false
        """
    )
    loaded = load(path)
    assert loaded.config.max_file_bytes == 1024
    assert loaded.chain[0].settings.id_column is False  # type: ignore[attr-defined]


def test_explicit_env_replaces_the_process_environment(write_config, load, monkeypatch) -> None:
    monkeypatch.setenv("FLAGPIPE_TEST_APP", "from-process")
    path = write_config("app: ${FLAGPIPE_TEST_APP:-fallback}\n")
    assert load(path, env={}).config.app == "fallback"
    assert load(path, env={"FLAGPIPE_TEST_APP": "explicit"}).config.app == "explicit"


def test_process_environment_is_the_default(write_config, plugins, monkeypatch) -> None:
    monkeypatch.setenv("FLAGPIPE_TEST_APP", "from-process")
    path = write_config("app: ${FLAGPIPE_TEST_APP}\n")
    assert load_config(path, plugins=plugins).config.app == "from-process"


def test_interpolation_in_a_dict_config(load) -> None:
    loaded = load(data={"app": "${APP}", "options": ["${OPT}"]}, env={"APP": "calc", "OPT": "other"})
    assert loaded.config.app == "calc"
    assert [o.value for o in loaded.config.options] == ["other"]


def test_mode_override_from_the_environment(write_config, load) -> None:
    path = write_config("mode: never\n")
    assert load(path).config.mode == "never"
    assert load(path, env={"FLAGPIPE_MODE": "auto"}).config.mode == "auto"
    assert load(path, env={"FLAGPIPE_MODE": " manual \n"}).config.mode == "manual"
    assert load(path, env={"FLAGPIPE_MODE": ""}).config.mode == "never"  # empty means unset


def test_mode_override_without_a_config(load, monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    assert load(env={"FLAGPIPE_MODE": "never"}).config.mode == "never"


def test_mode_override_from_the_process_environment(write_config, plugins, monkeypatch) -> None:
    path = write_config("mode: manual\n")
    monkeypatch.setenv("FLAGPIPE_MODE", "auto")
    assert load_config(path, plugins=plugins).config.mode == "auto"


def test_invalid_mode_override_names_the_variable(write_config, problems) -> None:
    path = write_config(
        """\
        version: 1
        mode: manual
        """
    )
    assert problems(path, env={"FLAGPIPE_MODE": "sometimes"}) == [
        "environment variable FLAGPIPE_MODE mode: Input should be 'manual', 'auto' or 'never'"
    ]


def test_invalid_mode_override_is_reported_with_the_file_problems(write_config, problems) -> None:
    path = write_config(
        """\
        version: 1
        colour: red
        """
    )
    found = problems(path, env={"FLAGPIPE_MODE": "always"})
    assert [m.split(": ", 1)[0] for m in sorted(found)] == [
        "environment variable FLAGPIPE_MODE mode",
        "flagging.yaml:2 colour",
    ]


@pytest.mark.parametrize("value", ["MANUAL", "on", "1"])
def test_mode_override_is_exact(write_config, problems, value: str) -> None:
    path = write_config("mode: manual\n")
    (message,) = problems(path, env={"FLAGPIPE_MODE": value})
    assert message.startswith("environment variable FLAGPIPE_MODE mode: ")
