"""The top-level ``flagpipe`` namespace: one list of public names, each importable, nothing more."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import flagpipe

#: What users and plugin authors need, and nothing else.
PUBLIC = {
    "__version__",
    "Flagger",
    "FlagReceipt",
    "read_flags",
    "read_reactions",
    "REACTION_FIELDS",
    "Callback",
    "CallbackSettings",
    "hookimpl",
    "DeliveryError",
    "RetryableError",
    "PermanentError",
    "DestinationDisabledError",
    "FlagEvent",
    "FieldValue",
    "FileRef",
    "SCHEMA_VERSION",
    "FlagSchema",
    "FieldSpec",
    "ValueKind",
    "EncodedFile",
    "Detector",
    "ConfigError",
    "ConfigProblem",
    "FlagNotStoredError",
    "JournalError",
    "FlagSource",
    "FlagFilter",
}


def test_all_is_the_public_list_and_every_name_resolves() -> None:
    assert set(flagpipe.__all__) == PUBLIC
    assert sorted(dir(flagpipe)) == sorted(flagpipe.__all__)
    for name in flagpipe.__all__:
        assert getattr(flagpipe, name) is not None, name


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("PluginHost", "flagpipe.core.host"),
        ("create_plugin_host", "flagpipe.core.host"),
        ("PluginError", "flagpipe.core.host"),
        ("PluginPolicy", "flagpipe.core.policy"),
        ("PolicyLayer", "flagpipe.core.policy"),
        ("hookspec", "flagpipe.core.hookspecs"),
        ("PROJECT_NAME", "flagpipe.core.hookspecs"),
        ("load_config", "flagpipe.config.loader"),
        ("LoadedConfig", "flagpipe.config.loader"),
        ("FlagpipeConfig", "flagpipe.config.model"),
    ],
)
def test_a_moved_name_says_where_it_lives_now(name: str, module: str) -> None:
    with pytest.raises(AttributeError, match=rf"moved to {module}\.{name}"):
        getattr(flagpipe, name)
    assert getattr(importlib.import_module(module), name) is not None


def test_an_unknown_name_is_a_plain_attribute_error() -> None:
    with pytest.raises(AttributeError, match=r"has no attribute 'Nope'$"):
        flagpipe.Nope  # noqa: B018 - the attribute access is the test


def test_field_is_a_deprecated_alias_of_fieldspec() -> None:
    with pytest.warns(DeprecationWarning, match=r"flagpipe\.Field is deprecated.*pydantic\.Field.*FieldSpec"):
        alias = flagpipe.Field
    assert alias is flagpipe.FieldSpec
    assert alias("n", kind="number") == flagpipe.FieldSpec("n", kind="number")


def test_import_flagpipe_imports_no_public_module_until_used() -> None:
    code = (
        "import sys, flagpipe\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('flagpipe.', 'pydantic', 'pluggy')))\n"
        "print(loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['flagpipe._version']"
