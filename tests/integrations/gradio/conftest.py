"""Fixtures for the Gradio integration: real gradio apps served on 127.0.0.1, closed after each test."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no telemetry calls from tests
pytest.importorskip("gradio", reason="the Gradio integration tests need gradio (pip install -e '.[dev]')")

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve(demo: Any, **launch: Any) -> Iterator[str]:
    """Launch ``demo`` on a free port of 127.0.0.1 and yield its URL; close it afterwards."""
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True, **launch)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def load_example(name: str) -> Any:
    """Import ``examples/<name>/app.py`` as a module."""
    path = EXAMPLES / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"flagpipe_example_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def example_config(tmp_path: Path):
    """Copy an example's flagging.yaml into tmp_path (so flags land there) and return the copy."""

    def copy(name: str, **changes: str) -> Path:
        text = (EXAMPLES / name / "flagging.yaml").read_text(encoding="utf-8")
        for old, new in changes.items():
            assert old in text
            text = text.replace(old, new)
        target = tmp_path / name / "flagging.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    return copy


def upload_png(folder: Path) -> Path:
    """An 8x6 orange PNG in ``folder``, as a user would upload to the sepia demo."""
    from PIL import Image

    image = folder / "upload.png"
    Image.new("RGB", (8, 6), (200, 120, 40)).save(image)
    return image


def fn_index(demo: Any, predicate: Any) -> int:
    """The index of the app's event handler whose ``fn`` matches ``predicate``."""
    found = [index for index, block_fn in demo.fns.items() if predicate(block_fn)]
    assert found, "no matching event handler"
    return int(found[0])


def mode_kwargs(mode: str) -> dict[str, str]:
    """``gr.Interface``'s mode keyword for the installed Gradio: ``flagging_mode``, or ``allow_flagging`` (4.x)."""
    from flagpipe.integrations.gradio._compat import interface_mode_keyword

    return {interface_mode_keyword(): mode}


HUB_TOKENS = {"hf_good_token": "alice", "hf_bob_token": "bob"}


@pytest.fixture
def hub() -> Iterator[Any]:
    """The test Hub of tests/plugins/hf_dataset on 127.0.0.1: alice (hf_good_token) writes to her namespace and acme."""
    from tests.plugins.hf_dataset.hub import running_hub

    with running_hub(HUB_TOKENS, {"acme": {"alice"}}) as running:
        yield running


def hub_rows(hub: Any, repo: str) -> list[dict[str, Any]]:
    """Every row of every Parquet shard of ``repo`` on the test Hub, downloaded with the real client."""
    import pyarrow.parquet as pq
    from huggingface_hub import hf_hub_download

    rows: list[dict[str, Any]] = []
    for path in sorted(p for p in hub.files(repo) if p.endswith(".parquet")):
        local = hf_hub_download(repo, path, repo_type="dataset", endpoint=hub.url, token="hf_good_token")
        rows.extend(pq.read_table(local).to_pylist())
    return rows


def api_name(fn_name: str) -> str:
    """An Interface's API endpoint: ``/predict`` on Gradio 4 and 5, the function's name from Gradio 6 on."""
    import gradio as gr

    return "/predict" if int(gr.__version__.split(".")[0]) < 6 else f"/{fn_name}"
