"""A new user builds the newsletter prompt in a real browser and sees it drawn as on a site.

Email, first name and a dropdown custom field; Accept → Add Contact, Add to List, Add to
Automation; Decline → Add Tag. Also what only a browser shows: the Actions tab stays on Decline
when an action is added there, and Setup's Test takes a key left with Tab.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import browser_page, choose, click, fill, goto, require_chromium, serve_app, wait_idle
from playwright.sync_api import Locator, Page, expect

from connector.sandbox import Sandbox, SandboxServer

pytestmark = pytest.mark.browser

PROMPT = "Join our newsletter"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    with serve_app(tmp_path_factory.mktemp("editor")) as url:
        yield url


@pytest.fixture
def page(app_url: str) -> Iterator[Page]:
    with browser_page() as page:
        yield page


def nth_box(scope: Locator, label: str, n: int, value: str) -> None:
    box = scope.get_by_label(label, exact=True).nth(n)
    box.fill(value)
    box.press("Tab")
    wait_idle(scope.page)


def nth_choice(scope: Locator, label: str, n: int, option: str | re.Pattern[str]) -> None:
    scope.get_by_label(label, exact=True).nth(n).click()
    name = re.compile(rf"^{re.escape(option)}$") if isinstance(option, str) else option
    scope.page.get_by_role("option", name=name).first.click()
    wait_idle(scope.page)


def selected_tab(main: Locator) -> str:
    return main.get_by_role("tab", selected=True).inner_text().strip()


def test_a_new_user_builds_the_newsletter_prompt_and_runs_it(
    app_url: str, page: Page, tmp_path: Path
) -> None:
    main = page.get_by_test_id("stMain")
    goto(page, app_url + "/prompts")
    click(main, "New")
    fill(main, "Name", PROMPT, commit="Tab")
    for _ in range(3):
        click(main, "Add form input")
    for n, label in enumerate(("Email", "First name", "Plan")):
        nth_box(main, "Label", n, label)
    nth_choice(main, "Validation", 0, "Email")
    fields = (("Email", "Email"), ("First name", "First name"), ("Plan", re.compile("^Plan")))
    for n, (input_label, field) in enumerate(fields):
        click(main, "Add a contact field")
        nth_choice(main, "Contact field", n, field)
        nth_choice(main, "Form input", n, input_label)
    table = main.get_by_test_id("stDataFrame").first
    expect(table).to_be_visible()

    accept = main.get_by_role("tabpanel")  # the selected tab's panel: the others are hidden
    for action, picker, option in (
        ("Add Contact", None, None),
        ("Add to List", "List", re.compile(r"^Newsletter \(#\d+\)$")),
        ("Add to Automation", "Automation", re.compile(r"^Welcome series \(#\d+\)$")),
    ):
        choose(accept, "Add an action", action)
        click(accept, "Add action")
        if picker:
            search = "Newsletter" if picker == "List" else "Welcome"
            choose(accept, picker, option, search=search)
    main.get_by_role("tab", name="Decline").click()
    wait_idle(page)
    decline = main.get_by_role("tabpanel")
    choose(decline, "Add an action", "Add Tag")
    click(decline, "Add action")
    assert selected_tab(main) == "Decline"  # the page did not jump back to Accept
    choose(decline, "Tag", re.compile(r"^customer \(#\d+\)$"), search="customer")
    click(main, "Save prompt")
    expect(main.get_by_text(f"Saved “{PROMPT}”.")).to_be_visible()
    page.screenshot(path=tmp_path / "editor.png", full_page=True)

    goto(page, app_url + "/simulator")
    choose(main, "Prompt", PROMPT)
    expect(page.locator(".st-key-prompt_box")).to_be_visible()  # drawn as a modal
    fill(main, "Email", "newbie@example.com", commit="Tab")
    fill(main, "First name", "Newbie", commit="Tab")
    choose(main, "Plan", "Pro")  # the dropdown field's own options
    click(main, "Yes, please")
    expect(main.get_by_role("heading", name=f"Ran Accept on “{PROMPT}”")).to_be_visible()
    results = main.get_by_test_id("stExpander").locator("summary")
    expect(results).to_have_count(3)
    for n in range(3):
        expect(results.nth(n)).to_contain_text("succeeded")
    page.screenshot(path=tmp_path / "simulator.png", full_page=True)

    fill(main, "email_address trait", "newbie@example.com", commit="Tab")
    click(main, "No thanks")
    expect(main.get_by_role("heading", name=f"Ran Decline on “{PROMPT}”")).to_be_visible()
    expect(main.get_by_test_id("stExpander").locator("summary").first).to_contain_text(
        re.compile("succeeded — Add Contact|succeeded — Add Tag")
    )


def test_setup_test_takes_a_key_left_with_tab(app_url: str, page: Page) -> None:
    with Sandbox() as sandbox, SandboxServer(sandbox) as server:
        main = page.get_by_test_id("stMain")
        goto(page, app_url + "/")
        main.get_by_label("API URL", exact=True).fill(server.base_url)
        key = main.get_by_label("API key", exact=True)
        key.fill(sandbox.api_key)
        key.press("Tab")  # focus goes to the eye icon, the value is still in the form
        click(main, "Test")
        expect(main.get_by_text("Connected as")).to_be_visible()
        expect(main.get_by_text("Enter your API key")).to_have_count(0)
