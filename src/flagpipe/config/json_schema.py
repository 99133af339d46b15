"""The JSON Schema of ``flagging.yaml``, with each installed callback type's settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flagpipe.config.model import CHAIN_KEYS, FlagpipeConfig

if TYPE_CHECKING:
    from flagpipe.core.host import PluginHost


def config_json_schema(plugins: PluginHost) -> dict[str, Any]:
    """Return the JSON Schema of the config file, for editor completion and validation.

    ``callbacks`` items are a ``oneOf`` over the installed callback types, each the type's
    ``Settings`` schema plus the chain keys: ``type`` (a constant), ``name`` and ``when``.
    """
    schema = FlagpipeConfig.model_json_schema()
    schema["title"] = "flagging.yaml"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    variants: list[dict[str, Any]] = []
    definitions = schema.setdefault("$defs", {})
    chain_item = definitions.get("ChainItem", {}).get("properties", {})
    chain_keys = {key: chain_item[key] for key in CHAIN_KEYS if key != "type" and key in chain_item}
    for type_name, callback_type in sorted(plugins.callback_types().items()):
        settings = callback_type.settings_model.model_json_schema(ref_template="#/$defs/{model}")
        definitions.update(settings.pop("$defs", {}))
        properties = {
            "type": {"const": type_name, "description": f"The {type_name} callback."},
            **chain_keys,
            **settings.get("properties", {}),
        }
        variants.append(
            {
                "title": f"{type_name} callback",
                "description": (callback_type.cls.__doc__ or "").strip().splitlines()[0]
                if callback_type.cls.__doc__
                else "",
                "type": "object",
                "properties": properties,
                "required": ["type", *settings.get("required", [])],
                "additionalProperties": False,
            }
        )
    # The short form: a bare type name, for a callback whose settings all have defaults.
    bare = [v["properties"]["type"]["const"] for v in variants if v["required"] == ["type"]]
    if bare:
        variants.append({"title": "callback type with default settings", "type": "string", "enum": bare})
    schema["properties"]["callbacks"] = {
        "type": "array",
        "description": schema["properties"]["callbacks"].get("description", ""),
        "items": {"oneOf": variants},
    }
    definitions.pop("ChainItem", None)
    _option_short_forms(schema)
    return schema


def _option_short_forms(schema: dict[str, Any]) -> None:
    """Accept the option forms the model accepts: a string, a [label, value] pair, a map whose value defaults."""
    choice = schema["$defs"]["OptionChoice"]
    choice["required"] = ["label"]
    label = choice["properties"]["label"]
    value = choice["properties"]["value"]
    schema["properties"]["options"]["items"] = {
        "anyOf": [
            {**label, "title": "label", "description": "The label, stored as the value too."},
            {
                "type": "array",
                "description": "[label, value]",
                "prefixItems": [label, value],
                "minItems": 2,
                "maxItems": 2,
            },
            {"$ref": "#/$defs/OptionChoice"},
        ]
    }
