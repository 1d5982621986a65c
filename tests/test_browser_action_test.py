"""In a real browser: the Prompts page's "Test this action → Run it" on an Add Tag, for an
existing contact named Sam, tags Sam and leaves the name as it was (read back from the data
folder's sandbox, as another process sees it). The test contact is the default target."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from browser import browser_page, choose, click, goto, require_chromium, serve_app, wait_idle
from factories import EMAIL_NAME_COMPANY, action, prompt_with
from playwright.sync_api import Page, expect

from connector import ActionType, Console, Interaction

pytestmark = pytest.mark.browser

SAM = "sam@example.com"
PROMPT = "Tag tester"


def data_console(data_dir: Path) -> Console:
    """A Console on the app's data file (its sandbox: the same ``sandbox.db``)."""
    return Console(data_dir / "connector.db", env={})


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder with the demo prompts, a contact Sam, and a prompt whose Accept adds a
    tag (its form fills the email, the first name and a custom field)."""
    with closing(data_console(tmp_path)) as console:
        console.seed_demo_prompts()
        client = console.client()
        client.send("POST", "/contact/sync", body={"contact": {"email": SAM, "firstName": "Sam"}})
        prompt = prompt_with(inputs=EMAIL_NAME_COMPANY)
        prompt.name = PROMPT
        prompt.actions = {Interaction.ACCEPT: [action(ActionType.ADD_TAG, client.tags()[0].id)]}
        console.save_prompt(prompt)
    return tmp_path


@pytest.fixture
def app_url(data_dir: Path) -> Iterator[str]:
    require_chromium()
    with serve_app(data_dir, {"CONNECTOR_TEST_CONTACT": SAM}) as url:
        yield url


@pytest.fixture
def page(app_url: str) -> Iterator[Page]:
    with browser_page() as page:
        yield page


def test_run_it_on_an_add_tag_leaves_the_contacts_name(
    app_url: str, page: Page, data_dir: Path, tmp_path: Path
) -> None:
    main = page.get_by_test_id("stMain")
    goto(page, app_url + "/prompts")
    choose(main, "Prompt", PROMPT)
    accept = main.get_by_role("tabpanel")
    panel = accept.get_by_test_id("stExpander").filter(has_text="Test this action")
    panel.get_by_text("Test this action").click()
    wait_idle(page)
    email = panel.get_by_label("Test contact's email", exact=True)
    expect(email).to_have_value(SAM)  # the test contact, offered by default
    expect(panel).to_contain_text(
        "changes a real contact: the one with this email in the built-in sandbox"
    )
    expect(panel).to_contain_text("name, phone and custom fields stay as they are")
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=tmp_path / "test-this-action.png")

    click(panel, "Run it")
    expect(panel.get_by_text(re.compile("succeeded — Add Tag"))).to_be_visible()
    panel.screenshot(path=tmp_path / "test-this-action-ran.png")

    with closing(data_console(data_dir)) as console:
        client = console.client()
        sam = client.find_contact(SAM)
        assert sam is not None and (sam.first_name, sam.last_name) == ("Sam", "")
        tags = client.get(f"/contacts/{sam.id}/contactTags").get("contactTags", [])
        assert [str(t["tag"]) for t in tags] == [client.tags()[0].id]
        everyone = client.get("/contacts", {"limit": 100}).get("contacts", [])
        assert not [c for c in everyone if c.get("firstName") == "Test"]
        run = console.log.runs()[0]
        assert (run.source, run.dry_run, run.contact) == ("test", False, {"email": SAM})
