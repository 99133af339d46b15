"""Discovery through real on-disk distributions: loading, failures, strict mode, checks, conflicts."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import pytest

import flagpipe
from flagpipe.config.loader import load_config
from flagpipe.core.host import (
    MissingPluginsError,
    PluginConflictError,
    PluginError,
    UnknownCallbackTypeError,
    create_plugin_host,
)
from flagpipe.core.policy import PluginPolicy

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from flagpipe.core.host import PluginHost, PluginRecord

MISSING_DEPENDENCY = "ModuleNotFoundError: No module named 'fptest_missing_dependency'"


def _by_name(plugins: PluginHost) -> dict[str, PluginRecord]:
    return {r.name: r for r in plugins.records}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "flagging.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_site_distributions_are_discovered(plugin_site: Path, imported: Callable[[], list[str]]) -> None:
    plugins = create_plugin_host(PluginPolicy())
    records = _by_name(plugins)
    good = records["fptest-good"]
    assert (good.distribution, good.version, good.builtin, good.status, good.error) == (
        "flagpipe-testplugins",
        "1.0",
        False,
        "loaded",
        None,
    )
    assert good.hooks == (
        "flagpipe_register_callbacks",
        "flagpipe_register_commands",
        "flagpipe_register_value_kinds",
    )
    assert good.callback_types == ("testsink",)
    assert good.value_kinds == ("fptest.point",)
    assert good.provider == "flagpipe-testplugins 1.0 (fptest-good)"
    assert records["fptest-blocked"].status == "loaded"
    assert "fptest_good" in sys.modules
    assert "fptest_blocked" in sys.modules
    assert {"fptest_good", "fptest_blocked", "fptest_importerror"} <= set(imported())
    types = plugins.callback_types()
    assert set(types) == {"csv", "flagpipe", "hf_dataset", "parquet", "sql", "testsink", "webhook"}
    assert types["testsink"].plugin is good
    assert types["testsink"].settings_model.model_json_schema()["additionalProperties"] is False
    assert {"PIL.Image", "numpy.ndarray", "fptest.point"} == {k.name for k in plugins.value_kinds()}


def test_builtins_are_recorded_as_flagpipe_plugins(plugin_site: Path) -> None:
    records = _by_name(create_plugin_host(PluginPolicy()))
    for name in ("flagpipe.plugins.csv", "flagpipe.plugins.value_kinds"):
        assert records[name].builtin
        assert records[name].status == "loaded"
        assert records[name].distribution == "flagpipe"
        assert records[name].version == flagpipe.__version__


def test_plugin_that_fails_to_import_is_recorded_and_others_load(
    plugin_site: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="flagpipe.plugins"):
        plugins = create_plugin_host(PluginPolicy())
    records = _by_name(plugins)
    failed = records["fptest-importerror"]
    assert failed.status == "failed"
    assert failed.error == MISSING_DEPENDENCY
    assert failed.distribution == "flagpipe-testplugins-broken"
    assert failed in plugins.failed
    assert plugins.pm.get_plugin("fptest-importerror") is None
    assert "fptest_importerror" not in sys.modules
    warnings = [r.getMessage() for r in caplog.records if "fptest-importerror" in r.getMessage()]
    assert warnings == [
        f"flagpipe plugin flagpipe-testplugins-broken 0.3 (fptest-importerror) failed to load: {MISSING_DEPENDENCY}"
    ]
    # The others were not taken down: the good plugin's callback works end to end.
    assert records["fptest-good"].status == "loaded"
    inline = {"delivery": {"mode": "inline"}}
    with flagpipe.Flagger(inline, dir=tmp_path, plugins=plugins, callbacks=["testsink"]) as flagger:
        receipt = flagger.flag({"x": 1, "where": sys.modules["fptest_good"].Point(3, 4)}, option="bad")
        (event,) = flagger.latest(1)
    assert receipt.delivered == ("testsink",)
    assert receipt.id in (tmp_path / "testsink.jsonl").read_text(encoding="utf-8")
    where = event.field("where")  # stored through the plugin's value kind
    assert where.file is not None
    assert (tmp_path / where.file.path).read_bytes() == b"3,4"


def test_strict_mode_turns_an_import_failure_into_an_error(plugin_site: Path) -> None:
    with pytest.raises(PluginError, match=r"fptest-importerror\) failed to load: ModuleNotFoundError") as info:
        create_plugin_host(PluginPolicy(strict=True))
    assert "flagpipe-testplugins-broken 0.3" in str(info.value)
    assert isinstance(info.value.__cause__, ModuleNotFoundError)


def test_strict_mode_passes_when_every_plugin_loads(plugin_site: Path) -> None:
    plugins = create_plugin_host(PluginPolicy(strict=True, block=frozenset({"flagpipe-testplugins-broken"})))
    assert not plugins.failed
    assert _by_name(plugins)["fptest-good"].status == "loaded"


def test_misspelled_hook_is_rejected_by_check_pending(plugin_site: Path) -> None:
    plugins = create_plugin_host(PluginPolicy())
    typo = _by_name(plugins)["fptest-typo"]
    assert typo.status == "failed"
    assert typo.error is not None
    assert typo.error.startswith("PluginValidationError: unknown hook 'flagpipe_register_calbacks'")
    assert plugins.pm.get_plugin("fptest-typo") is None
    assert plugins.pm.hook.flagpipe_register_calbacks.get_hookimpls() == []
    # The manager is consistent afterwards: pluggy has nothing pending.
    plugins.pm.check_pending()


def test_misspelled_hook_is_an_error_in_strict_mode(plugin_site: Path) -> None:
    policy = PluginPolicy(strict=True, block=frozenset({"fptest-importerror"}))
    with pytest.raises(PluginError, match=r"\(fptest-typo\) failed validation: .*'flagpipe_register_calbacks'"):
        create_plugin_host(policy)


def test_registering_a_misspelled_hook_by_hand_is_refused(plugins: PluginHost) -> None:
    class Typo:
        @flagpipe.hookimpl
        def flagpipe_filter_evnt(self, event: flagpipe.FlagEvent) -> bool:
            return True

    with pytest.raises(PluginError, match="flagpipe_filter_evnt"):
        plugins.register(Typo(), name="typo")
    assert plugins.pm.get_plugin("typo") is None
    plugins.pm.check_pending()


@pytest.mark.parametrize("name", ["fptest-blocked", "flagpipe-testplugins", "FlagPipe_TestPlugins"])
def test_blocked_plugin_is_never_imported(plugin_site: Path, imported: Callable[[], list[str]], name: str) -> None:
    plugins = create_plugin_host(PluginPolicy(block=frozenset({name})))
    record = _by_name(plugins)["fptest-blocked"]
    assert record.status == "blocked"
    assert record.error is None
    assert "fptest_blocked" not in sys.modules
    assert "fptest_blocked" not in imported()
    assert "fptest_importerror" in imported()  # the control: the site's other plugins were imported
    assert plugins.pm.is_blocked("fptest-blocked")


def test_blocking_a_distribution_blocks_all_its_plugins_before_import(
    plugin_site: Path, imported: Callable[[], list[str]]
) -> None:
    plugins = create_plugin_host(PluginPolicy(block=frozenset({"flagpipe-testplugins-broken"})))
    records = _by_name(plugins)
    assert records["fptest-importerror"].status == "blocked"
    assert records["fptest-typo"].status == "blocked"
    assert not plugins.failed
    assert not {"fptest_importerror", "fptest_typo"} & set(imported())


def test_blocked_plugin_cannot_be_registered_later(plugin_site: Path) -> None:
    import fptest_blocked  # type: ignore[import-not-found]

    plugins = create_plugin_host(PluginPolicy(block=frozenset({"fptest-blocked"})))
    with pytest.raises(PluginError, match="blocked or already registered"):
        plugins.register(fptest_blocked, name="fptest-blocked")


def test_duplicate_callback_type_names_both_distributions(conflict_site: Path, tmp_path: Path) -> None:
    plugins = create_plugin_host(PluginPolicy())
    assert len(plugins.conflicts) == 1
    conflict = plugins.conflicts[0]
    assert "callback type 'testsink' is provided by both" in conflict
    assert "flagpipe-testplugins 1.0 (fptest-good)" in conflict
    assert "flagpipe-testplugins-dup 2.0 (fptest-dup)" in conflict
    with pytest.raises(PluginConflictError) as info:
        plugins.callback_types()
    assert str(info.value) == conflict
    with pytest.raises(flagpipe.ConfigError) as config_info:
        load_config(_write(tmp_path, "callbacks: [csv]\n"))
    assert "flagpipe-testplugins 1.0 (fptest-good)" in str(config_info.value)
    assert "flagpipe-testplugins-dup 2.0 (fptest-dup)" in str(config_info.value)


def test_blocking_one_side_resolves_a_conflict(conflict_site: Path, tmp_path: Path) -> None:
    config = _write(tmp_path, "plugins:\n  block: [flagpipe-testplugins-dup]\ncallbacks: [testsink]\n")
    loaded = load_config(config)
    assert [e.callback_type.plugin.name for e in loaded.chain] == ["fptest-good"]


def test_unknown_callback_type_lists_installed_types_and_the_failure(plugin_site: Path, tmp_path: Path) -> None:
    config = _write(tmp_path, "callbacks:\n  - type: csv\n  - type: s3\n    bucket: flags\n")
    with pytest.raises(flagpipe.ConfigError) as info:
        load_config(config)
    (problem,) = info.value.problems
    assert problem.path == ("callbacks", 1, "type")
    assert problem.line == 3
    installed = "installed types: csv, flagpipe, hf_dataset, parquet, sql, testsink, webhook"
    assert f"unknown callback type 's3'; {installed}" in problem.message
    assert f"flagpipe-testplugins-broken 0.3 (fptest-importerror): {MISSING_DEPENDENCY}" in problem.message
    assert "fptest-typo" in problem.message


def test_unknown_callback_type_error_from_the_manager(plugin_site: Path) -> None:
    plugins = create_plugin_host(PluginPolicy(block=frozenset({"fptest-importerror"})))
    with pytest.raises(UnknownCallbackTypeError) as info:
        plugins.callback_type("s3")
    message = str(info.value)
    installed = "installed types: csv, flagpipe, hf_dataset, parquet, sql, testsink, webhook"
    assert message.startswith(f"unknown callback type 's3'; {installed}")
    assert "plugins not loaded by policy: flagpipe-testplugins-broken 0.3 (fptest-importerror)" in message
    assert isinstance(info.value, KeyError)


def test_unknown_callback_type_without_any_failure_suggests_installing(plugins: PluginHost) -> None:
    with pytest.raises(
        UnknownCallbackTypeError,
        match=r"installed types: csv, flagpipe, hf_dataset, parquet, sql, webhook \(is the plugin",
    ):
        plugins.callback_type("s3")


def test_required_plugins_checked_against_the_site(plugin_site: Path) -> None:
    plugins = create_plugin_host(PluginPolicy(require=("flagpipe-testplugins>=1.0,<2",)))
    assert _by_name(plugins)["fptest-good"].status == "loaded"
    with pytest.raises(MissingPluginsError) as info:
        create_plugin_host(
            PluginPolicy(
                require=(
                    "flagpipe-testplugins>=2",
                    "flagpipe-testplugins-missing",
                    "flagpipe-testplugins-broken",
                )
            )
        )
    message = str(info.value)
    assert message.startswith("missing required plugins: ")
    assert "flagpipe-testplugins>=2 (installed 1.0)" in message
    assert "flagpipe-testplugins-missing (not installed)" in message
    assert f"flagpipe-testplugins-broken (installed 0.3, failed: {MISSING_DEPENDENCY})" in message


def test_required_plugins_skip_requirements_for_other_environments(plugin_site: Path, tmp_path: Path) -> None:
    config = _write(
        tmp_path,
        "plugins:\n  require:\n"
        "    - \"flagpipe-testplugins-missing; python_version < '3'\"\n"
        "    - \"flagpipe-testplugins>=1; python_version >= '3'\"\n",
    )
    assert load_config(config).plugins.policy.require[1].startswith("flagpipe-testplugins>=1")
    with pytest.raises(MissingPluginsError, match=r"flagpipe-testplugins>=2; python_version >= '3' \(installed 1.0\)"):
        create_plugin_host(PluginPolicy(require=("flagpipe-testplugins>=2; python_version >= '3'",)))


def test_blocked_builtin_is_recorded_and_blocked_names_are_not_plugins(plugin_site: Path) -> None:
    plugins = create_plugin_host(PluginPolicy(block=frozenset({"flagpipe.plugins.csv"})))
    plugins.pm.set_blocked("someone-else")
    record = _by_name(plugins)["flagpipe.plugins.csv"]
    assert (record.builtin, record.status, record.hooks) == (True, "blocked", ())
    with pytest.raises(
        UnknownCallbackTypeError, match=r"plugins not loaded by policy: flagpipe .*flagpipe\.plugins\.csv"
    ):
        plugins.callback_type("csv")
    with plugins.registered(object(), name="no-hooks"):  # registering makes the manager collect again
        assert "csv" not in plugins.callback_types()
        assert "someone-else" not in _by_name(plugins)  # a blocked name is not a loaded plugin


def test_each_build_is_fresh(plugin_site: Path) -> None:
    first = create_plugin_host(PluginPolicy(block=frozenset({"fptest-good"})))
    second = create_plugin_host(PluginPolicy())
    assert _by_name(first)["fptest-good"].status == "blocked"
    assert _by_name(second)["fptest-good"].status == "loaded"
    assert first.pm is not second.pm


def test_import_flagpipe_imports_no_plugin(plugin_site: Path) -> None:
    import subprocess

    code = (
        "import sys, flagpipe\n"
        "flagpipe.hookimpl\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('fptest_', 'flagpipe.plugins')))\n"
        "print(loaded)\n"
    )
    env = {"PYTHONPATH": str(plugin_site), "PATH": ""}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("exit_call", ["raise SystemExit(3)", "sys.exit('bye')", "sys.exit()", "exit(0)"])
def test_a_plugin_exiting_on_import_is_a_failed_plugin_not_an_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, exit_call: str
) -> None:
    import importlib

    site = tmp_path / "site"
    info = site / "flagpipe_testexit-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: flagpipe-testexit\nVersion: 1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[flagpipe]\nfptest-exits = fptest_exits\n", encoding="utf-8")
    (site / "fptest_exits.py").write_text(f"import sys\n{exit_call}\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    with caplog.at_level("WARNING", logger="flagpipe.plugins"):
        plugins = create_plugin_host(PluginPolicy())
    record = _by_name(plugins)["fptest-exits"]
    assert record.status == "failed"
    assert record.error is not None and record.error.startswith("SystemExit")
    assert any("fptest-exits) failed to load: SystemExit" in r.getMessage() for r in caplog.records)
    with pytest.raises(PluginError, match=r"fptest-exits\) failed to load: SystemExit"):
        create_plugin_host(PluginPolicy(strict=True))
