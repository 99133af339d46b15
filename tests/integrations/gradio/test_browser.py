"""The calculator app in a real headless Chromium: fill, submit, "Flag as wrong sign", and the CSV has the row.

Uses Debian's ``chromium`` (``apt-get install chromium``) driven by Playwright's Python package; no browser
is ever downloaded. Skipped, with the reason, only when no browser can be had.
"""

from __future__ import annotations

import csv
import os
import shutil
import time
from typing import TYPE_CHECKING, Any

import pytest

from .conftest import load_example, serve, upload_png

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.slow

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("FLAGPIPE_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError as exc:
        pytest.skip(f"no browser: Playwright's Python package is not installed ({exc})")
    executable = chromium_path()
    if executable is None:
        pytest.skip("no browser: /usr/bin/chromium is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        except Error as exc:
            pytest.skip(f"no browser: {executable} did not start ({exc.message.splitlines()[0]})")
        try:
            yield chromium
        finally:
            chromium.close()


def wait_for_rows(path: Path, count: int, timeout: float = 20.0) -> list[dict[str, str]]:
    deadline = time.monotonic() + timeout
    rows: list[dict[str, str]] = []
    while time.monotonic() < deadline:
        if path.is_file():
            with path.open(encoding="utf-8", newline="") as handle:
                rows = list(csv.DictReader(handle))
            if len(rows) >= count:
                return rows
        time.sleep(0.1)
    raise AssertionError(f"{path} has {len(rows)} rows after {timeout} s, expected {count}")


def test_calculator_flag_as_wrong_sign_in_a_browser(browser: Any, example_config) -> None:
    from playwright.sync_api import expect

    config = example_config("calculator")
    demo = load_example("calculator").build_demo(config)
    callback = demo.flagging_callback
    try:
        with serve(demo) as url:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            page.goto(url)
            expect(page.get_by_text("Flagging saves what you entered and the result")).to_be_visible()
            page.get_by_label("num1").fill("5")
            page.get_by_label("add", exact=True).check()
            page.get_by_label("num2").fill("7")
            page.get_by_role("button", name="Submit").click()
            expect(page.get_by_label("output")).to_have_value("-12")
            page.get_by_role("button", name="Flag as wrong sign").click()
            rows = wait_for_rows(config.parent / "flagged" / "log.csv", 1)
            page.close()
    finally:
        callback.close()
    (row,) = rows
    assert {k: row[k] for k in ("num1", "operation", "num2", "output", "flag", "username")} == {
        "num1": "5",
        "operation": "add",
        "num2": "7",
        "output": "-12",
        "flag": "wrong sign",
        "username": "",
    }


def test_sepia_blocks_notice_and_flag_in_a_browser(
    browser: Any, example_config, tmp_path: Path, recwarn: pytest.WarningsRecorder
) -> None:
    from playwright.sync_api import expect

    config = example_config("sepia")
    demo, callback = load_example("sepia").build_demo(config)
    image = upload_png(tmp_path)
    try:
        with serve(demo) as url:
            page = browser.new_page()
            page.set_default_timeout(30_000)
            page.goto(url)
            expect(page.get_by_text("saves the image you uploaded")).to_be_visible()
            page.locator("input[type=file]").first.set_input_files(str(image))
            # the uploaded image, then the filtered one, each served from Gradio's cache
            expect(page.locator("img[src*='file=']")).to_have_count(2)
            page.get_by_role("button", name="Flag", exact=True).click()
            rows = wait_for_rows(config.parent / "flagged" / "log.csv", 1)
            page.close()
    finally:
        callback.close()
    assert not [w for w in recwarn if "too many output values" in str(w.message)]
    (row,) = rows
    assert row["component 1"] == "0.5"
    for name in ("component 0", "component 2"):
        assert row[name].startswith(f"{name}/")
        assert (config.parent / "flagged" / row[name]).is_file()


# -- Gradio's flagging guide, run (see test_guide.py): the samples' pages, clicked ---------------------------


def test_guide_calculator_flag_as_wrong_sign_in_a_browser(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from flagpipe.integrations.gradio._compat import csv_logger_file_name

    from .test_guide import flagged_dir, run_sample

    with run_sample("calculator_options.py", tmp_path) as url:
        page = browser.new_page()
        page.set_default_timeout(30_000)
        page.goto(url)
        page.get_by_label("num1").fill("5")
        page.get_by_label("add", exact=True).check()
        page.get_by_label("num2").fill("7")
        page.get_by_role("button", name="Submit").click()
        expect(page.get_by_label("output")).to_have_value("12")
        page.get_by_role("button", name="Flag as wrong sign").click()
        rows = wait_for_rows(flagged_dir(tmp_path) / csv_logger_file_name(), 1)
        page.close()
    (row,) = rows
    assert (row["num1"], row["operation"], row["num2"], row["output"], row["flag"]) == (
        "5",
        "add",
        "7",
        "12",
        "wrong sign",
    )


def test_guide_sepia_flag_button_in_a_browser(browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    from flagpipe.integrations.gradio._compat import csv_logger_file_name

    from .test_guide import run_sample

    image = upload_png(tmp_path)
    with run_sample("blocks_flag.py", tmp_path) as url:
        page = browser.new_page()
        page.set_default_timeout(30_000)
        page.goto(url)
        page.locator("input[type=file]").first.set_input_files(str(image))
        expect(page.locator("img[src*='file=']")).to_have_count(2)
        page.get_by_role("button", name="Flag", exact=True).click()
        rows = wait_for_rows(tmp_path / "flagged_data_points" / csv_logger_file_name(), 1)
        page.close()
    (row,) = rows
    assert row["component 1"] == "0.5"
    for name in ("component 0", "component 2"):
        assert (tmp_path / "flagged_data_points" / row[name]).is_file()
