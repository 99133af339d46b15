"""Gradio's flagging guide, run: each sample in guide/ as ``python <file>``, flagged through its served page's API.

The samples are Gradio's own code with only the flagging class's import changed (see guide/README.md). Each
runs in a subprocess on a free port of 127.0.0.1, as the guide runs it, and is stopped with Ctrl+C (SIGINT),
so what the saver still holds is delivered at interpreter exit. The browser versions are in test_browser.py.
"""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr
import pytest
from gradio_client import Client, handle_file

from .conftest import free_port, hub_rows, upload_png

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

pytestmark = pytest.mark.slow

GUIDE = Path(__file__).parent / "guide"


def sample_source(name: str) -> str:
    """A guide sample's code; on a Gradio without ``allow_flagging`` (6.x), the guide's current spelling."""
    import inspect

    source = (GUIDE / name).read_text(encoding="utf-8")
    if "allow_flagging" not in inspect.signature(gr.Interface.__init__).parameters:
        source = source.replace("allow_flagging=", "flagging_mode=")
    return source


def _ctrl_c_interrupts() -> None:
    """Let SIGINT raise KeyboardInterrupt in the sample, as in a terminal, even when this run is a background
    job (which starts with SIGINT ignored, and Python keeps an ignored SIGINT ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def run_sample(name: str, cwd: Path, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Run ``guide/<name>`` as ``python <name>`` in ``cwd``; yield its URL; stop it with SIGINT (Ctrl+C)."""
    script = cwd / name
    script.write_text(sample_source(name), encoding="utf-8")
    port = free_port()
    environment = {
        **os.environ,
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        **(env or {}),
    }
    log = cwd / f"{name}.log"
    with log.open("wb") as output:
        command = [sys.executable, str(script)]
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=environment,
            stdout=output,
            stderr=output,
            preexec_fn=_ctrl_c_interrupts,  # noqa: PLW1509 - it only resets one signal before exec
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise AssertionError(f"{name} exited with {process.returncode}:\n{log.read_text(errors='replace')}")
            with contextlib.suppress(OSError), urllib.request.urlopen(url + "config", timeout=5):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"{name} did not serve {url}:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert process.returncode in (0, -signal.SIGINT, 130), log.read_text(errors="replace")


def flag_fn_index(url: str, label: str) -> int:
    """The index of the event that flags when the button ``label`` is clicked, read from the page's config."""
    import json

    with urllib.request.urlopen(url + "config", timeout=10) as response:
        config = json.load(response)
    button_ids = {c["id"] for c in config["components"] if c.get("props", {}).get("value") == label}
    for index, dependency in enumerate(config["dependencies"]):
        targets = {target[0] for target in dependency.get("targets", [])}
        if targets & button_ids and dependency.get("inputs"):
            return int(dependency.get("id", index))
    raise AssertionError(f"no event flags on {label!r}")


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def flagged_dir(cwd: Path) -> Path:
    """Where an Interface flags by default: ``flagged`` (Gradio 4), ``.gradio/flagged`` (Gradio 5 on)."""
    return cwd / ("flagged" if gr.__version__.startswith("4.") else ".gradio/flagged")


def log_file(directory: Path) -> Path:
    (path,) = directory.glob("*.csv")
    return path


def test_the_calculator_with_flagging_options(tmp_path: Path) -> None:
    with run_sample("calculator_options.py", tmp_path) as url:
        client = Client(url, verbose=False)
        client.predict(5, "add", 7, -12, fn_index=flag_fn_index(url, "Flag as wrong sign"))
        client.predict(6, "subtract", 1.5, 3.5, fn_index=flag_fn_index(url, "Flag as off by one"))
    rows = read_rows(log_file(flagged_dir(tmp_path)))
    assert [(r["num1"], r["operation"], r["num2"], r["output"], r["flag"]) for r in rows] == [
        ("5", "add", "7", "-12", "wrong sign"),  # a number: no spreadsheet escaping
        ("6", "subtract", "1.5", "3.5", "off by one"),
    ]


def test_the_hub_example(tmp_path: Path, hub: Any) -> None:
    env = {"HF_ENDPOINT": hub.url, "HF_TOKEN": "hf_good_token"}
    with run_sample("hub_calculator.py", tmp_path, env) as url:
        client = Client(url, verbose=False)
        client.predict(5, "add", 7, -12, fn_index=flag_fn_index(url, "Flag as wrong sign"))
        client.predict(2, "multiply", 3, 5, fn_index=flag_fn_index(url, "Flag as off by one"))
        assert not hub.repos  # batched: nothing is committed while the app runs (commit_every: five minutes)
    repo = "alice/crowdsourced-calculator-demo"  # a bare name goes to the token owner's namespace
    rows = hub_rows(hub, repo)
    assert sorted((r["num1"], r["operation"], r["num2"], r["output"], r["option"]) for r in rows) == [
        (2, "multiply", 3, 5, "off by one"),
        (5, "add", 7, -12, "wrong sign"),
    ]
    assert len(hub.data_commits(repo)) == 1
    assert hub.repo(repo).private is False


def test_the_sepia_blocks_demo(tmp_path: Path) -> None:
    image = upload_png(tmp_path)
    with run_sample("blocks_flag.py", tmp_path) as url:
        client = Client(url, verbose=False)
        flag_event = flag_fn_index(url, "Flag")
        client.predict(handle_file(image), 0.5, handle_file(image), fn_index=flag_event)
    directory = tmp_path / "flagged_data_points"
    (row,) = read_rows(log_file(directory))
    assert row["component 1"] == "0.5"
    for name in ("component 0", "component 2"):
        assert (directory / row[name]).read_bytes() == image.read_bytes()
