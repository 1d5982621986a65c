"""Names the console did not choose are shown as text everywhere: the real app (`streamlit run
app.py`) in headless Chromium, on a loopback sandbox whose list, tag, automation, custom field
and field option carry hostile names, with a prompt whose name, headline, body, buttons and
inputs carry them too.

On every page: no dialog opens, no script runs (``window.__xss`` stays undefined), no link to
evil.example and no ``<img src="x">`` appear, and the hostile text is visible as typed. A second
test draws a corpus of Markdown-active strings through ``as_markdown_text`` in every kind of
Markdown element and label Streamlit has, and reads back exactly what was typed.

Screenshots of every step are saved as ``/tmp/hostile-<page>.png`` to look at.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from browser import (
    browser_page,
    click,
    goto,
    grid_rows,
    require_chromium,
    segment,
    select_row,
    serve_app,
    wait_idle,
)
from hostile import HOSTILE, ICON, IMG, LINK, MARKUP, SCRIPT, hostile_prompt, rename_account
from playwright.sync_api import Locator, Page, expect

from connector import (
    Console,
)
from connector.sandbox import Sandbox

pytestmark = pytest.mark.browser

EMAIL = "hostile.user@example.com"
SHOTS = Path("/tmp")


@pytest.fixture
def account(
    loopback_account: tuple[Sandbox, dict[str, str]],
) -> tuple[Sandbox, dict[str, str]]:
    """A loopback sandbox whose account names things the way an attacker would."""
    require_chromium()
    rename_account(loopback_account[0])
    return loopback_account


def _watch(page: Page) -> list[str]:
    """Every dialog the page opens (alert, confirm, prompt), dismissed and kept."""
    opened: list[str] = []

    def dismiss(dialog) -> None:  # type: ignore[no-untyped-def]
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return opened


def _harmless(page: Page, dialogs: list[str], name: str) -> None:
    """Nothing hostile happened on this page; a full-page screenshot to look at."""
    wait_idle(page)
    page.screenshot(path=SHOTS / f"hostile-{name}.png", full_page=True)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert dialogs == [], f"{name}: a dialog opened: {dialogs}"
    assert page.evaluate("typeof window.__xss") == "undefined", f"{name}: a script ran"
    expect(page.locator('a[href*="evil.example"]')).to_have_count(0)
    expect(page.locator('img[src="x"]')).to_have_count(0)
    expect(page.locator("[onerror]")).to_have_count(0)
    expect(page.locator("script", has_text="__xss")).to_have_count(0)


def _visible(scope: Page | Locator, *texts: str) -> None:
    """Each text shows somewhere in ``scope``, every character as typed."""
    for text in texts:
        expect(scope.get_by_text(text).first).to_be_visible()


def _fill(scope: Locator, label: str, value: str) -> None:
    """Type into the text box whose visible label shows ``label`` (Streamlit names the box by
    its label's Markdown source, so it is found by what its label shows), then Tab away."""
    shown = scope.page.get_by_test_id("stWidgetLabel").filter(has_text=label)
    box = scope.get_by_test_id("stTextInput").filter(has=shown).locator("input")
    box.fill(value)
    box.press("Tab")
    wait_idle(scope.page)


def _pick_prompt(page: Page, main: Locator, name: str) -> None:
    """Choose the prompt ``name`` in the page's "Prompt" picker (its options are plain text)."""
    box = main.get_by_label("Prompt", exact=True)
    box.click()
    box.press_sequentially("click me")
    page.get_by_role("option", name=name, exact=True).click()
    wait_idle(page)


def _search_tab(page: Page, main: Locator, tab: str, query: str, column: str) -> list[str]:
    """Open the catalog's ``tab``, search it for ``query``; the ``column`` of the rows shown."""
    main.get_by_role("tab", name=re.compile(f"^{tab} ")).click()
    panel = main.get_by_role("tabpanel").filter(visible=True)
    box = panel.get_by_placeholder("Name or ID")
    box.fill(query)
    box.press("Enter")
    wait_idle(page)
    table = panel.get_by_test_id("stDataFrame")
    expect(table.locator("tbody tr")).to_have_count(1)
    return [row[column] for row in grid_rows(table)]


def test_hostile_names_show_as_text_on_every_page(
    account: tuple[Sandbox, dict[str, str]], tmp_path: Path
) -> None:
    _, env = account
    data_dir = tmp_path / "app"
    data_dir.mkdir()
    console = Console(data_dir / "connector.db", env=env)
    try:
        hostile_prompt(console, operator="attacker")
    finally:
        console.close()

    with serve_app(data_dir, env=env) as app_url, browser_page(height=1400) as page:
        dialogs = _watch(page)
        main = page.get_by_test_id("stMain")

        # 1. Lists & automations: each hostile name in its table, as typed.
        goto(page, app_url + "/catalog")
        _harmless(page, dialogs, "catalog")
        assert _search_tab(page, main, "Lists", "onerror", "Name") == [IMG]
        assert _search_tab(page, main, "Automations", "click me", "Name") == [LINK]
        assert _search_tab(page, main, "Custom fields", "alarm", "Title") == [MARKUP]
        assert _search_tab(page, main, "Tags", "script", "Tag") == [SCRIPT]
        assert ICON in _search_tab(page, main, "Custom fields", "plan", "Options")[0]
        _harmless(page, dialogs, "catalog-tables")

        # 2. Prompts: the editor on the hostile prompt, its warning naming the automation, the
        # delete question, and the sentence after a save.
        goto(page, app_url + "/prompts")
        _pick_prompt(page, main, LINK)
        _visible(main, f"Accept: Add to Automation “{LINK}”: the automation is inactive")
        main.get_by_role("button", name=re.compile(r"(^|\s)Delete$")).click()
        _visible(page, f"Delete “{LINK}”? Its rows in the action log are kept.")
        expect(page.get_by_role("button", name=f"Delete “{LINK}”", exact=True)).to_be_visible()
        _harmless(page, dialogs, "prompts-delete")
        page.keyboard.press("Escape")
        click(main, "Save prompt")
        _visible(main, f"Saved “{LINK}”.")
        _harmless(page, dialogs, "prompts")

        # 3. Simulator: the drawing, then Accept twice (the second finds everything done, and
        # says so by name).
        goto(page, app_url + "/simulator")
        _pick_prompt(page, main, LINK)
        preview = page.locator(".st-key-prompt_box")
        _visible(preview, IMG, SCRIPT, MARKUP, "# not a heading", "- not a list")  # the body
        _visible(preview, f"{MARKUP} *", IMG, ICON)  # the input labels
        for label in (ICON, MARKUP, SCRIPT):
            expect(preview.get_by_role("button", name=label, exact=True)).to_be_visible()
        _harmless(page, dialogs, "simulator-preview")
        _fill(preview, f"{MARKUP} *", EMAIL)
        _fill(preview, IMG, SCRIPT)  # Company: a hostile value, sent to the account
        for _ in range(2):
            preview.get_by_role("button", name=ICON, exact=True).click()
            wait_idle(page)
            expect(main.get_by_role("heading", name=f"Ran Accept on “{LINK}”")).to_be_visible()
        results = main.get_by_test_id("stExpander").locator("summary")
        for name in (f"“{IMG}” (#1)", f"“{SCRIPT}” (#1)", f"“{LINK}” (#4)"):
            expect(results.filter(has_text=name)).to_have_count(1)
        results.filter(has_text=f"“{IMG}”").click()
        _visible(main, f"Already subscribed to “{IMG}”.")
        _harmless(page, dialogs, "simulator")

        # 4. Action log: runs, one run, the actions, one action, the contact's history.
        goto(page, app_url + "/action_log")
        runs = main.get_by_test_id("stDataFrame")
        expect(runs.locator("tbody tr")).to_have_count(2)
        rows = grid_rows(runs)
        assert {row["Prompt"] for row in rows} == {LINK}, rows
        assert all(IMG in row["Actions"] and SCRIPT in row["Actions"] for row in rows), rows
        select_row(runs, 0)
        expect(main.get_by_role("heading", name=f"Accept on “{LINK}”")).to_be_visible()
        _visible(main, f"Add to List → “{IMG}” (#1)", f"Add to Automation → “{LINK}” (#4)")
        _harmless(page, dialogs, "log-run")

        segment(main, "View", "Actions")
        table = main.get_by_test_id("stDataFrame")
        actions = grid_rows(table)
        assert {row["Target"] for row in actions} >= {IMG, SCRIPT, LINK}, actions
        select_row(table, [row["Target"] for row in actions].index(IMG))
        _visible(main, f"Add to List → “{IMG}” (#1)", f"{LINK} / Accept")
        _harmless(page, dialogs, "log-action")

        main.get_by_role("button", name="All activity for this contact").click()
        wait_idle(page)
        _visible(main, f"on “{LINK}”", f"Add Tag → “{SCRIPT}” (#1)")
        _harmless(page, dialogs, "log-contact")


# -- every Markdown element and label, through the one escaping rule -------------------------

CORPUS = [
    *HOSTILE,
    "<https://evil.example> and https://evil.example/path?q=1 and www.evil.example",
    "mail ada@example.com, ![img](x.png), [ref]: https://evil.example",
    "__init__ snake_case_name *star* ~~strike~~ ~x~ `code` ``",
    "| a | b |",
    "Q&A &amp; &copy; &#65; <!-- comment -->",
    "a -- b <-> c -> d <= e >= f ~= g",
    ":streamlit: :material_home: :tada: :red-badge[x] :small[y] Time 12:30",
    "$$x$$ \\(x\\) \\*not bold\\* trailing \\",
    "1. one",
    "10) ten",
    "- dash",
    "+ plus",
    "# hash",
    "> quote",
    "***",
    "    four spaces",
    "line one\nline two\n\n# three",
]
# (element, how to find its text in a case's box); each case is drawn in a box of its own.
ELEMENTS = {
    "markdown": "[data-testid=stMarkdown]",
    "caption": "[data-testid=stCaptionContainer]",
    "error": "[data-testid=stAlert]",
    "button": "[data-testid=stButton] button",
    "expander": "[data-testid=stExpander] summary [data-testid=stMarkdownContainer]",
    "tab": "[data-baseweb=tab], [role=tab]",
    "checkbox": "[data-testid=stCheckbox] [data-testid=stMarkdownContainer]",
    "text_input": "[data-testid=stTextInput] [data-testid=stWidgetLabel]",
    "subheader": "[data-testid=stHeading]",
}
# What Markdown would have made of a case: links, images, code, emphasis, maths, icons, lists,
# quotes, tables, rules, colours and badges. None of them may appear.
MADE = (
    "<a ", "<img", "<code", "<strong", "<em", "<del", "katex", 'role="img"', "<li", "<blockquote",
    "<table", "<hr", "<pre", "<script", "stMarkdownColored", "stMarkdownBadge",
)  # fmt: skip
SCRIPT_TEXT = """
import json
import streamlit as st
from connector.engage.display import as_markdown_text

for n, value in enumerate(json.loads({corpus!r})):
    shown = as_markdown_text(value)
    with st.container(key=f"case_{{n}}"):
        st.markdown(shown)
        st.caption(shown)
        st.error(shown)
        st.button(shown, key=f"button_{{n}}")
        with st.expander(shown):
            st.write("inside")
        st.tabs([shown, "other"])
        st.checkbox(shown, key=f"check_{{n}}")
        st.text_input(shown, key=f"input_{{n}}")
        if "\\n" not in value:  # a heading is one line
            st.subheader(shown, anchor=False)
"""


def _shown(text: str) -> str:
    """What a reader sees: zero-width spaces are invisible, runs of white space are one."""
    return " ".join(text.replace("\u200b", "").replace("\u00a0", " ").split())


def test_every_markdown_element_shows_escaped_text_as_typed(tmp_path: Path) -> None:
    require_chromium()
    script = tmp_path / "corpus.py"
    script.write_text(SCRIPT_TEXT.format(corpus=json.dumps(CORPUS)), encoding="utf-8")
    with serve_app(tmp_path, script=str(script)) as url, browser_page() as page:
        dialogs = _watch(page)
        goto(page, url)
        wrong = []
        for n, value in enumerate(CORPUS):
            box = page.locator(f".st-key-case_{n}")
            for element, selector in ELEMENTS.items():
                if element == "subheader" and "\n" in value:
                    continue
                found = box.locator(selector).first
                text = found.inner_text()
                if _shown(text) != _shown(value):
                    wrong.append((element, value, text))
                made = [tag for tag in MADE if tag in found.inner_html()]
                if made:
                    wrong.append((element, value, made))
        page.screenshot(path=SHOTS / "hostile-corpus.png", full_page=True)
        _harmless(page, dialogs, "corpus")
    assert not wrong, "\n".join(repr(w) for w in wrong)
