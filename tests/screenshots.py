"""Regenerate the README screenshots: ``python -m tests.screenshots`` (or ``make screenshots``).

Serves the app on the sandbox from a throwaway data dir, accepts the seeded "Newsletter signup"
prompt once in the Simulator so the log has rows, then saves each page at 1400 px wide to
``docs/screenshots/{setup,catalog,prompts,simulator,log}.png``.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.browser import REPO, choose, click, fill, goto, launch, serve_app, wait_idle

OUT = REPO / "docs" / "screenshots"
WIDTH, HEIGHT = 1400, 1000
# Streamlit's developer chrome (Deploy button, main menu) is not part of the console, and a
# passing toast would cover the page's top right corner.
_HIDE = "[data-testid=stToolbar], [data-testid=stToastContainer] { visibility: hidden; }"


def _shot(page: Page, name: str, *, max_height: int = HEIGHT) -> Path:
    """Save the page at WIDTH; taller than HEIGHT when its content is, up to ``max_height``."""
    page.add_style_tag(content=_HIDE)
    page.mouse.move(WIDTH - 10, HEIGHT - 10)  # hover nothing: no table toolbar, no sidebar button
    page.evaluate("document.activeElement?.blur()")  # no focus rings
    if max_height > HEIGHT:
        content = page.get_by_test_id("stMainBlockContainer").evaluate("e => e.scrollHeight")
        page.set_viewport_size({"width": WIDTH, "height": min(max(HEIGHT, content), max_height)})
    wait_idle(page)
    # From the top: opening an expander scrolls the page to it.
    page.get_by_test_id("stMain").evaluate("e => e.scrollTo(0, 0)")
    page.evaluate("window.scrollTo(0, 0)")
    path = OUT / f"{name}.png"
    page.screenshot(path=path)
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    print(f"wrote {path.relative_to(REPO)}")
    return path


def _select_log_row(page: Page, index: int, heading: re.Pattern[str]) -> None:
    """Tick row ``index`` of the log's table (a canvas grid: click its row-selection cell) and
    wait for the detail ``heading`` it opens."""
    grid = page.get_by_test_id("stDataFrame").first
    box = grid.bounding_box()
    assert box is not None, "the log table is not on screen"
    row_height = 35  # Streamlit's default, header included
    page.mouse.click(box["x"] + 15, box["y"] + row_height * (index + 1.5))
    wait_idle(page)
    page.get_by_role("heading", name=heading).wait_for()


def capture(base_url: str, page: Page) -> None:
    main = page.get_by_test_id("stMain")

    goto(page, base_url + "/")
    _shot(page, "setup")

    goto(page, base_url + "/catalog")
    _shot(page, "catalog")

    goto(page, base_url + "/prompts")
    choose(main, "Prompt", "Newsletter signup")
    _shot(page, "prompts", max_height=2200)

    goto(page, base_url + "/simulator")
    choose(main, "Prompt", "Newsletter signup")
    fill(main, "Email *", "ada@example.com", commit="Tab")
    fill(main, "First name", "Ada", commit="Tab")
    click(main, "Subscribe")
    main.get_by_text("Ran Accept on “Newsletter signup”").wait_for()
    # Successful actions come folded: open the list one, to show a check, a request, a response.
    main.get_by_test_id("stExpander").locator("summary").nth(1).click()
    wait_idle(page)
    _shot(page, "simulator", max_height=1900)

    goto(page, base_url + "/action_log")  # the Runs view: open the run, its actions folded
    _select_log_row(page, 0, re.compile(r"Accept on “Newsletter signup”"))
    _shot(page, "log", max_height=1600)


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="screenshots-") as data_dir,
        serve_app(Path(data_dir)) as base_url,
        sync_playwright() as playwright,
    ):
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
            page.set_default_timeout(20_000)
            capture(base_url, page)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
