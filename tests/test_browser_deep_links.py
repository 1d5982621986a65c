"""Deep links in a real browser, starting with the server's very first request.

Until some session has called ``st.navigation``, Streamlit serves ``/<name>`` by running
``pages/<name>.py`` alone (legacy discovery), skipping ``app.py``. Each page file hands over to the
frame in that case; this test proves a bookmark opened first after a restart still gets the full
console, with no "Page not found" and no exception.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import goto, launch, require_chromium, serve_app
from playwright.sync_api import expect, sync_playwright

from pages import PAGES

pytestmark = pytest.mark.browser


def test_every_page_opens_from_a_deep_link_first(tmp_path: Path) -> None:
    require_chromium()
    links = [("/action_log", "Action log")] + [(f"/{p.url_path}", p.title) for p in PAGES]
    with serve_app(tmp_path) as url, sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            for path, title in links:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                goto(page, url + path)
                main = page.get_by_test_id("stMain")
                expect(main.get_by_role("heading", name=title, level=1)).to_be_visible()
                expect(page.get_by_text("Page not found")).to_have_count(0)
                expect(page.get_by_test_id("stException")).to_have_count(0)
                # The frame ran: the sidebar names the account in effect.
                expect(
                    page.get_by_test_id("stSidebar").get_by_text("built-in demo account")
                ).to_be_visible()
                page.close()
        finally:
            browser.close()
