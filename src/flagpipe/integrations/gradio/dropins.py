"""Gradio's own flagging classes, with their constructors, backed by flagpipe callbacks.

Changing one import line is enough to move an app onto flagpipe::

    from flagpipe.integrations.gradio import HuggingFaceDatasetSaver  # was: gr.HuggingFaceDatasetSaver

    hf_writer = HuggingFaceDatasetSaver(HF_TOKEN, "crowdsourced-calculator-demo")

``HuggingFaceDatasetSaver`` (removed from Gradio in 5.0) commits to the Hub with the ``hf_dataset``
callback, batched and journaled; ``CSVLogger`` and ``SimpleCSVLogger`` write with the ``csv`` callback.
Each also takes ``config=``, a flagpipe config whose callbacks are delivered to after the class's own,
so YAML can add sinks behind the same object. See ``docs/gradio.md`` ("Migrating").
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from flagpipe.config.loader import LoadedConfig, load_config
from flagpipe.config.model import REVEAL_SECRETS
from flagpipe.flagger import Flagger

from . import _compat
from .callback import FlagpipeCallback
from .sources import load_source

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from .sources import ConfigSource

__all__ = ["CSVLogger", "HuggingFaceDatasetSaver", "SimpleCSVLogger"]

log = logging.getLogger("flagpipe.gradio")


def merged_config(
    own: Mapping[str, Any],
    config: ConfigSource | None,
    env: Mapping[str, str] | None,
    *,
    inline: bool,
    directory: str | None = None,
) -> LoadedConfig:
    """The config of a drop-in: its own callback first, then the chain of ``config`` (if it sets one).

    The drop-in stores what Gradio hands it, as Gradio's classes do (the Interface's own flagging mode
    decides when it is called), so the mode is ``manual`` unless ``config`` or ``FLAGPIPE_MODE`` sets it.
    With ``inline``, flags are written before ``flag()`` returns, as Gradio's loggers write, unless
    ``config`` sets ``delivery``. ``directory``, when given, is the flagging dir whatever ``config`` says
    (the folder Gradio passes to ``setup()``).
    """
    if isinstance(config, (Flagger, FlagpipeCallback)):
        raise TypeError("config= takes a flagpipe config (a path, a dict, a FlagpipeConfig), not a Flagger or callback")
    loaded = load_source(config, env) if config is not None else None
    data: dict[str, Any] = {}
    if loaded is not None:
        data = loaded.config.model_dump(mode="json", exclude_unset=True, context=REVEAL_SECRETS)
        if loaded.mode_note is not None:  # the Spaces default, not the config's choice
            data.pop("mode", None)
        if "dir" in data:
            data["dir"] = str(loaded.directory)
    callbacks = data.get("callbacks", []) if loaded is not None and "callbacks" in data else []
    data["callbacks"] = [dict(own), *callbacks]
    data.setdefault("mode", "manual")
    if directory is not None:
        data["dir"] = directory
    if inline and "delivery" not in data:
        data["delivery"] = {"mode": "inline"}
    return load_config(data=data, env=env)


class _DropIn(FlagpipeCallback):
    """A :class:`FlagpipeCallback` whose config is built from a Gradio class's arguments."""

    def __init__(
        self,
        own: Mapping[str, Any],
        config: ConfigSource | None,
        *,
        inline: bool,
        allowed_paths: Sequence[str | os.PathLike[str]] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(merged_config(own, config, env, inline=inline), allowed_paths=allowed_paths, env=env)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} mode={self.mode!r} dir={str(self.directory)!r}>"


class CSVLogger(_DropIn):
    """Gradio's ``CSVLogger``, writing with flagpipe's ``csv`` callback.

    :param simplify_file_data: accepted for Gradio's signature; files are always stored as a path.
    :param verbose: accepted for Gradio 5's signature; nothing is printed (flagpipe logs instead).
    :param dataset_file_name: the CSV file's name (Gradio 5's keyword). By default the installed
        Gradio's: ``log.csv`` with Gradio 4, ``dataset1.csv`` from Gradio 5 on.
    :param config: a flagpipe config whose callbacks follow the CSV (see :func:`merged_config`).

    ``flag()`` returns the number of rows this logger has written, as Gradio's tests check (1, then
    2, in a new directory); Gradio counts them by re-reading the file.
    """

    def __init__(
        self,
        simplify_file_data: bool = True,
        verbose: bool = True,
        dataset_file_name: str | None = None,
        *,
        config: ConfigSource | None = None,
        allowed_paths: Sequence[str | os.PathLike[str]] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.simplify_file_data = simplify_file_data
        self.verbose = verbose
        self.dataset_file_name = dataset_file_name
        own = {"type": "csv", "file_name": dataset_file_name or _compat.csv_logger_file_name()}
        super().__init__(own, config, inline=True, allowed_paths=allowed_paths, env=env)


class SimpleCSVLogger(_DropIn):
    """Gradio's ``SimpleCSVLogger``, writing ``log.csv`` with flagpipe's ``csv`` callback.

    flagpipe's file has a header row and the ``flag``, ``username`` and ``timestamp`` columns, which
    Gradio's "illustrative" logger leaves out. ``flag()`` returns what Gradio's does: the number of
    rows minus one (Gradio subtracts a header its file does not have), so 0, then 1.
    """

    def __init__(
        self,
        *,
        config: ConfigSource | None = None,
        allowed_paths: Sequence[str | os.PathLike[str]] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        own = {"type": "csv", "file_name": "log.csv"}
        super().__init__(own, config, inline=True, allowed_paths=allowed_paths, env=env)

    def flag(self, flag_data: list[Any], flag_option: str | None = None, username: str | None = None) -> int:
        """Store one flag; return the number of flags stored minus one, as Gradio's ``SimpleCSVLogger``."""
        return super().flag(flag_data, flag_option, username) - 1


class HuggingFaceDatasetSaver(_DropIn):
    """Gradio 4's ``HuggingFaceDatasetSaver``, committing with flagpipe's ``hf_dataset`` callback.

    :param hf_token: a Hub token with write access (None: huggingface_hub's usual lookup).
    :param dataset_name: ``namespace/name``, or a bare name that goes to the token owner's namespace
        (asked of the Hub with ``whoami``, as Gradio's ``create_repo`` did).
    :param private: create the dataset as private (Gradio's default: public).
    :param info_filename: accepted and not used: the dataset card's ``configs`` and the Parquet
        schema describe the features, so no ``dataset_info.json`` is written.
    :param separate_dirs: accepted and not used: flags are Parquet shards, one per commit, which
        replicas never overwrite (what ``separate_dirs`` was for).
    :param config: a flagpipe config whose callbacks follow the Hub (a local CSV, a webhook ...).

    Unlike Gradio's class, which made one Hub commit per flag inside the request, flags are journaled
    on disk and committed in batches (``commit_every``, five minutes by default; at close and
    interpreter exit too). The Hub server is ``HF_ENDPOINT`` when set. ``flag()`` returns the number of
    flags this saver has stored.
    """

    def __init__(
        self,
        hf_token: str | None,
        dataset_name: str,
        private: bool = False,
        info_filename: str = "dataset_info.json",
        separate_dirs: bool = False,
        *,
        config: ConfigSource | None = None,
        allowed_paths: Sequence[str | os.PathLike[str]] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        environment = os.environ if env is None else env
        self.hf_token = hf_token
        self.dataset_private = private
        self.info_filename = info_filename
        self.separate_dirs = separate_dirs
        endpoint = environment.get("HF_ENDPOINT") or None
        self.dataset_id = _repo_id(dataset_name, hf_token, endpoint)
        if separate_dirs or info_filename != "dataset_info.json":
            log.info("flagpipe: HuggingFaceDatasetSaver ignores info_filename and separate_dirs (Parquet shards)")
        own: dict[str, Any] = {"type": "hf_dataset", "repo_id": self.dataset_id, "private": private}
        if hf_token:
            own["token"] = hf_token
        if endpoint:
            own["endpoint"] = endpoint
        super().__init__(own, config, inline=False, allowed_paths=allowed_paths, env=env)


def _repo_id(dataset_name: str, token: str | None, endpoint: str | None) -> str:
    """``dataset_name`` as ``namespace/name``: a bare name goes to the token owner's namespace."""
    name = dataset_name.strip()
    if not name or name.count("/") > 1:
        raise ValueError(
            f"HuggingFaceDatasetSaver: dataset_name must be 'name' or 'namespace/name', got {dataset_name!r}"
        )
    if "/" in name:
        return name
    try:
        from huggingface_hub import HfApi
    except ImportError:
        raise ImportError("HuggingFaceDatasetSaver needs huggingface_hub: pip install 'flagpipe[hf]'") from None
    try:
        owner = HfApi(endpoint=endpoint, token=token).whoami()["name"]
    except Exception as exc:
        raise ValueError(
            f"HuggingFaceDatasetSaver: cannot tell whose namespace {dataset_name!r} goes to: the Hub's whoami "
            f"failed ({type(exc).__name__}: {exc}); check the token, or give dataset_name as 'namespace/name'"
        ) from exc
    return f"{owner}/{name}"
