"""The CLI against hostile or careless input: terminal escapes in flags, secrets, bad numbers and paths.

Each test tries several variants of one class of failure and checks for a clear message (exit
status 1 or 2, no traceback) or output that carries nothing a terminal would obey.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from click.testing import Result

#: What a flag may carry to an operator's terminal: clear screen, OSC 8 fake link, window title,
#: a C1 CSI, a bidirectional override, a bell.
PAYLOADS = {
    "clear": "\x1b[2J\x1b[H",
    "link": "\x1b]8;;https://evil.example/\x07click me\x1b]8;;\x07",
    "title": "\x1b]0;owned\x1b\\",
    "csi": "\x9b31mred",
    "bidi": "report\u202egnp.exe",
    "bell": "ding\x07\x7f",
}


def _obeyable(text: str) -> list[str]:
    """Characters a terminal would act on (besides newline and tab)."""
    return [c for c in text if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) < 0xA0 or c == "\u202e"]


@pytest.fixture
def hostile_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config whose journal holds one flag per payload, in the username, the option, a value and a name."""
    from flagpipe import Flagger

    monkeypatch.setenv("FLAGPIPE_DISABLE_PLUGIN_AUTOLOAD", "1")
    config = tmp_path / "flagging.yaml"
    config.write_text("dir: flagged\ncallbacks: [csv]\n", encoding="utf-8")
    with Flagger.from_yaml(config) as flagger:
        for name, payload in PAYLOADS.items():
            assert flagger.flag({"text": payload, f"f{name}": 1}, username=payload, comment=payload).stored
    return config


@pytest.mark.parametrize("command", [["show"], ["show", "-n", "3"], ["stats"], ["stats", "-n", "50"], ["status"]])
def test_flagged_escapes_are_shown_never_sent_to_the_terminal(
    hostile_flags: Path, run: Callable[..., Result], command: list[str]
) -> None:
    result = run(*command, "-c", str(hostile_flags))
    assert result.exit_code == 0, result.output
    assert _obeyable(result.output) == []
    if command[0] != "status" and "-n" not in command:
        assert "\u241b[2J" in result.output or "\u241b]" in result.output  # shown, as ␛
    as_json = run(*command, "-c", str(hostile_flags), "--json")
    assert _obeyable(as_json.output) == []  # JSON escapes them (\u001b)
    json.loads(as_json.output)


def test_import_warnings_show_escapes_visibly(tmp_path: Path, run: Callable[..., Result]) -> None:
    gradio = tmp_path / "gradio"
    gradio.mkdir()
    (gradio / "log.csv").write_text(
        'x,flag,username,timestamp\n1,"\x1b[2Jbad\x1b]8;;https://e/\x07",u,2024-01-01 10:00:00\n', encoding="utf-8"
    )
    (tmp_path / "flagging.yaml").write_text("dir: flagged\noptions: [ok]\ncallbacks: [csv]\n", encoding="utf-8")
    result = run("import-gradio", str(gradio))
    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "\\x1b[2Jbad" in result.output  # shown escaped
    assert _obeyable(result.output) == []


@pytest.mark.parametrize("payload", list(PAYLOADS.values()))
def test_errors_show_escapes_visibly(tmp_path: Path, run: Callable[..., Result], payload: str) -> None:
    result = run("show", "-c", f"{tmp_path}/missing{payload}.yaml")
    assert result.exit_code == 1
    assert "cannot read config" in result.output and _obeyable(result.output) == []


def test_check_never_prints_a_secret(
    tmp_path: Path, run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A health check that fails (nothing listens) names the host, never the URL's password or token."""
    monkeypatch.setenv("HOOK_PASSWORD", "pw-0ff-the-record")
    monkeypatch.setenv("DB_PASSWORD", "db-0ff-the-record")
    (tmp_path / "flagging.yaml").write_text(
        textwrap.dedent(
            """\
            dir: flagged
            callbacks:
              - type: webhook
                url: http://bot:${HOOK_PASSWORD}@127.0.0.1:9/services/T0KEN-0ff-the-record
              - type: sql
                url: postgresql+psycopg://flagger:${DB_PASSWORD}@127.0.0.1:9/flags
            """
        ),
        encoding="utf-8",
    )
    for args in (["check"], ["check", "--json"], ["check", "--no-health"], ["status"]):
        result = run(*args)
        assert "0ff-the-record" not in result.output, args
    assert "127.0.0.1:9" in run("check").output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["init", "no/such/folder/flagging.yaml"], "the folder no/such/folder does not exist"),
        (["init", "/proc/flagging.yaml"], "cannot write /proc/flagging.yaml"),
        (["new-plugin", "flagpipe-x", "--dir", "/proc/flagpipe-x"], "cannot write the plugin package into"),
        (["new-plugin", "flagpipe-x", "--dir", "/dev/null/x"], "cannot write the plugin package into"),
        (["purge", "--older-than", "1e400d"], "too large"),
        (["purge", "--older-than", "99999999999d"], "too large"),
        (["purge", "--older-than", "nand"], "not a usable age"),
        (["purge", "--older-than", "-3d"], "must not be negative"),
    ],
)
def test_bad_paths_and_numbers_are_messages_not_tracebacks(
    calculator: Path, run: Callable[..., Result], args: list[str], message: str
) -> None:
    assert run("flag", "-c", str(calculator), "-f", "a=1").exit_code == 0
    extra = ["-c", str(calculator)] if args[0] == "purge" else []
    result = run(*args, *extra)
    assert result.exit_code in (1, 2)
    assert message in " ".join(result.output.split()) and "Traceback" not in result.output


@pytest.mark.parametrize("command", ["show", "stats"])
@pytest.mark.parametrize("number", ["100000000000000000000000", str(2**63), str(2**63 - 1)])
def test_a_huge_row_count_shows_every_row(
    calculator: Path, run: Callable[..., Result], command: str, number: str
) -> None:
    for n in range(3):
        run("flag", "-c", str(calculator), "-f", f"a={n}")
    result = run(command, "-c", str(calculator), "-n", number, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data["flags"] if command == "show" else data["latest"]) == 3


HOSTILE_PLUGIN = """
import flagpipe

@flagpipe.hookimpl
def flagpipe_{hook}(event):
    return helper(event)

def helper(event):
    raise RuntimeError("boom in the plugin")
"""


def _install(tmp_path: Path, module: str, source: str) -> dict[str, str]:
    """A real installed plugin: a module and its dist-info (entry point ``flagpipe``) on PYTHONPATH."""
    site = tmp_path / "site"
    info = site / f"{module}-0.1.dist-info"
    info.mkdir(parents=True)
    (site / f"{module}.py").write_text(source, encoding="utf-8")
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[flagpipe]\nhostile = {module}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAGPIPE_")}
    env.update({"PYTHONPATH": str(site), "COLUMNS": "200", "NO_COLOR": "1"})
    return env


def _flagpipe(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flagpipe", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("hook", ["filter_event", "prepare_event"])
def test_a_hook_raising_during_flag_names_the_plugin(tmp_path: Path, hook: str) -> None:
    """A real installed plugin whose hook raises: ``flag`` names it and the hook, and stores nothing."""
    env = _install(tmp_path, "hostile_hook", HOSTILE_PLUGIN.format(hook=hook))
    (tmp_path / "flagging.yaml").write_text("dir: flagged\ncallbacks: [csv]\n", encoding="utf-8")
    result = _flagpipe(tmp_path, env, "flag", "-f", "x=1")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    message = " ".join(result.stderr.split())
    assert f"plugin 'hostile' failed in flagpipe_{hook}: RuntimeError: boom in the plugin" in message
    assert "the flag was not stored" in message
    assert not (tmp_path / "flagged" / "log.csv").exists()


LEAKY_CALLBACK = """
import flagpipe

class Leaky(flagpipe.Callback[flagpipe.CallbackSettings]):
    type_name = "leaky"
    Settings = flagpipe.CallbackSettings

    def deliver(self, events):
        raise flagpipe.RetryableError("cannot reach https://svc:pw-0ff-the-record@queue.example/in")

@flagpipe.hookimpl
def flagpipe_register_callbacks():
    return [Leaky]
"""


def test_a_plugin_error_with_a_url_password_is_masked(tmp_path: Path) -> None:
    """Errors a third-party callback reports name its URL's user, never the password."""
    env = _install(tmp_path, "leaky_plugin", LEAKY_CALLBACK)
    (tmp_path / "flagging.yaml").write_text("dir: flagged\ncallbacks: [leaky]\n", encoding="utf-8")
    outputs = [_flagpipe(tmp_path, env, "flag", "-f", "x=1"), _flagpipe(tmp_path, env, "flag", "-f", "x=2", "--json")]
    outputs += [_flagpipe(tmp_path, env, *args) for args in (["status"], ["status", "--json"], ["drain", "--json"])]
    assert "https://svc:***@queue.example/in" in outputs[0].stdout
    for result in outputs:
        assert "pw-0ff-the-record" not in result.stdout + result.stderr


@pytest.mark.parametrize("directory", ["/dev/null", "/proc", "/proc/x/y", "a-file", "a-file/below"])
def test_check_finds_a_flagging_dir_that_flag_cannot_use(
    tmp_path: Path, run: Callable[..., Result], directory: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    (tmp_path / "flagging.yaml").write_text(f"dir: {directory}\ncallbacks: [csv]\n", encoding="utf-8")
    result = run("check", "--no-health")
    assert result.exit_code == 1
    assert "dir unusable:" in result.output and "valid" not in result.output
    as_json = json.loads(run("check", "--no-health", "--json").output)
    assert as_json["dir_problem"]
    assert run("flag", "-f", "x=1").exit_code != 0  # and flag indeed fails there


def test_check_passes_a_dir_that_does_not_exist_yet(tmp_path: Path, run: Callable[..., Result]) -> None:
    (tmp_path / "flagging.yaml").write_text("dir: new/flags\ncallbacks: [csv]\n", encoding="utf-8")
    result = run("check", "--no-health")
    assert result.exit_code == 0 and "valid" in result.output
    assert not (tmp_path / "new").exists()
    assert run("flag", "-f", "x=1").exit_code == 0
