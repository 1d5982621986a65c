"""Shared by the browser test and ``python -m tests.screenshots``: serve the app, drive Chromium.

Only Debian's chromium is used (no Playwright browser download): ``find_chromium`` locates it and
``launch`` starts it headless with the flags that keep it quiet and offline.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
from playwright.sync_api import Browser, Locator, Page, Playwright, expect, sync_playwright

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STARTUP_TIMEOUT_S = 60.0
IDLE_TIMEOUT_MS = 30_000
_IDLE = (
    "() => document.querySelector('[data-testid=stApp][data-test-script-state=notRunning]')"
    " !== null && document.querySelector('[data-testid=stSkeleton]') === null"
)


def find_chromium() -> str | None:
    """Debian's chromium binary (the real one before the /usr/bin wrapper script), or None."""
    candidates = [
        os.environ.get("CHROMIUM_PATH"),
        "/usr/lib/chromium/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def require_chromium() -> None:
    """Skip the calling test without a browser, but fail it in CI: a skipped browser test there
    would be a failed test that looks green."""
    import pytest

    if find_chromium() is None:
        message = "No chromium found for the browser test: apt-get install chromium"
        if os.environ.get("REQUIRE_BROWSER") or os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def launch(playwright: Playwright) -> Browser:
    executable = find_chromium()
    if executable is None:
        raise RuntimeError("No chromium found: apt-get install chromium")
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


@contextmanager
def browser_page(width: int = 1400, height: int = 1100) -> Iterator[Page]:
    """A fresh headless page whose waits are long enough for a cold Streamlit rerun."""
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(20_000)
            expect.set_options(timeout=20_000)
            yield page
        finally:
            browser.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def serve_app(
    data_dir: Path, env: Mapping[str, str] | None = None, *, script: str = "app.py"
) -> Iterator[str]:
    """Run ``streamlit run app.py`` (or another ``script``, run from the repository with it on
    the import path) with its data in ``data_dir``; yield its URL.

    The account is the built-in sandbox: AC_API_URL / AC_API_KEY of this process are not passed
    on. ``env`` adds (or overrides) variables, e.g. both of those for a loopback sandbox server.
    Streamlit's secrets come from ``data_dir / "secrets.toml"`` only (none unless the test
    writes it), never from the repository's or the user's ``.streamlit/secrets.toml``.
    """
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    environ = {k: v for k, v in os.environ.items() if k not in ("AC_API_URL", "AC_API_KEY")}
    environ["CONNECTOR_DB"] = str(data_dir / "connector.db")
    environ["STREAMLIT_SECRETS_FILES"] = str(data_dir / "secrets.toml")  # config secrets.files
    environ["PYTHONPATH"] = str(REPO)  # a script from elsewhere imports ``connector`` too
    environ.update(env or {})
    command = [
        sys.executable, "-m", "streamlit", "run", script,
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    log_path = data_dir / "streamlit.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO, env=environ, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
        try:
            _wait_healthy(base_url, process, log_path)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    with httpx.Client(timeout=2) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited with {process.returncode}:\n{_tail(log_path)}"
                )
            try:
                if client.get(f"{base_url}/_stcore/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
    raise TimeoutError(f"streamlit not healthy after {STARTUP_TIMEOUT_S:.0f} s:\n{_tail(log_path)}")


def wait_idle(page: Page, settle_ms: int = 300) -> None:
    """Wait until the script has finished its rerun and nothing is still loading."""
    page.wait_for_timeout(100)  # let a just-triggered rerun reach the server
    for _ in range(2):  # idle, and still idle after the settle (a rerun may chain another)
        page.wait_for_function(_IDLE, timeout=IDLE_TIMEOUT_MS)
        page.wait_for_timeout(settle_ms)
    page.wait_for_function(_IDLE, timeout=IDLE_TIMEOUT_MS)


def goto(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_test_id("stApp").wait_for()
    wait_idle(page)


def fill(scope: Page | Locator, label: str, value: str, *, commit: str = "Enter") -> None:
    """Type into the text input labelled ``label`` and press ``commit`` so Streamlit takes it."""
    box = scope.get_by_label(label, exact=True)
    box.fill(value)
    box.press(commit)
    wait_idle(_page(scope))


def choose(
    scope: Page | Locator,
    label: str,
    option: str | re.Pattern[str],
    *,
    search: str | None = None,
) -> None:
    """Open the selectbox labelled ``label``, type ``search`` (default: the option), click it."""
    page = _page(scope)
    box = scope.get_by_label(label, exact=True)
    box.click()
    if search is None and isinstance(option, str):
        search = option
    if search:
        box.press_sequentially(search)
    name = re.compile(rf"^{re.escape(option)}$") if isinstance(option, str) else option
    page.get_by_role("option", name=name).click()
    wait_idle(page)


def tick(scope: Page | Locator, label: str) -> None:
    """Tick the checkbox labelled ``label`` (Streamlit hides the input itself)."""
    scope.get_by_test_id("stCheckbox").filter(has_text=re.compile(rf"^{re.escape(label)}$")).click()
    wait_idle(_page(scope))


def segment(scope: Page | Locator, label: str, option: str) -> None:
    """Pick ``option`` of the segmented control labelled ``label`` and wait until it is on
    (Streamlit draws the control as a radio group of buttons)."""
    radio = scope.get_by_role("radiogroup", name=label, exact=True).get_by_role(
        "radio", name=option, exact=True
    )
    radio.click()
    expect(radio).to_have_attribute("aria-checked", "true")
    wait_idle(_page(scope))


GRID_ROW_PX = 35  # st.dataframe's header and row height
GRID_MARKER_PX = 18  # the middle of the row-selection column at the grid's left edge


def select_row(table: Locator, row: int) -> None:
    """Tick the selection box of row ``row`` (0: the first under the header) of the
    ``st.dataframe`` ``table`` (its stDataFrame element). The grid is drawn on a canvas, so the
    box is clicked where it is drawn, as a user would."""
    table.scroll_into_view_if_needed()
    table.click(position={"x": GRID_MARKER_PX, "y": GRID_ROW_PX * (row + 1.5)})
    wait_idle(table.page)


def grid_rows(table: Locator) -> list[dict[str, str]]:
    """The rows of the ``st.dataframe`` ``table`` as its accessible grid offers them: the
    columns and rows in view only (the canvas draws the rest on scroll), header → cell text."""
    return table.locator("table[role=grid]").evaluate(
        """grid => {
            const heads = [...grid.querySelectorAll("thead th")].map(th => th.textContent);
            return [...grid.querySelectorAll("tbody tr")].map(tr => Object.fromEntries(
                [...tr.querySelectorAll("td")].map((td, n) => [heads[n], td.textContent])
            ));
        }"""
    )


def click(scope: Page | Locator, name: str) -> None:
    """Click the button whose visible text is ``name`` (icons are ignored)."""
    button = scope.get_by_role("button", name=re.compile(rf"(^|\s){re.escape(name)}$"))
    button.click()
    wait_idle(_page(scope))


def _page(scope: Page | Locator) -> Page:
    return scope if isinstance(scope, Page) else scope.page
