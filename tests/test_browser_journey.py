"""One user journey through the real app (`streamlit run app.py`, sandbox) in headless Chromium.

Setup → catalog → build a prompt → run it in the Simulator → find it in the Action log and its
CSV. Every step asserts what a user sees and leaves a screenshot in pytest's tmp dir.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import (
    browser_page,
    choose,
    click,
    fill,
    goto,
    require_chromium,
    segment,
    serve_app,
    tick,
    wait_idle,
)
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

EMAIL = "e2e.user@example.com"
PROMPT = "E2E signup"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    with serve_app(tmp_path_factory.mktemp("app")) as url:
        yield url


@pytest.fixture
def page(app_url: str) -> Iterator[Page]:
    with browser_page(height=1000) as page:
        yield page


def _no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def _snap(page: Page, shots: Path, name: str) -> None:
    page.screenshot(path=shots / f"{name}.png")


def test_setup_to_csv(app_url: str, page: Page, tmp_path: Path) -> None:
    main = page.get_by_test_id("stMain")

    # 1. Setup: no account configured, so the built-in sandbox is in use.
    goto(page, app_url + "/")
    expect(main.get_by_role("heading", name="Setup")).to_be_visible()
    expect(main.get_by_text("Built-in demo account")).to_be_visible()
    expect(main.locator(".stMarkdownBadge", has_text="Sandbox")).to_be_visible()
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Sandbox built-in demo account")
    _no_exception(page)
    _snap(page, tmp_path, "1-setup")

    # 2. Catalog: fetched on first visit, 48 seeded lists.
    goto(page, app_url + "/catalog")
    expect(page.get_by_role("tab", name="Lists (48)", exact=True)).to_be_visible()
    expect(main.get_by_text("Showing 48 of 48 lists")).to_be_visible()
    _no_exception(page)
    _snap(page, tmp_path, "2-catalog")

    # 3. Prompts: a new prompt with an Email input, Accept → Add Contact, Add to List "Newsletter".
    goto(page, app_url + "/prompts")
    click(main, "New")
    fill(main, "Name", PROMPT)
    click(main, "Add form input")
    fill(main, "Label", "Email")
    choose(main, "Validation", "Email")
    tick(main, "Required")  # so the Simulator labels it "Email *"
    click(main, "Add a contact field")
    choose(main, "Contact field", "Email")
    choose(main, "Form input", "Email")
    expect(page.get_by_role("tab", name="Accept", exact=True)).to_have_attribute(
        "aria-selected", "true"
    )
    accept = main.get_by_role("tabpanel")  # the selected tab's panel: the others are hidden
    choose(accept, "Add an action", "Add Contact")
    click(accept, "Add action")
    choose(accept, "Add an action", "Add to List")
    click(accept, "Add action")
    expect(page.get_by_role("tab", name="Accept", exact=True)).to_have_attribute(
        "aria-selected", "true"
    )
    choose(accept, "List", re.compile(r"^Newsletter \(#\d+\)$"), search="Newsletter")
    click(main, "Save prompt")
    expect(main.get_by_text(f"Saved “{PROMPT}”.")).to_be_visible()
    _no_exception(page)
    _snap(page, tmp_path, "3-prompts")

    # 4. Simulator: accept the prompt with an email; both actions succeed against the sandbox.
    goto(page, app_url + "/simulator")
    choose(main, "Prompt", PROMPT)
    fill(main, "Email *", EMAIL, commit="Tab")
    click(main, "Yes, please")
    expect(main.get_by_role("heading", name=f"Ran Accept on “{PROMPT}”")).to_be_visible()
    results = main.get_by_test_id("stExpander").locator("summary")
    expect(results).to_have_count(2)
    expect(results.nth(0)).to_contain_text(re.compile(r"succeeded — Add Contact\b"))
    expect(results.nth(1)).to_contain_text(
        re.compile(r"succeeded — Add to List → “Newsletter” \(#\d+\)")
    )
    expect(main.get_by_text("2 succeeded")).to_be_visible()
    _no_exception(page)
    _snap(page, tmp_path, "4-simulator")

    # 5. Action log: both rows, and the same two in the CSV export.
    goto(page, app_url + "/action_log")
    segment(main, "View", "Actions")  # the log opens on Runs; the export is the Actions view's
    matching = main.get_by_test_id("stMetric").filter(has_text="Matching")
    expect(matching.get_by_test_id("stMetricValue")).to_have_text("2")
    _no_exception(page)
    _snap(page, tmp_path, "5-log")
    with page.expect_download() as download_info:
        click(main, "Download CSV")
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    header, *data = csv.reader(io.StringIO(target.read_text(encoding="utf-8")))
    assert len(data) == 2, data  # a header and one row per action
    rows = [dict(zip(header, row, strict=True)) for row in data]
    assert {row["contact_email"] for row in rows} == {EMAIL}
    assert sorted(row["action_type"] for row in rows) == ["add_contact", "add_to_list"]
    assert {row["status"] for row in rows} == {"succeeded"}
    assert {row["prompt_name"] for row in rows} == {PROMPT}
    wait_idle(page)
