"""Every Engage prompt type drawn in the Simulator as it sits on a site, in headless Chromium:
where the prompt is on the mock page, that its text shows exactly as typed (no Markdown, no
HTML, no script), and a screenshot of each in pytest's tmp dir to look at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import browser_page, choose, goto, require_chromium, serve_app, wait_idle
from playwright.sync_api import Page, expect

from connector import Console, Prompt, PromptType

pytestmark = pytest.mark.browser

# Typed as an operator might: Markdown, a directive, HTML and a script must all show as text.
HEADLINE = "**Big** news: [read](https://x.example) :red[now] <b>bold</b>"
BODY = "<img src=x onerror=\"document.title='pwned'\"> & 1 < 2"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    data = tmp_path_factory.mktemp("preview")
    console = Console(data / "connector.db", env={})
    for kind in PromptType:
        console.prompts.save(
            Prompt(
                name=f"Type {kind.value}",
                prompt_type=kind,
                headline=HEADLINE,
                body=BODY,
                secondary_label="Later",
                timeout_seconds=20,
            )
        )
    console.close()
    with serve_app(data) as url:
        yield url


@pytest.fixture
def page(app_url: str) -> Iterator[Page]:
    with browser_page() as page:
        yield page


def box(page: Page, key: str) -> dict[str, Any]:
    found = page.locator(f".st-key-{key}").first.bounding_box()
    assert found is not None, f"no .st-key-{key} on the page"
    return dict(found)


def lines(page: Page) -> list[dict[str, Any]]:
    return [
        dict(b)
        for b in (
            element.bounding_box() for element in page.locator("[class*='st-key-mock_line_']").all()
        )
        if b is not None
    ]


@pytest.mark.parametrize("kind", list(PromptType), ids=lambda k: k.value)
def test_each_prompt_type_sits_where_it_belongs(
    app_url: str, page: Page, tmp_path: Path, kind: PromptType
) -> None:
    main = page.get_by_test_id("stMain")
    goto(page, app_url + "/simulator")
    choose(main, "Prompt", f"Type {kind.value}")
    wait_idle(page)
    page.screenshot(path=tmp_path / f"preview-{kind.value}.png", full_page=True)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert page.title() != "pwned"
    expect(main.locator("img[src=x]")).to_have_count(0)
    if kind is PromptType.INVISIBLE:
        expect(main.get_by_text("No UI: an invisible prompt shows nothing.")).to_be_visible()
        expect(page.locator(".st-key-prompt_box")).to_have_count(0)
        return
    expect(main.get_by_text(HEADLINE, exact=True)).to_be_visible()  # as typed, every character
    expect(main.get_by_text(BODY, exact=True)).to_be_visible()
    bars = lines(page)
    assert bars, "the mock page has content lines"
    if kind in (PromptType.MODAL, PromptType.INTERSTITIAL, PromptType.VIDEO):
        dim, card = box(page, "mock_dim"), box(page, "prompt_box")
        middle = dim["x"] + dim["width"] / 2
        assert abs(card["x"] + card["width"] / 2 - middle) < dim["width"] * 0.05  # centred
        share = card["width"] / dim["width"]
        assert share > 0.6 if kind is PromptType.INTERSTITIAL else share < 0.6  # width limit
        assert min(b["y"] for b in bars) < card["y"] < max(b["y"] for b in bars)
    elif kind in (PromptType.BOTTOM_BANNER, PromptType.TEXT_BAR, PromptType.HORIZONTAL_BANNER):
        strip, mock = box(page, "prompt_strip"), box(page, "mock_page")
        assert strip["width"] > mock["width"] * 0.85  # a strip across the page
        above = [b for b in bars if b["y"] < strip["y"]]
        below = [b for b in bars if b["y"] > strip["y"]]
        expected = {
            PromptType.BOTTOM_BANNER: (len(bars), 0),  # pinned below the content
            PromptType.TEXT_BAR: (0, len(bars)),  # above it
        }.get(kind)
        if expected is None:
            assert above and below  # in place within the content
        else:
            assert (len(above), len(below)) == expected
    else:
        card, mock = box(page, "prompt_box"), box(page, "mock_page")
        centre = card["x"] + card["width"] / 2
        if kind in (PromptType.NOTIFICATION, PromptType.VERTICAL_PANEL):
            assert centre > mock["x"] + mock["width"] * 0.6  # at the side, in the corner
        if kind is PromptType.NOTIFICATION:
            assert card["y"] > max(b["y"] for b in bars)  # the bottom corner
        if kind is PromptType.TILE:
            third = mock["width"] / 3
            assert mock["x"] + third < centre < mock["x"] + 2 * third  # among the tiles


def test_the_countdown_times_out_by_itself(app_url: str, page: Page) -> None:
    main = page.get_by_test_id("stMain")
    goto(page, app_url + "/simulator")
    choose(main, "Prompt", "Type modal")
    main.get_by_role("button", name="Start the 20 s countdown").click()
    expect(main.get_by_text("Times out in")).to_be_visible()
    heading = main.get_by_role("heading", name="Timeout on “Type modal”: no actions, nothing sent")
    expect(heading).to_be_visible(timeout=40_000)
