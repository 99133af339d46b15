"""Each plugin switch, set each way: environment variable, CLI flag and the YAML ``plugins:`` key.

Modelled on pytest's ``test_disable_plugin_autoload``: one test per switch, parametrized over the
ways of setting it, against the real distributions in ``tests/core/host/plugin_site``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from click.testing import CliRunner

import flagpipe
from flagpipe.cli import cli
from flagpipe.config.loader import load_config
from flagpipe.core.policy import PluginPolicy, PolicyLayer, resolve_policy

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

WAYS = ("env", "cli", "yaml")
MISSING_DEPENDENCY = "ModuleNotFoundError: No module named 'fptest_missing_dependency'"
THIRD_PARTY = ("fptest-good", "fptest-blocked", "fptest-importerror", "fptest-typo")


@dataclass
class Outcome:
    """What one way of building the plugins gave: the records by plugin name, or the error text."""

    records: dict[str, dict[str, Any]]
    error: str | None

    def status(self) -> dict[str, str]:
        """The third-party plugins' statuses."""
        assert self.error is None, self.error
        return {name: self.records[name]["status"] for name in THIRD_PARTY if name in self.records}


@pytest.fixture
def build(plugin_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Outcome]:
    """Build the plugins one way, with a switch given in that way's terms.

    ``env``: the variables are set and ``flagpipe.load_config`` reads a YAML file without a
    ``plugins:`` key. ``yaml``: the file has the ``plugins:`` key. ``cli``: ``flagpipe [flags]
    plugins --all --json`` runs through click's runner.
    """

    def run(
        way: str, *, env: Mapping[str, str] = {}, cli_args: Sequence[str] = (), plugins: Mapping[str, Any] = {}
    ) -> Outcome:
        if way == "cli":
            result = CliRunner().invoke(cli, [*cli_args, "plugins", "--all", "--json"])
            if result.exit_code != 0:
                assert result.exit_code == 1, result.output
                return Outcome({}, result.stderr)
            return Outcome({r["name"]: r for r in json.loads(result.stdout)}, None)
        if way == "env":
            for name, value in env.items():
                monkeypatch.setenv(name, value)
            config: dict[str, Any] = {"callbacks": ["csv"]}
        else:
            config = {"plugins": dict(plugins), "callbacks": ["csv"]}
        path = tmp_path / "flagging.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        try:
            loaded = load_config(path)
        except flagpipe.ConfigError as exc:
            return Outcome({}, str(exc))
        return Outcome({r.name: asdict(r) for r in loaded.plugins.records}, None)

    return run


def test_default_loads_every_plugin(build: Callable[..., Outcome]) -> None:
    for way in WAYS:
        assert build(way).status() == {
            "fptest-good": "loaded",
            "fptest-blocked": "loaded",
            "fptest-importerror": "failed",
            "fptest-typo": "failed",
        }


@pytest.mark.parametrize("way", WAYS)
def test_disable_plugin_autoload(build: Callable[..., Outcome], imported: Callable[[], list[str]], way: str) -> None:
    outcome = build(
        way,
        env={"FLAGPIPE_DISABLE_PLUGIN_AUTOLOAD": "1"},
        cli_args=["--no-plugin-autoload"],
        plugins={"autoload": False},
    )
    assert set(outcome.status().values()) == {"not allowed"}
    assert imported() == []
    assert not [m for m in sys.modules if m.startswith("fptest_")]
    # Built-ins are not third-party plugins: they still load.
    assert outcome.records["flagpipe.plugins.csv"]["status"] == "loaded"


@pytest.mark.parametrize("way", WAYS)
def test_disable_plugin_autoload_with_allow_list(build: Callable[..., Outcome], way: str) -> None:
    """Like pytest's ``-p NAME`` with autoload off: the named plugin is loaded anyway."""
    outcome = build(
        way,
        env={"FLAGPIPE_DISABLE_PLUGIN_AUTOLOAD": "1", "FLAGPIPE_PLUGINS": "fptest-good"},
        cli_args=["--no-plugin-autoload", "--plugin", "fptest-good"],
        plugins={"autoload": False, "allow": ["fptest-good"]},
    )
    assert outcome.status() == {
        "fptest-good": "loaded",
        "fptest-blocked": "not allowed",
        "fptest-importerror": "not allowed",
        "fptest-typo": "not allowed",
    }


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize(
    ("names", "loaded"),
    [
        (["fptest-good"], {"fptest-good"}),
        (["fptest-good", "fptest-typo"], {"fptest-good", "fptest-typo"}),
        (["flagpipe-testplugins"], {"fptest-good", "fptest-blocked"}),  # a distribution's name
        (["FPTest_Good"], {"fptest-good"}),  # names compare normalised
    ],
)
def test_allow_list(
    build: Callable[..., Outcome],
    imported: Callable[[], list[str]],
    way: str,
    names: list[str],
    loaded: set[str],
) -> None:
    outcome = build(
        way,
        env={"FLAGPIPE_PLUGINS": ",".join(names)},
        cli_args=[arg for name in names for arg in ("--plugin", name)],
        plugins={"allow": names},
    )
    status = outcome.status()
    assert {name for name, s in status.items() if s != "not allowed"} == loaded
    assert "fptest_importerror" not in imported()  # plugins left out are never imported
    if "fptest-typo" in loaded:
        assert status["fptest-typo"] == "failed"


@pytest.mark.parametrize("way", ["env", "yaml"])
def test_empty_allow_list_loads_no_plugin(
    build: Callable[..., Outcome], imported: Callable[[], list[str]], way: str
) -> None:
    """``FLAGPIPE_PLUGINS=`` (like ``LLM_LOAD_PLUGINS=``) and ``allow: []`` mean none; a CLI flag cannot say it."""
    outcome = build(way, env={"FLAGPIPE_PLUGINS": ""}, plugins={"allow": []})
    assert set(outcome.status().values()) == {"not allowed"}
    assert imported() == []


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize(
    ("names", "blocked"),
    [
        (["fptest-blocked"], {"fptest-blocked"}),
        (["fptest-blocked", "fptest-importerror"], {"fptest-blocked", "fptest-importerror"}),
        (["flagpipe-testplugins-broken"], {"fptest-importerror", "fptest-typo"}),  # a distribution's name
    ],
)
def test_block_list(
    build: Callable[..., Outcome],
    imported: Callable[[], list[str]],
    way: str,
    names: list[str],
    blocked: set[str],
) -> None:
    outcome = build(
        way,
        env={"FLAGPIPE_BLOCK_PLUGINS": ",".join(names)},
        cli_args=[arg for name in names for arg in ("--block-plugin", name)],
        plugins={"block": names},
    )
    status = outcome.status()
    assert {name for name, s in status.items() if s == "blocked"} == blocked
    assert status["fptest-good"] == "loaded"
    # Blocked before import: the modules never ran.
    never = {
        "fptest-blocked": "fptest_blocked",
        "fptest-importerror": "fptest_importerror",
        "fptest-typo": "fptest_typo",
    }
    for name in blocked:
        assert never[name] not in sys.modules
        assert never[name] not in imported()
    assert "fptest_good" in imported()


@pytest.mark.parametrize("way", WAYS)
def test_block_list_wins_over_allow_list(
    build: Callable[..., Outcome], imported: Callable[[], list[str]], way: str
) -> None:
    outcome = build(
        way,
        env={"FLAGPIPE_PLUGINS": "fptest-good,fptest-blocked", "FLAGPIPE_BLOCK_PLUGINS": "fptest-blocked"},
        cli_args=["--plugin", "fptest-good", "--plugin", "fptest-blocked", "--block-plugin", "fptest-blocked"],
        plugins={"allow": ["fptest-good", "fptest-blocked"], "block": ["fptest-blocked"]},
    )
    assert outcome.status()["fptest-blocked"] == "blocked"
    assert "fptest_blocked" not in imported()


def _require(build: Callable[..., Outcome], way: str, specs: list[str]) -> Outcome:
    return build(
        way,
        env={"FLAGPIPE_REQUIRE_PLUGINS": ";".join(specs)},
        cli_args=[arg for spec in specs for arg in ("--require-plugin", spec)],
        plugins={"require": specs},
    )


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize(
    "specs",
    [
        ["flagpipe-testplugins"],
        ["flagpipe-testplugins>=1.0"],
        ["flagpipe-testplugins>=0.9,<2", "flagpipe_testplugins==1.*"],  # two, semicolon-separated in the env
    ],
)
def test_require_satisfied(build: Callable[..., Outcome], way: str, specs: list[str]) -> None:
    outcome = _require(build, way, specs)
    assert outcome.error is None
    assert outcome.status()["fptest-good"] == "loaded"


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize(
    ("specs", "problem"),
    [
        (["flagpipe-testplugins>=2"], "flagpipe-testplugins>=2 (installed 1.0)"),
        (["flagpipe-testplugins>=1,<1.0"], "flagpipe-testplugins>=1,<1.0 (installed 1.0)"),
        (["flagpipe-testplugins-missing>=1"], "flagpipe-testplugins-missing>=1 (not installed)"),
        (
            ["flagpipe-testplugins-broken==0.3"],
            f"flagpipe-testplugins-broken==0.3 (installed 0.3, failed: {MISSING_DEPENDENCY})",
        ),
        (
            ["flagpipe-testplugins>=1", "flagpipe-testplugins-missing"],
            "flagpipe-testplugins-missing (not installed)",
        ),
    ],
)
def test_require_unmet(build: Callable[..., Outcome], way: str, specs: list[str], problem: str) -> None:
    outcome = _require(build, way, specs)
    assert outcome.error is not None
    assert "missing required plugins: " in outcome.error
    assert problem in outcome.error


@pytest.mark.parametrize("way", WAYS)
def test_require_a_blocked_plugin(build: Callable[..., Outcome], way: str) -> None:
    outcome = build(
        way,
        env={"FLAGPIPE_REQUIRE_PLUGINS": "flagpipe-testplugins", "FLAGPIPE_BLOCK_PLUGINS": "fptest-blocked"},
        cli_args=["--require-plugin", "flagpipe-testplugins", "--block-plugin", "fptest-blocked"],
        plugins={"require": ["flagpipe-testplugins"], "block": ["fptest-blocked"]},
    )
    assert outcome.error is not None
    assert "missing required plugins: flagpipe-testplugins (installed 1.0, blocked)" in outcome.error


@pytest.mark.parametrize("way", WAYS)
def test_strict_plugins(build: Callable[..., Outcome], way: str) -> None:
    outcome = build(way, env={"FLAGPIPE_STRICT_PLUGINS": "1"}, cli_args=["--strict-plugins"], plugins={"strict": True})
    assert outcome.error is not None
    assert (
        f"plugin flagpipe-testplugins-broken 0.3 (fptest-importerror) failed to load: {MISSING_DEPENDENCY}"
        in outcome.error
    )


@pytest.mark.parametrize("way", WAYS)
def test_strict_plugins_reports_a_misspelled_hook(build: Callable[..., Outcome], way: str) -> None:
    outcome = build(
        way,
        env={"FLAGPIPE_STRICT_PLUGINS": "true", "FLAGPIPE_BLOCK_PLUGINS": "fptest-importerror"},
        cli_args=["--strict-plugins", "--block-plugin", "fptest-importerror"],
        plugins={"strict": True, "block": ["fptest-importerror"]},
    )
    assert outcome.error is not None
    assert "plugin flagpipe-testplugins-broken 0.3 (fptest-typo) failed validation" in outcome.error
    assert "unknown hook 'flagpipe_register_calbacks'" in outcome.error


@pytest.mark.parametrize("way", WAYS)
def test_strict_plugins_with_only_good_plugins(build: Callable[..., Outcome], way: str) -> None:
    outcome = build(
        way,
        env={"FLAGPIPE_STRICT_PLUGINS": "yes", "FLAGPIPE_BLOCK_PLUGINS": "flagpipe-testplugins-broken"},
        cli_args=["--strict-plugins", "--block-plugin", "flagpipe-testplugins-broken"],
        plugins={"strict": True, "block": ["flagpipe-testplugins-broken"]},
    )
    assert outcome.status()["fptest-good"] == "loaded"


# -- how the sources combine -------------------------------------------------------------------


def test_environment_overrides_yaml_and_cli_overrides_environment() -> None:
    yaml_layer = PolicyLayer(autoload=False, allow=("a",), strict=True, block=("x",), require=("p>=1",))
    env_layer = PolicyLayer.from_env(
        {"FLAGPIPE_DISABLE_PLUGIN_AUTOLOAD": "0", "FLAGPIPE_STRICT_PLUGINS": "0", "FLAGPIPE_BLOCK_PLUGINS": "y"}
    )
    cli_layer = PolicyLayer(allow=("B_c",), block=("Z",), require=("q",))
    policy = resolve_policy(yaml_layer, env_layer, cli_layer)
    assert policy == PluginPolicy(
        autoload=True,
        allow=frozenset({"b-c"}),
        strict=False,
        block=frozenset({"x", "y", "z"}),
        require=("p>=1", "q"),
    )


def test_cli_flag_overrides_yaml_in_check(plugin_site: Path, tmp_path: Path) -> None:
    config = tmp_path / "flagging.yaml"
    config.write_text("plugins:\n  autoload: false\ncallbacks: [testsink]\n", encoding="utf-8")
    runner = CliRunner()
    refused = runner.invoke(cli, ["check", str(config)], env={"COLUMNS": "200"})
    assert refused.exit_code == 1
    assert "unknown callback type 'testsink'" in refused.stderr
    assert "plugins not loaded by policy" in refused.stderr
    allowed = runner.invoke(cli, ["--plugin", "fptest-good", "check", str(config)], env={"COLUMNS": "200"})
    assert allowed.exit_code == 0, allowed.output
    assert "flagpipe-testplugins 1.0 (fptest-good)" in allowed.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FLAGPIPE_STRICT_PLUGINS": "maybe"}, "FLAGPIPE_STRICT_PLUGINS='maybe'"),
        ({"FLAGPIPE_DISABLE_PLUGIN_AUTOLOAD": "2"}, "FLAGPIPE_DISABLE_PLUGIN_AUTOLOAD='2'"),
        ({"FLAGPIPE_REQUIRE_PLUGINS": "not a requirement!"}, "invalid requirement 'not a requirement!'"),
    ],
)
def test_bad_environment_values_are_errors(
    build: Callable[..., Outcome], monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for way in ("env", "cli"):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        outcome = build(way)
        assert outcome.error is not None
        assert message in outcome.error


@pytest.mark.parametrize(
    ("plugins", "message"),
    [
        ({"strict": "sometimes"}, "plugins.strict"),
        ({"require": ["x >>> 1"]}, "invalid requirement 'x >>> 1'"),
        ({"blocked": ["x"]}, "plugins.blocked"),
    ],
)
def test_bad_yaml_plugins_key_is_a_config_error(
    build: Callable[..., Outcome], plugins: dict[str, Any], message: str
) -> None:
    outcome = build("yaml", plugins=plugins)
    assert outcome.error is not None
    assert message in outcome.error
