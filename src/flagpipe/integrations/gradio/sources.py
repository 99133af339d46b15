"""What may stand for a flagpipe config in the Gradio helpers, and how each form is loaded."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flagpipe.config.loader import LoadedConfig, load_config
from flagpipe.config.model import REVEAL_SECRETS, FlagpipeConfig
from flagpipe.flagger import Flagger

__all__ = ["ConfigSource", "config_of", "load_source"]

#: A ``flagging.yaml`` path, a dict of its keys, a validated config, a loaded config, or a ready Flagger.
ConfigSource = str | os.PathLike[str] | Mapping[str, Any] | FlagpipeConfig | LoadedConfig | Flagger


def load_source(
    config: str | os.PathLike[str] | Mapping[str, Any] | FlagpipeConfig | LoadedConfig | None,
    env: Mapping[str, str] | None = None,
) -> LoadedConfig:
    """Load a config given in any form but a Flagger; None means the defaults.

    A ``FlagpipeConfig`` is validated again with ``env``, so that ``FLAGPIPE_*`` variables apply.
    """
    if isinstance(config, LoadedConfig):
        return config
    if isinstance(config, (str, os.PathLike)):
        return load_config(config, env=env)
    if isinstance(config, FlagpipeConfig):
        return load_config(data=config.model_dump(mode="json", exclude_unset=True, context=REVEAL_SECRETS), env=env)
    return load_config(data=dict(config or {}), env=env)


def config_of(config: ConfigSource | None) -> FlagpipeConfig:
    """The validated config of any source, as it stands (a ``FlagpipeConfig`` is taken as given)."""
    if isinstance(config, (Flagger, LoadedConfig)):
        return config.config
    if isinstance(config, FlagpipeConfig):
        return config
    loaded = load_config(config) if isinstance(config, (str, os.PathLike)) else load_config(data=dict(config or {}))
    return loaded.config
