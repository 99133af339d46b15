"""examples/web/ in headless Chromium: buttons drawn from /v1/config, a click stores a flag at the collector.

Uses Debian's ``chromium`` driven by Playwright's Python package; no browser is ever downloaded.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
import yaml
from tests.csv_log import read_rows
from tests.server.conftest import free_port, start_serve

pytestmark = pytest.mark.slow

WEB = Path(__file__).resolve().parents[1] / "examples" / "web"
KEY = "browser-key-change-me-0123456789"


def chromium_path() -> str | None:
    for candidate in (os.environ.get("FLAGPIPE_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture
def page_server():
    """examples/web/ served by http.server on 127.0.0.1 (the page's own origin)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(WEB))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_page_draws_buttons_from_the_config_and_a_click_stores_a_flag(tmp_path, page_server):
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        pytest.skip("no browser: /usr/bin/chromium is missing (apt-get install chromium)")
    config = yaml.safe_load((WEB / "flagging.yaml").read_text(encoding="utf-8"))
    config["dir"] = str(tmp_path / "flagged")
    config["server"]["cors_origins"] = [page_server]
    (tmp_path / "flagging.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    port = free_port()
    collector = start_serve(tmp_path / "flagging.yaml", port)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable, headless=True, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
            )
            try:
                page = browser.new_page()
                page.goto(f"{page_server}/index.html?collector=http://127.0.0.1:{port}&key={KEY}")
                buttons = page.locator("#buttons button")
                buttons.first.wait_for(timeout=20_000)
                assert buttons.all_inner_texts() == ["Flag as wrong sign", "Flag as Off by one"]
                assert "for review" in page.inner_text("#notice")
                page.get_by_text("Flag as Off by one").click()
                page.wait_for_function(
                    "document.getElementById('status').textContent.startsWith('Flagged')", timeout=20_000
                )
            finally:
                browser.close()
        log = tmp_path / "flagged" / "log.csv"
        for _ in range(100):  # background delivery: bounded wait for the CSV row
            if log.exists():
                break
            time.sleep(0.1)
        rows = read_rows(log)  # cells as flagged (the CSV guards "-12" against spreadsheet formulas)
        assert [(r["prompt"], r["answer"], r["flag"]) for r in rows] == [("5 + 7", "-12", "off_by_one")]
    finally:
        collector.terminate()
        collector.wait(timeout=30)
