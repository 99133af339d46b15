"""A small cache of plugins' command names and one-line help, so ``flagpipe --help`` imports no plugin.

The cache is a JSON file in the user's cache directory (``FLAGPIPE_CACHE_DIR`` overrides it; set it
empty to turn the cache off). Each entry is keyed by a fingerprint of the installed distributions
that publish ``flagpipe`` entry points (their dist-info folder, name, version and modification
times), flagpipe's version and the plugin policy given by the environment and the command line.
Installing, upgrading or removing a plugin changes the key, so the next run imports the plugins
again and rewrites the entry. A missing, unreadable or corrupt file is a miss, never an error.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from flagpipe._version import __version__
from flagpipe.core.plugin_env import POLICY_VARIABLES

#: The cache folder; an empty value turns the cache off.
ENV_CACHE_DIR = "FLAGPIPE_CACHE_DIR"
#: The cache file's name inside the cache folder.
CACHE_FILE = "plugin-commands.json"
#: Entries kept (one per environment and policy), newest first.
MAX_ENTRIES = 8
_FORMAT = 1


@dataclass(frozen=True)
class CommandEntry:
    """What ``--help`` shows of one plugin command, and the plugin that adds it."""

    name: str
    plugin: str
    help: str
    hidden: bool = False
    shorten: bool = True


def cache_dir(env: dict[str, str] | None = None) -> Path | None:
    """The folder of the cache, or None when ``FLAGPIPE_CACHE_DIR`` is set empty."""
    env = dict(os.environ) if env is None else env
    if ENV_CACHE_DIR in env:
        return Path(env[ENV_CACHE_DIR]) if env[ENV_CACHE_DIR] else None
    if sys.platform.startswith("linux") or "XDG_CACHE_HOME" in env:
        base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base) / "flagpipe"
    try:
        import platformdirs
    except ImportError:
        return Path.home() / ".cache" / "flagpipe"
    return Path(platformdirs.user_cache_dir("flagpipe", appauthor=False))


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _plugin_distributions() -> list[list[Any]]:
    """``[folder, dist-info name, mtimes]`` of every distribution on ``sys.path`` with ``[flagpipe]`` entry points."""
    found: list[list[Any]] = []
    for entry in sys.path:
        try:
            children = os.scandir(entry or ".")
        except OSError:
            continue
        with children:
            for child in children:
                if not child.name.endswith((".dist-info", ".egg-info")):
                    continue
                points = Path(child.path, "entry_points.txt")
                try:
                    text = points.read_text(encoding="utf-8")
                except OSError:
                    continue
                if "[flagpipe]" in text:
                    found.append([entry, child.name, _mtime(Path(child.path)), _mtime(points)])
    return found


def cache_key(policy: dict[str, Any], env: dict[str, str] | None = None) -> list[Any]:
    """The fingerprint an entry is valid for: plugin distributions, flagpipe's version, the policy."""
    env = dict(os.environ) if env is None else env
    variables = {name: env[name] for name in POLICY_VARIABLES if name in env}
    return [__version__, sys.executable, _builtin_plugins(), _plugin_distributions(), variables, policy]


def _builtin_plugins(folder: Path | None = None) -> str:
    """A digest of the built-in plugins' source files (names and modification times).

    The version alone misses a built-in plugin added or changed in a checkout installed in
    editable mode, whose version stays the same.
    """
    import hashlib

    folder = folder or Path(__file__).resolve().parents[1] / "plugins"
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.py")):
        try:
            digest.update(f"{path.relative_to(folder)}:{path.stat().st_mtime_ns};".encode())
        except OSError:
            continue
    return digest.hexdigest()[:16]


def _read(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict) or data.get("format") != _FORMAT or not isinstance(data.get("entries"), list):
        return []
    return [e for e in data["entries"] if isinstance(e, dict)]


def load(key: list[Any], directory: Path | None) -> list[CommandEntry] | None:
    """The plugin commands cached for ``key``, or None on a miss (or a corrupt cache)."""
    if directory is None:
        return None
    for entry in _read(directory / CACHE_FILE):
        if entry.get("key") == key:
            try:
                return [CommandEntry(**command) for command in entry["commands"]]
            except (KeyError, TypeError):
                return None
    return None


def save(key: list[Any], commands: list[CommandEntry], directory: Path | None) -> None:
    """Store ``commands`` for ``key``, keeping the newest entries; a failure to write is ignored."""
    if directory is None:
        return
    path = directory / CACHE_FILE
    entries = [e for e in _read(path) if e.get("key") != key]
    entries.insert(0, {"key": key, "commands": [asdict(c) for c in commands]})
    text = json.dumps({"format": _FORMAT, "entries": entries[:MAX_ENTRIES]}, indent=1)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        scratch = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        scratch.write_text(text, encoding="utf-8")
        scratch.replace(path)
    except OSError:
        return


__all__ = ["CACHE_FILE", "ENV_CACHE_DIR", "CommandEntry", "cache_dir", "cache_key", "load", "save"]
