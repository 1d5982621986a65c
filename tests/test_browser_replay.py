"""A failure injected in the sandbox shows up in the log, is replayed after the fault clears,
and both rows show with their link: the real app (`streamlit run app.py`) in headless Chromium.

The dashboard's built-in sandbox lives in the streamlit process, out of this test's reach, so
the app runs on a loopback sandbox server of this process (AC_API_URL / AC_API_KEY), where the
test injects the fault and reads the account's state afterwards.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from browser import (
    browser_page,
    choose,
    click,
    fill,
    goto,
    grid_rows,
    require_chromium,
    segment,
    select_row,
    serve_app,
    wait_idle,
)
from factories import api_client
from playwright.sync_api import Locator, Page, expect

from connector import (
    REGISTRY,
    ActionConfig,
    ActionType,
    Console,
    FormInput,
    InputKind,
    Interaction,
    Prompt,
)
from connector.sandbox import Fault, Sandbox

pytestmark = pytest.mark.browser

EMAIL = "replay.user@example.com"
PROMPT = "Replay signup"
LIST_NAME = "Newsletter"


def _prompt(list_id: str) -> Prompt:
    """Accept → Add Contact, then Add to List; one required Email input fills the email."""
    prompt = Prompt(
        name=PROMPT,
        actions={
            Interaction.ACCEPT: [
                ActionConfig(ActionType.ADD_CONTACT),
                ActionConfig(
                    ActionType.ADD_TO_LIST,
                    REGISTRY[ActionType.ADD_TO_LIST].params_for(list_id, LIST_NAME),
                ),
            ]
        },
    )
    prompt.map_input(FormInput("Email", kind=InputKind.EMAIL, required=True, id="email"), "email")
    return prompt


@pytest.fixture
def account(
    loopback_account: tuple[Sandbox, dict[str, str]],
) -> tuple[Sandbox, dict[str, str]]:
    require_chromium()
    return loopback_account


def _no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def _csv_rows(page: Page, tmp_path: Path, name: str) -> list[dict[str, str]]:
    """The Actions view's CSV export, as the user downloads it."""
    with page.expect_download() as download_info:
        click(page.get_by_test_id("stMain"), "Download CSV")
    target = tmp_path / name
    download_info.value.save_as(target)
    return list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))


def test_injected_failure_is_replayed_and_linked(
    account: tuple[Sandbox, dict[str, str]], tmp_path: Path
) -> None:
    sandbox, env = account
    data_dir = tmp_path / "app"
    data_dir.mkdir()
    console = Console(data_dir / "connector.db", env=env)
    try:
        newsletter = next(x for x in console.client().lists() if x.name == LIST_NAME)
        console.prompts.save(_prompt(newsletter.id))
    finally:
        console.close()
    # The next subscription is refused once; the replay's goes through.
    sandbox.inject(Fault("status", "POST", "/contactLists", status=422, count=1))

    with serve_app(data_dir, env=env) as app_url, browser_page(height=1400) as page:
        main = page.get_by_test_id("stMain")

        # 1. Simulator: accept with an email; Add Contact succeeds, Add to List fails.
        goto(page, app_url + "/simulator")
        choose(main, "Prompt", PROMPT)
        fill(main, "Email *", EMAIL, commit="Tab")
        click(main, "Yes, please")
        expect(main.get_by_role("heading", name=f"Ran Accept on “{PROMPT}”")).to_be_visible()
        results = main.get_by_test_id("stExpander").locator("summary")
        expect(results).to_have_count(2)
        expect(results.nth(0)).to_contain_text(re.compile(r"succeeded — Add Contact\b"))
        expect(results.nth(1)).to_contain_text(re.compile(r"failed — Add to List"))
        expect(main.get_by_text("HTTP 422").first).to_be_visible()
        assert not sandbox.pending_faults()  # it fired, once: the account works again
        _no_exception(page)
        _snap(page, tmp_path, "1-simulator-failed", results.nth(1))

        # 2. Action log → Actions: the failed row; selecting it shows its detail.
        goto(page, app_url + "/action_log")
        segment(main, "View", "Actions")
        table = _log_table(page)
        expect(table.locator("tbody tr")).to_have_count(2)
        before = _cells(grid_rows(table), "#", "Status", "Action")
        assert [row[1:] for row in before] == [
            ("failed", "Add to List"),
            ("succeeded", "Add Contact"),
        ], before
        original = int(before[0][0])
        select_row(table, 0)
        expect(main.get_by_role("heading", name=f"Entry #{original}")).to_be_visible()
        expect(table.locator("tbody tr").first).to_have_attribute("aria-selected", "true")
        replay_one = main.get_by_role("button", name=re.compile(r"Replay this action$"))
        expect(replay_one).to_be_visible()
        _no_exception(page)
        _snap(page, tmp_path, "2-log-failed-selected", replay_one)

        # 3. Replay it: a job in the dashboard's worker; the page redraws when it has ended,
        # the new row on top and the original's entry still open, now linked to its replay.
        click(main, "Replay this action")
        newest = table.locator("tbody tr").first.locator("td")  # #, Time, Status, Replay, Action
        expect(newest.nth(4)).to_have_text("Add to List")
        expect(newest.nth(2)).to_have_text("succeeded")
        expect(newest.nth(3)).to_have_text(f"← #{original}")
        expect(page.get_by_text(re.compile(r"^Replay \w+: \d+ of \d+"))).to_have_count(0)
        expect(main.get_by_role("heading", name=f"Entry #{original}")).to_be_visible()
        expect(main.get_by_role("button", name=re.compile(r"^Replayed as #\d+ \(succeeded\)$")))
        wait_idle(page)
        _no_exception(page)
        _snap(page, tmp_path, "3-after-replay", table)

        # 4. A fresh visit: both rows, each pointing at the other; the contact was found by
        # email, not synced again, so the replay is one row.
        goto(page, app_url + "/action_log")
        segment(main, "View", "Actions")
        table = _log_table(page)
        expect(table.locator("tbody tr")).to_have_count(3)
        after = _cells(grid_rows(table), "#", "Status", "Replay", "Action")
        by_id = {int(n): (status, link, act) for n, status, link, act in after}
        replayed = max(by_id)
        assert by_id[replayed] == ("succeeded", f"← #{original}", "Add to List"), after
        assert by_id[original] == ("failed", f"→ #{replayed} succeeded", "Add to List"), after
        _snap(page, tmp_path, "4-log-both-linked", table)

        select_row(table, [int(n) for n, *_ in after].index(original))
        expect(main.get_by_role("heading", name=f"Entry #{original}")).to_be_visible()
        forward = main.get_by_role("button", name=f"Replayed as #{replayed} (succeeded)")
        expect(forward).to_be_visible()
        expect(replay_one).to_have_count(0)  # nothing left to replay on the original
        _no_exception(page)
        _snap(page, tmp_path, "5-log-both-original", forward)
        click(main, f"Replayed as #{replayed} (succeeded)")
        expect(main.get_by_role("heading", name=f"Entry #{replayed}")).to_be_visible()
        back = main.get_by_role("button", name=f"Retry of #{original}")
        expect(back).to_be_visible()
        _snap(page, tmp_path, "6-log-both-replay", back)
        click(main, f"Retry of #{original}")
        expect(main.get_by_role("heading", name=f"Entry #{original}")).to_be_visible()

        exported = _csv_rows(page, tmp_path, "log.csv")
        retry_of = {int(r["id"]): r["retry_of"] for r in exported}
        assert retry_of[replayed] == str(original), exported
        assert retry_of[original] == "", exported
        _no_exception(page)

    # The account and the log agree: subscribed once, one successful replay of the original.
    console = Console(data_dir / "connector.db", env=env)
    try:
        with api_client(sandbox) as api:
            contacts = api.get("/contacts", params={"email": EMAIL}).json()["contacts"]
            assert len(contacts) == 1, contacts
            memberships = api.get(f"/contacts/{contacts[0]['id']}/contactLists").json()
        on_list = [m for m in memberships["contactLists"] if str(m["list"]) == newsletter.id]
        assert len(on_list) == 1 and str(on_list[0]["status"]) == "1", memberships
        retries = console.log.retries(original)
        assert [(r["id"], r["status"]) for r in retries] == [(replayed, "succeeded")], retries
    finally:
        console.close()


def _log_table(page: Page) -> Locator:
    """The Actions view's table (the entry's detail below may draw tables of its own)."""
    return page.locator(".st-key-log_table_box").get_by_test_id("stDataFrame")


def _cells(rows: list[dict[str, str]], *columns: str) -> list[tuple[str, ...]]:
    return [tuple(row[c] for c in columns) for row in rows]


def _snap(page: Page, shots: Path, name: str, near: Locator) -> None:
    """A screenshot of the viewport with ``near`` in view (the page scrolls inside stMain)."""
    near.scroll_into_view_if_needed()
    page.screenshot(path=shots / f"{name}.png")
