"""Helpers for config tests: write a ``flagging.yaml`` in a fresh folder and load it."""

from __future__ import annotations

import textwrap
import types
from typing import TYPE_CHECKING

import pytest
from pydantic import Field, SecretStr

import flagpipe
from flagpipe.config.errors import ConfigError
from flagpipe.config.loader import LoadedConfig, load_config

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from pathlib import Path

    from flagpipe.core.host import PluginHost


@pytest.fixture
def write_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], str]:
    """Write YAML (dedented) to ``flagging.yaml`` in the test's folder, made the cwd; return its name.

    The name is relative, so messages start with ``flagging.yaml:LINE`` exactly.
    """
    monkeypatch.chdir(tmp_path)

    def write(text: str) -> str:
        (tmp_path / "flagging.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
        return "flagging.yaml"

    return write


@pytest.fixture
def load(plugins: PluginHost) -> Callable[..., LoadedConfig]:
    """Load a config with the test's plugin manager and, unless given, an empty environment."""

    def run(path: str | None = None, *, env: Mapping[str, str] | None = None, **kwargs: object) -> LoadedConfig:
        return load_config(path, env={} if env is None else env, plugins=plugins, **kwargs)  # type: ignore[arg-type]

    return run


@pytest.fixture
def problems(load: Callable[..., LoadedConfig]) -> Callable[..., list[str]]:
    """Load a config that must fail; return each problem as its one-line message."""

    def run(path: str | None = None, **kwargs: object) -> list[str]:
        with pytest.raises(ConfigError) as caught:
            load(path, **kwargs)
        lines = [str(p) for p in caught.value.problems]
        assert str(caught.value) == "\n".join(lines)
        return lines

    return run


class VaultSettings(flagpipe.CallbackSettings):
    """Settings of the test-only ``vault`` callback."""

    token: SecretStr = Field(description="The API token.")
    url: str = Field(default="https://vault.invalid", description="Where flags go.")
    retries: int = Field(default=3, description="How often to try.")


class VaultCallback(flagpipe.Callback[VaultSettings]):
    """A test-only sink with a secret setting."""

    type_name = "vault"
    Settings = VaultSettings

    def deliver(self, events: Sequence[flagpipe.FlagEvent]) -> None:
        pass


@pytest.fixture
def vault_plugin() -> types.ModuleType:
    """A module-like plugin registering the test-only ``vault`` callback, whose ``token`` is a secret."""
    module = types.ModuleType("flagpipe_test_vault")

    @flagpipe.hookimpl
    def flagpipe_register_callbacks() -> list[type[flagpipe.Callback[VaultSettings]]]:
        return [VaultCallback]

    module.flagpipe_register_callbacks = flagpipe_register_callbacks  # type: ignore[attr-defined]
    return module


@pytest.fixture
def vault(plugins: PluginHost, vault_plugin: types.ModuleType) -> Iterator[PluginHost]:
    """The test's plugin manager with the ``vault`` callback registered."""
    with plugins.registered(vault_plugin, name="flagpipe-test-vault"):
        yield plugins
