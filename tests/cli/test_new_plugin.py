"""``flagpipe new-plugin``: names, refusals, and a generated package that installs, passes the kit and loads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from flagpipe.cli import cli
from flagpipe.scaffold import FILES, ScaffoldError, plugin_names, render

ROOT = Path(__file__).resolve().parents[2]


def _new_plugin(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["new-plugin", *args], env={"COLUMNS": "300"})
    return result.exit_code, result.stdout, result.stderr


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("FLAGPIPE_", "PYTHON", "VIRTUAL_ENV"))}


@pytest.mark.parametrize(
    ("name", "module", "type_name", "class_name"),
    [
        ("flagpipe-s3", "flagpipe_s3", "s3", "S3Callback"),
        ("flagpipe-my-sink", "flagpipe_my_sink", "my_sink", "MySinkCallback"),
        ("Flagpipe.Label_Studio", "flagpipe_label_studio", "label_studio", "LabelStudioCallback"),
        ("acme-flags", "acme_flags", "acme_flags", "AcmeFlagsCallback"),
    ],
)
def test_names_are_derived_from_the_distribution_name(name: str, module: str, type_name: str, class_name: str) -> None:
    names = plugin_names(name)
    assert (names.distribution, names.module, names.type_name, names.class_name) == (
        name,
        module,
        type_name,
        class_name,
    )
    assert names.entry_point == type_name
    assert names.settings_name == class_name.removesuffix("Callback") + "Settings"


@pytest.mark.parametrize(
    ("name", "type_name", "message"),
    [
        ("bad name", None, "is not a valid distribution name"),
        ("-s3", None, "is not a valid distribution name"),
        ("flagpipe-", None, "is not a valid distribution name"),
        ("s3/../x", None, "is not a valid distribution name"),
        ("3d-sink", None, "gives the module name '3d_sink', which Python cannot import"),
        ("class", None, "which Python cannot import"),
        ("flagpipe", None, "a plugin cannot be called flagpipe"),
        ("flagpipe-3d", None, "the callback type name '3d' must match"),
        ("flagpipe-s3", "S3", "the callback type name 'S3' must match"),
    ],
)
def test_invalid_names_are_refused(name: str, type_name: str | None, message: str) -> None:
    with pytest.raises(ScaffoldError, match=message.replace("(", r"\(")):
        plugin_names(name, type_name)


def test_type_name_can_be_chosen(tmp_path: Path) -> None:
    code, out, _ = _new_plugin("flagpipe-3d", "--type-name", "three_d", "--dir", str(tmp_path / "p"))
    assert code == 0, out
    source = (tmp_path / "p" / "src" / "flagpipe_3d" / "__init__.py").read_text(encoding="utf-8")
    assert 'type_name = "three_d"' in source
    assert "class ThreeDCallback(flagpipe.Callback[ThreeDSettings]):" in source


def test_writes_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = _new_plugin("flagpipe-s3")
    assert code == 0, err
    assert "wrote flagpipe-s3: the 's3' callback (flagpipe_s3.S3Callback)" in out
    assert 'python -m pip install -e ".[test]"' in out
    package = tmp_path / "flagpipe-s3"
    written = sorted(p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file())
    assert written == sorted(path.format(module="flagpipe_s3") for path in FILES)
    pyproject = (package / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.entry-points.flagpipe]\ns3 = "flagpipe_s3"\n' in pyproject
    assert 'name = "flagpipe-s3"' in pyproject
    assert 'packages = ["src/flagpipe_s3"]' in pyproject
    assert (
        (package / "tests" / "conftest.py")
        .read_text(encoding="utf-8")
        .endswith('pytest_plugins = ["flagpipe.testing"]\n')
    )
    assert "class TestS3CallbackContract(CallbackContract):" in (package / "tests" / "test_callback.py").read_text(
        encoding="utf-8"
    )
    readme = (package / "README.md").read_text(encoding="utf-8")
    assert "  - type: s3\n" in readme
    assert "token: ${S3_TOKEN}" in readme


def test_refuses_to_overwrite(tmp_path: Path) -> None:
    target = tmp_path / "plugin"
    target.mkdir()
    (target / "pyproject.toml").write_text("mine", encoding="utf-8")
    code, _, err = _new_plugin("flagpipe-s3", "--dir", str(target))
    assert code == 1
    assert "already exists and is not an empty folder; nothing was written" in err
    assert [p.name for p in target.iterdir()] == ["pyproject.toml"]
    assert (target / "pyproject.toml").read_text(encoding="utf-8") == "mine"
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    assert _new_plugin("flagpipe-s3", "--dir", str(a_file))[0] != 0
    assert a_file.read_text(encoding="utf-8") == "x"


def test_an_empty_folder_is_filled(tmp_path: Path) -> None:
    code, _, err = _new_plugin("flagpipe-s3", "--dir", str(tmp_path))
    assert code == 0, err
    assert (tmp_path / "src" / "flagpipe_s3" / "__init__.py").is_file()


def test_a_bad_name_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = _new_plugin("bad name")
    assert code == 1
    assert "error: 'bad name' is not a valid distribution name" in err
    assert list(tmp_path.iterdir()) == []


def test_generated_code_is_lint_clean(tmp_path: Path) -> None:
    (tmp_path / "p").mkdir()
    for relative, text in render(plugin_names("flagpipe-lint-check")).items():
        path = tmp_path / "p" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    ruff = [sys.executable, "-m", "ruff"]
    config = ["--config", str(ROOT / "pyproject.toml")]
    isort = [
        "--config",
        "lint.isort.known-first-party=['flagpipe_lint_check']",
        "--config",
        "lint.isort.known-third-party=['flagpipe']",
    ]
    for command in ([*ruff, "check", "--no-cache", *config, *isort, "p"], [*ruff, "format", "--check", *config, "p"]):
        result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_generated_tests_pass_in_place(tmp_path: Path) -> None:
    assert _new_plugin("flagpipe-in-place", "--dir", str(tmp_path / "p"))[0] == 0
    env = _env()
    env["PYTHONPATH"] = str(tmp_path / "p" / "src")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA"],
        cwd=tmp_path / "p",
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SKIPPED" not in result.stdout, result.stdout
    assert "PASSED tests/test_callback.py::TestInPlaceCallbackContract::test_retryable_errors_are_classified" in (
        result.stdout
    )


@pytest.mark.slow
def test_generated_package_installs_passes_the_kit_and_is_discovered(tmp_path: Path) -> None:
    """In a fresh virtual environment: flagpipe from this checkout, then a generated plugin, as a user would."""
    venv = tmp_path / "venv"
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    env = _env()

    def run(*command: str | Path, cwd: Path = tmp_path, timeout: float = 600) -> str:
        result = subprocess.run(
            [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=timeout
        )
        assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    run(sys.executable, "-m", "venv", venv)
    python = bin_dir / "python"
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"{ROOT}[testing]")
    # The installed flagpipe (not this checkout) writes the package: its templates ship in the wheel.
    run(bin_dir / "flagpipe", "new-plugin", "flagpipe-acme-sink", "--dir", tmp_path / "acme")
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", tmp_path / "acme")
    outcome = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=tmp_path / "acme")
    assert "13 passed" in outcome, outcome
    records = {r["name"]: r for r in json.loads(run(bin_dir / "flagpipe", "plugins", "--json"))}
    assert records["acme_sink"]["distribution"] == "flagpipe-acme-sink"
    assert records["acme_sink"]["status"] == "loaded"
    assert records["acme_sink"]["callback_types"] == ["acme_sink"]
    location = run(python, "-c", "import flagpipe, flagpipe_acme_sink; print(flagpipe.__file__)")
    assert str(venv) in location, "flagpipe must come from the new environment, not this checkout"
