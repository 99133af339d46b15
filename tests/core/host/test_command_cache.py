"""``flagpipe --help`` lists plugins' commands from a cache, keyed by the installed plugins and the policy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

from click.testing import CliRunner

from flagpipe.cli import cli, command_cache
from flagpipe.cli.command_cache import CACHE_FILE, CommandEntry

from .conftest import SITE, forget_test_modules

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import pytest

HELLO = "fptest-hello"
HELLO_HELP = "Say hello (a command added by the fptest-good plugin)."


def _help(*args: str) -> str:
    result = CliRunner().invoke(cli, [*args, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.stdout


def _entries(cache: Path) -> list[dict[str, object]]:
    data = json.loads((cache / CACHE_FILE).read_text(encoding="utf-8"))
    assert data["format"] == 1
    return list(data["entries"])


def test_warm_cache_lists_plugin_commands_without_importing_plugins(
    plugin_site: Path, command_cache_dir: Path, imported: Callable[[], list[str]]
) -> None:
    cold = _help()
    assert HELLO in cold
    assert HELLO_HELP in cold
    (entry,) = _entries(command_cache_dir)
    third_party = [c for c in entry["commands"] if not c["plugin"].startswith("flagpipe.plugins.")]
    assert third_party == [
        {"name": HELLO, "plugin": "fptest-good", "help": HELLO_HELP, "hidden": False, "shorten": True}
    ]
    forget_test_modules()
    warm = _help()
    assert warm == cold
    assert imported() == []  # no plugin module ran
    assert "fptest_good" not in sys.modules
    # The command still runs: its plugin is imported when it is needed.
    result = CliRunner().invoke(cli, [HELLO])
    assert result.exit_code == 0, result.output
    assert result.stdout == "hello from fptest-good\n"
    assert "fptest_good" in sys.modules


def test_installing_or_removing_a_plugin_is_a_miss(monkeypatch: pytest.MonkeyPatch, command_cache_dir: Path) -> None:
    assert HELLO not in _help()
    monkeypatch.syspath_prepend(str(SITE))  # the site's distributions are now installed
    assert HELLO in _help()
    assert len(_entries(command_cache_dir)) == 2
    sys.path.remove(str(SITE))  # ... and removed again
    forget_test_modules()
    assert HELLO not in _help()
    assert CliRunner().invoke(cli, [HELLO]).exit_code == 2


def test_the_policy_is_part_of_the_key(plugin_site: Path) -> None:
    assert HELLO in _help()
    assert HELLO not in _help("--block-plugin", "fptest-good")
    assert HELLO in _help()


def test_corrupt_cache_is_ignored_and_rewritten(plugin_site: Path, command_cache_dir: Path) -> None:
    command_cache_dir.mkdir(parents=True)
    (command_cache_dir / CACHE_FILE).write_text("{not json", encoding="utf-8")
    assert HELLO in _help()
    (entry,) = _entries(command_cache_dir)
    entry["commands"] = [{"bogus": 1}]  # the right key, but an entry of the wrong shape
    (command_cache_dir / CACHE_FILE).write_text(json.dumps({"format": 1, "entries": [entry]}), encoding="utf-8")
    assert HELLO in _help()
    assert _entries(command_cache_dir)[0]["commands"][0]["name"] == HELLO  # type: ignore[index]


def test_an_empty_cache_dir_turns_the_cache_off(
    plugin_site: Path, monkeypatch: pytest.MonkeyPatch, command_cache_dir: Path
) -> None:
    monkeypatch.setenv(command_cache.ENV_CACHE_DIR, "")
    assert HELLO in _help()
    assert not command_cache_dir.exists()


def test_a_failed_plugin_load_is_not_cached(plugin_site: Path, command_cache_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["--strict-plugins", "--help"])
    assert result.exit_code == 0, result.output
    assert "warning: plugin commands unavailable" in result.stderr
    assert not (command_cache_dir / CACHE_FILE).exists()


def test_cache_keeps_the_newest_entries(tmp_path: Path) -> None:
    commands = [CommandEntry("hello", "plugin", "Say hello.")]
    for n in range(command_cache.MAX_ENTRIES + 2):
        command_cache.save([n], commands, tmp_path)
    assert command_cache.load([0], tmp_path) is None
    assert command_cache.load([command_cache.MAX_ENTRIES + 1], tmp_path) == commands
    assert len(_entries(tmp_path)) == command_cache.MAX_ENTRIES
    assert command_cache.load([1], None) is None
    command_cache.save([1], commands, None)  # no folder: nothing is written, nothing fails


def test_cache_dir_follows_the_environment(tmp_path: Path) -> None:
    assert command_cache.cache_dir({"FLAGPIPE_CACHE_DIR": str(tmp_path)}) == tmp_path
    assert command_cache.cache_dir({"FLAGPIPE_CACHE_DIR": ""}) is None
    assert command_cache.cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "flagpipe"


def test_help_with_a_warm_cache_imports_no_plugin_machinery(plugin_site: Path) -> None:
    """Measured with ``benchmarks/bench_startup.py``; here only what ``--help`` imports is checked."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAGPIPE_")}
    env["PYTHONPATH"] = os.pathsep.join([str(plugin_site), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    script = (
        "import sys\n"
        "from flagpipe.cli import main\n"
        "sys.argv = ['flagpipe', '--help']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('pydantic', 'rich', 'pluggy', 'importlib.metadata', 'flagpipe.core.host', 'fptest_good')\n"
        "print('imported:', sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)]
    runs.append(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True))
    cold, warm = runs
    assert HELLO in cold.stdout
    assert "'fptest_good'" in cold.stderr  # the cold run imported the plugins to fill the cache
    assert warm.stdout == cold.stdout
    assert "imported: []" in warm.stderr


def test_a_changed_builtin_plugin_is_a_miss(tmp_path: Path) -> None:
    """An editable checkout keeps its version: a built-in plugin added or edited still changes the key."""
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "csv.py").write_text("")
    before = command_cache._builtin_plugins(folder)
    (folder / "sql").mkdir()
    (folder / "sql" / "__init__.py").write_text("")
    added = command_cache._builtin_plugins(folder)
    os.utime(folder / "csv.py", ns=(1, 1))
    edited = command_cache._builtin_plugins(folder)
    assert len({before, added, edited}) == 3
    assert command_cache._builtin_plugins(folder) == edited  # stable while nothing changes
    assert command_cache._builtin_plugins() in command_cache.cache_key({})
