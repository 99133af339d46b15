"""The JSON Schema of ``flagging.yaml``: installed callbacks' settings, and agreement with the loader.

``jsonschema`` is not a dependency, so a small validator below covers the keywords pydantic emits.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from flagpipe.config.json_schema import config_json_schema
from flagpipe.config.model import CHAIN_KEYS
from flagpipe.config.starter import STARTER_CONFIG

_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
    "integer": int,
    "number": (int, float),
}


def _is_type(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def schema_errors(schema: dict[str, Any], value: Any, root: dict[str, Any], at: str = "$") -> list[str]:
    """Return what is wrong with ``value`` under ``schema`` (empty when it is valid)."""
    errors: list[str] = []
    if "$ref" in schema:
        errors += schema_errors(root["$defs"][schema["$ref"].removeprefix("#/$defs/")], value, root, at)
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, n) for n in names):
            return [*errors, f"{at}: expected {schema['type']}, got {value!r}"]
    errors += _value_errors(schema, value, at)
    if isinstance(value, dict):
        errors += _object_errors(schema, value, root, at)
    if isinstance(value, list):
        errors += _array_errors(schema, value, root, at)
    for keyword, wanted in (("anyOf", range(1, 10_000)), ("oneOf", range(1, 2))):
        if keyword in schema:
            matching = [s for s in schema[keyword] if not schema_errors(s, value, root, at)]
            if len(matching) not in wanted:
                errors.append(f"{at}: {len(matching)} of the {keyword} variants match {value!r}")
    return errors


def _value_errors(schema: dict[str, Any], value: Any, at: str) -> list[str]:
    checks = [
        ("const" in schema and value != schema.get("const"), "wrong constant"),
        ("enum" in schema and value not in schema.get("enum", []), "not in enum"),
        (isinstance(value, str) and len(value) < schema.get("minLength", 0), "too short"),
        (isinstance(value, str) and not re.search(schema.get("pattern", ""), value), "does not match the pattern"),
        (_is_type(value, "number") and not value > schema.get("exclusiveMinimum", float("-inf")), "too small"),
        (_is_type(value, "number") and not value >= schema.get("minimum", float("-inf")), "too small"),
    ]
    return [f"{at}: {value!r} {message}" for failed, message in checks if failed]


def _object_errors(schema: dict[str, Any], value: dict[str, Any], root: dict[str, Any], at: str) -> list[str]:
    properties = schema.get("properties", {})
    errors = [f"{at}: {k!r} is required" for k in schema.get("required", []) if k not in value]
    for key, item in value.items():
        if key in properties:
            errors += schema_errors(properties[key], item, root, f"{at}.{key}")
        elif schema.get("additionalProperties") is False:
            errors.append(f"{at}: unknown key {key!r}")
    return errors


def _array_errors(schema: dict[str, Any], value: list[Any], root: dict[str, Any], at: str) -> list[str]:
    errors = []
    if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
        errors.append(f"{at}: wrong number of items")
    prefix = schema.get("prefixItems", [])
    for index, item in enumerate(value):
        sub = prefix[index] if index < len(prefix) else schema.get("items")
        if isinstance(sub, dict):
            errors += schema_errors(sub, item, root, f"{at}[{index}]")
    return errors


@pytest.fixture
def schema(plugins) -> dict[str, Any]:
    return config_json_schema(plugins)


def _variants(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    variants = schema["properties"]["callbacks"]["items"]["oneOf"]
    return {v["properties"]["type"]["const"]: v for v in variants if "properties" in v}


def test_schema_is_json_with_the_csv_callback(schema) -> None:
    assert json.loads(json.dumps(schema)) == schema
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert schema["title"] == "flagging.yaml"
    for key in ("version", "mode", "options", "dir", "callbacks"):
        assert key in schema["properties"]
    assert schema["properties"]["mode"]["enum"] == ["manual", "auto", "never"]
    csv_variant = _variants(schema)["csv"]
    assert csv_variant["type"] == "object"
    assert csv_variant["additionalProperties"] is False
    assert csv_variant["required"] == ["type"]
    properties = csv_variant["properties"]
    assert properties["type"] == {"const": "csv", "description": "The csv callback."}
    assert properties["file_name"]["type"] == "string"
    assert properties["file_name"]["default"] == "log.csv"
    assert properties["file_name"]["description"]
    assert {"name", "id_column", "extra_columns"} <= set(properties)
    assert "ChainItem" not in schema.get("$defs", {})


def test_every_variant_has_every_chain_key(schema) -> None:
    for variant in _variants(schema).values():
        assert set(CHAIN_KEYS) <= set(variant["properties"])


def test_every_ref_resolves(schema) -> None:
    refs = re.findall(r'"\$ref": "#/\$defs/([^"]+)"', json.dumps(schema))
    assert refs
    for name in refs:
        assert name in schema["$defs"]


def test_registered_callback_types_appear(plugins, vault_plugin) -> None:
    with plugins.registered(vault_plugin, name="flagpipe-test-vault"):
        schema = config_json_schema(plugins)
    vault = _variants(schema)["vault"]
    assert vault["required"] == ["type", "token"]
    assert vault["properties"]["token"]["writeOnly"] is True
    assert vault["properties"]["token"]["format"] == "password"
    assert "vault" not in _variants(config_json_schema(plugins))


def test_starter_config_is_valid(schema) -> None:
    assert schema_errors(schema, yaml.safe_load(STARTER_CONFIG), schema) == []


VALID = [
    pytest.param({}, id="empty"),
    pytest.param({"version": 1, "mode": "auto", "dir": "flags", "max_file_bytes": 10}, id="scalars"),
    pytest.param({"options": ["wrong sign", ["Off by one", "off_by_one"], {"label": "a", "value": "b"}]}, id="opts"),
    pytest.param({"options": [{"label": "Other"}]}, id="label-only-option"),
    pytest.param({"callbacks": [{"type": "csv", "name": "log", "file_name": "x.csv", "id_column": False}]}, id="csv"),
    pytest.param({"callbacks": ["csv"]}, id="bare-type"),
    pytest.param(
        {"callbacks": [{"type": "csv", "name": "signs", "when": {"options": ["wrong sign"], "mode": ["manual"]}}]},
        id="routed",
    ),
    pytest.param({"plugins": {"autoload": False, "block": ["x"]}}, id="plugins"),
    pytest.param({"fields": [{"name": "num1", "kind": "number"}]}, id="fields"),
]

INVALID = [
    pytest.param({"colour": "red"}, id="unknown-key"),
    pytest.param({"mode": "sometimes"}, id="bad-mode"),
    pytest.param({"max_file_bytes": "lots"}, id="bad-size"),
    pytest.param({"options": "wrong sign"}, id="options-not-list"),
    pytest.param({"options": [["a", "b", "c"]]}, id="long-pair"),
    pytest.param({"callbacks": [{"type": "slack"}]}, id="unknown-type"),
    pytest.param({"callbacks": [{"type": "csv", "separator": ";"}]}, id="unknown-setting"),
    pytest.param({"callbacks": [{"file_name": "x.csv"}]}, id="no-type"),
    pytest.param({"callbacks": ["slack"]}, id="unknown-bare-type"),
    pytest.param({"callbacks": [{"type": "csv", "name": "two words"}]}, id="bad-name"),
    pytest.param({"callbacks": [{"type": "csv", "when": {"colour": "red"}}]}, id="unknown-when-key"),
]


@pytest.mark.parametrize("config", VALID)
def test_schema_accepts_what_the_loader_accepts(schema, load, tmp_path, config) -> None:
    load(data=config, base_dir=tmp_path)  # the loader accepts it ...
    assert schema_errors(schema, config, schema) == []  # ... and so does the schema


@pytest.mark.parametrize("config", INVALID)
def test_schema_rejects_what_the_loader_rejects(schema, problems, tmp_path, config) -> None:
    assert problems(data=config, base_dir=tmp_path)
    assert schema_errors(schema, config, schema) != []
