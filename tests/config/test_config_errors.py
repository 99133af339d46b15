"""Malformed configs: every problem names the file, the line and the key path, all reported at once."""

from __future__ import annotations

import pytest

from flagpipe.config.errors import ConfigError, ConfigProblem, format_key_path
from flagpipe.config.model import CHAIN_KEYS, FlagpipeConfig
from flagpipe.core.policy import PolicyLayer
from flagpipe.plugins.csv import CSVSettings

#: What "allowed keys" lists: every key the model knows, in declaration order.
TOP_LEVEL_KEYS = ", ".join(FlagpipeConfig.model_fields)
CSV_ITEM_KEYS = ", ".join([*CHAIN_KEYS, *CSVSettings.model_fields])


def test_bad_yaml_syntax_names_the_line(write_config, problems) -> None:
    path = write_config(
        """\
        version: 1
        mode: manual
        dir: flagged: twice
        """
    )
    assert problems(path) == ["flagging.yaml:3: invalid YAML: mapping values are not allowed here"]


def test_unclosed_list_names_a_line_and_the_reason(write_config, problems) -> None:
    path = write_config(
        """\
        version: 1
        options: [a, b
        dir: flagged
        """
    )
    (message,) = problems(path)
    assert message.startswith("flagging.yaml:3: invalid YAML: ")
    assert "flow sequence" in message


def test_wrong_types_are_all_reported(write_config, problems) -> None:
    path = write_config(
        """\
        version: 1
        mode: sometimes
        options: wrong sign
        dir: flagged
        max_file_bytes: lots
        """
    )
    found = sorted(problems(path))
    assert found == [
        "flagging.yaml:2 mode: Input should be 'manual', 'auto' or 'never'",
        "flagging.yaml:3 options: expected a list",
        "flagging.yaml:5 max_file_bytes: Input should be a valid integer, unable to parse string as an integer",
    ]


def test_errors_carry_structured_problems(write_config, load) -> None:
    path = write_config("mode: sometimes\n")
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert isinstance(caught.value, ValueError)
    (problem,) = caught.value.problems
    assert problem.source == "flagging.yaml"
    assert problem.line == 1
    assert problem.path == ("mode",)
    assert "'manual', 'auto' or 'never'" in problem.message


def test_a_negative_size_names_its_key(write_config, problems) -> None:
    path = write_config("max_file_bytes: -1\n")
    assert problems(path) == ["flagging.yaml:1 max_file_bytes: Input should be greater than 0"]


def test_unknown_top_level_key_lists_the_allowed_keys(write_config, problems) -> None:
    path = write_config(
        """\
        version: 1
        colour: red
        """
    )
    assert problems(path) == [f"flagging.yaml:2 colour: unknown key; allowed keys: {TOP_LEVEL_KEYS}"]
    for key in ("version", "mode", "options", "dir", "callbacks"):
        assert key in TOP_LEVEL_KEYS


def test_unknown_nested_key_lists_the_keys_of_its_section(write_config, problems) -> None:
    path = write_config(
        """\
        plugins:
          autoload: false
          retries: 3
        options:
          - {label: a, colour: red}
        """
    )
    assert sorted(problems(path)) == [
        f"flagging.yaml:3 plugins.retries: unknown key; allowed keys: {', '.join(PolicyLayer.model_fields)}",
        "flagging.yaml:5 options[0].colour: unknown key; allowed keys: label, value",
    ]


def test_unknown_callback_setting_lists_the_allowed_keys(write_config, problems) -> None:
    path = write_config(
        """\
        version: 1
        callbacks:
          - type: csv
            file_name: log.csv
            separator: ";"
        """
    )
    assert problems(path) == [f"flagging.yaml:5 callbacks[0].separator: unknown key; allowed keys: {CSV_ITEM_KEYS}"]
    assert CSV_ITEM_KEYS.startswith("type, name")
    assert "file_name" in CSV_ITEM_KEYS


def test_unknown_callback_type_lists_the_installed_types(write_config, problems) -> None:
    path = write_config(
        """\
        version: 1
        mode: manual
        dir: flagged
        callbacks:
          - type: csv
            file_name: log.csv
          - type: slack
            url: https://example.invalid/hook
        """
    )
    (message,) = problems(path)
    assert message.startswith("flagging.yaml:7 callbacks[1].type: unknown callback type 'slack'; installed types: csv")


def test_callback_item_of_the_wrong_shape(write_config, problems) -> None:
    path = write_config(
        """\
        callbacks:
          - 5
          - file_name: x.csv
        """
    )
    assert sorted(problems(path)) == [
        "flagging.yaml:2 callbacks[0]: expected a mapping of keys",
        "flagging.yaml:3 callbacks[1].type: required key is missing",
    ]


def test_wrong_type_of_a_callback_setting(write_config, problems) -> None:
    path = write_config(
        """\
        callbacks:
          - type: csv
            id_column: sometimes
            extra_columns: [comment, shoe_size]
        """
    )
    found = problems(path)
    assert len(found) == 2
    assert found[0].startswith("flagging.yaml:3 callbacks[0].id_column: ")
    assert found[1].startswith("flagging.yaml:4 callbacks[0].extra_columns[1]: ")


def test_missing_environment_variable_names_the_variable_key_and_line(write_config, problems) -> None:
    path = write_config(
        """\
        version: 1
        dir: flagged
        callbacks:
          - type: csv
            file_name: ${LOG_NAME}
        """
    )
    assert problems(path) == [
        "flagging.yaml:5 callbacks[0].file_name: environment variable LOG_NAME is not set "
        "(set it, or write ${LOG_NAME:-default})"
    ]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("- type: csv\n- type: csv\n", id="list"),
        pytest.param("just some text\n", id="scalar"),
    ],
)
def test_config_that_is_not_a_mapping(write_config, problems, text: str) -> None:
    assert problems(write_config(text)) == ["flagging.yaml:1: the config must be a mapping of keys"]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file_means_the_defaults(write_config, load, text: str, tmp_path) -> None:
    loaded = load(write_config(text))
    assert loaded.config.mode == "manual"
    assert loaded.config.options == ()
    assert loaded.directory == tmp_path / "flagged"
    assert [(e.name, e.type_name) for e in loaded.chain] == [("csv", "csv")]


def test_duplicate_option_labels(write_config, problems) -> None:
    path = write_config(
        """\
        version: 1
        options:
          - wrong sign
          - [wrong sign, sign]
        """
    )
    assert problems(path) == ["flagging.yaml:2 options: option labels must be unique; repeated: wrong sign"]


def test_duplicate_option_values(write_config, problems) -> None:
    path = write_config(
        """\
        options:
          - {label: Wrong sign, value: sign}
          - [Sign flipped, sign]
        """
    )
    assert problems(path) == ["flagging.yaml:1 options: option values must be unique; repeated: sign"]


def test_option_pair_of_the_wrong_length(write_config, problems) -> None:
    path = write_config(
        """\
        options:
          - fine
          - [a, b, c]
        """
    )
    assert problems(path) == ["flagging.yaml:3 options[1]: an option pair must be [label, value]"]


def test_duplicate_chain_names(write_config, problems) -> None:
    path = write_config(
        """\
        callbacks:
          - type: csv
            name: log
          - type: csv
            file_name: other.csv
            name: log
        """
    )
    assert problems(path) == ["flagging.yaml:6 callbacks[1].name: name 'log' is used twice"]


def test_unnamed_callbacks_of_one_type_get_unique_names(write_config, load) -> None:
    path = write_config(
        """\
        callbacks:
          - csv
          - type: csv
            file_name: second.csv
        """
    )
    assert [e.name for e in load(path).chain] == ["csv", "csv-2"]


@pytest.mark.parametrize("bad", ["../x.csv", "sub/x.csv", "notes.txt", ".."])
def test_bad_csv_file_name(write_config, problems, bad: str) -> None:
    path = write_config(
        f"""\
        callbacks:
          - type: csv
            file_name: "{bad}"
        """
    )
    assert problems(path) == [
        f"flagging.yaml:3 callbacks[0].file_name: file_name must be a plain file name ending in .csv, got {bad!r}"
    ]


def test_repeated_yaml_key_is_an_error(write_config, problems) -> None:
    path = write_config(
        """\
        mode: auto
        dir: flagged
        mode: never
        """
    )
    assert problems(path) == ["flagging.yaml:3 mode: duplicate key (first given at line 1)"]


def test_several_problems_are_reported_at_once(write_config, problems) -> None:
    path = write_config(
        """\
        version: 1
        mode: sometimes
        colour: red
        options: [a, a]
        callbacks:
          - type: csv
            file_name: ../escape.csv
          - type: slack
          - type: csv
            file_name: b.csv
            colour: blue
        """
    )
    found = problems(path)
    prefixes = [m.split(": ", 1)[0] for m in found]
    assert sorted(prefixes) == sorted(
        [
            "flagging.yaml:2 mode",
            "flagging.yaml:3 colour",
            "flagging.yaml:4 options",
            "flagging.yaml:7 callbacks[0].file_name",
            "flagging.yaml:8 callbacks[1].type",
            "flagging.yaml:11 callbacks[2].colour",
        ]
    )


def test_several_missing_variables_are_reported_at_once(write_config, problems) -> None:
    path = write_config(
        """\
        app: ${APP}
        options:
          - ${FIRST}
          - [label, "${SECOND}"]
        """
    )
    assert [m.split(": ", 1)[0] for m in problems(path)] == [
        "flagging.yaml:1 app",
        "flagging.yaml:3 options[0]",
        "flagging.yaml:4 options[1][1]",
    ]


def test_unreadable_config_file(tmp_path, problems) -> None:
    missing = tmp_path / "absent.yaml"
    (message,) = problems(str(missing))
    assert message.startswith(f"{missing}: cannot read config: ")


def test_problems_from_a_dict_name_the_key_without_a_line(problems) -> None:
    found = problems(data={"mode": "sometimes", "callbacks": [{"type": "csv", "colour": "red"}]})
    assert [m.split(": ", 1)[0] for m in found] == ["<config> mode", "<config> callbacks[0].colour"]


def test_problem_formatting() -> None:
    assert format_key_path(("callbacks", 2, "url")) == "callbacks[2].url"
    assert format_key_path(("options", 0, 1)) == "options[0][1]"
    assert format_key_path(()) == ""
    assert str(ConfigProblem("f.yaml", 9, ("callbacks", 2, "url"), "not a valid URL")) == (
        "f.yaml:9 callbacks[2].url: not a valid URL"
    )
    assert str(ConfigProblem("f.yaml", None, (), "empty")) == "f.yaml: empty"
