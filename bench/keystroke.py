"""Keystroke to table: how long the Lists tab takes to follow a search at 10,000 lists, in a
real browser.

The sandbox holds 10,000 lists and 2,000 automations, already in the catalog cache. The
dashboard runs (``streamlit run app.py``) and headless Chromium types into the Lists tab's
search box; the time is from the last keystroke to the caption "Showing N of 10000 lists" with
the right N. It includes the search box's pause before it commits (``LIVE_SEARCH``, 50 ms):
the user's wait, not only the server's. Target: under 300 ms.

    python -m bench.keystroke [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from connector import CatalogKind, Console
from connector.sandbox import Sandbox, SeedSpec
from pages.catalog import LIVE_SEARCH
from tests.browser import goto, launch, serve_app, wait_idle

LISTS, AUTOMATIONS = 10_000, 2_000
TARGET_MS = 300.0


def prepare(data: Path) -> list[str]:
    """A data folder whose sandbox and catalog cache hold the big account; the list names."""
    seed = SeedSpec(lists=LISTS, automations=AUTOMATIONS)
    sandbox = Sandbox(data / "sandbox.db", seed=seed)
    console = Console(data / "connector.db", env={}, sandbox=sandbox)
    console.refresh_catalog()
    names = [item.name for item in console.catalog_items(CatalogKind.LISTS)]
    console.close()
    return names


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.keystroke")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="keystroke-") as folder:
        data = Path(folder)
        names = prepare(data)
        queries = [f"{names[n * 997 % len(names)][:6]}{n % 10}" for n in range(args.runs)]
        timings: list[float] = []
        with serve_app(data) as base_url, sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            goto(page, base_url + "/catalog")
            box = page.get_by_placeholder("Name or ID").first
            for query in queries:
                box.fill(query[:-1])
                wait_idle(page)
                expected = sum(query.lower() in name.lower() for name in names)
                caption = page.get_by_text(f"Showing {expected} of {LISTS} lists")
                started = time.perf_counter()
                box.press(query[-1])
                caption.wait_for()
                timings.append((time.perf_counter() - started) * 1000)
            browser.close()
    median = statistics.median(timings)
    result = {
        "benchmark": "keystroke",
        "lists": LISTS,
        "automations": AUTOMATIONS,
        "live_pause": LIVE_SEARCH,
        "runs": len(timings),
        "median_ms": round(median, 1),
        "max_ms": round(max(timings), 1),
        "target_ms": TARGET_MS,
        "ratio": round(median / TARGET_MS, 3),
    }
    print(f"keystroke to table at {LISTS} lists: median {median:.0f} ms, max {max(timings):.0f} ms")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
