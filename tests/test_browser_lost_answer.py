"""In a real browser: an Accept whose Add Tag answer is lost (the connection drops after the
account applied it). The Simulator says the run is not finished and when it will be verified,
never "failed" and never a resend; a worker (another process, its clock past the settle delay)
verifies it, and the Action log then shows the tag as succeeded on that evidence, once."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from browser import browser_page, choose, click, fill, goto, require_chromium, serve_app
from factories import action, prompt_with
from playwright.sync_api import Page, expect

from connector import ActionType, Console, Reason, RunStatus, Status
from connector.sandbox import Fault, Sandbox

pytestmark = pytest.mark.browser

PROMPT = "Lost answers"
EMAIL = "lost@example.com"


@pytest.fixture
def app(
    tmp_path: Path, loopback_account: tuple[Sandbox, dict[str, str]]
) -> Iterator[tuple[str, Sandbox, dict[str, str]]]:
    require_chromium()
    sandbox, env = loopback_account
    with closing(Console(tmp_path / "connector.db", env=env)) as console:
        prompt = prompt_with(action(ActionType.ADD_TAG, console.client().tags()[0].id))
        prompt.name = PROMPT
        console.save_prompt(prompt)
    sandbox.inject(Fault("reset", "POST", "/contactTags", commit=True))
    with serve_app(tmp_path, env) as url:
        yield url, sandbox, env


@pytest.fixture
def page() -> Iterator[Page]:
    with browser_page() as opened:
        yield opened


def test_a_lost_answer_is_not_finished_then_verified_by_a_worker(
    app: tuple[str, Sandbox, dict[str, str]], page: Page, tmp_path: Path
) -> None:
    url, sandbox, env = app
    main = page.get_by_test_id("stMain")
    goto(page, url + "/simulator")
    choose(main, "Prompt", PROMPT)
    fill(main, "Email", EMAIL, commit="Tab")
    click(main, "Yes, please")
    heading = f"Accept on “{PROMPT}”: started, not finished yet"
    expect(main.get_by_role("heading", name=heading)).to_be_visible()
    warning = main.get_by_test_id("stAlertContentWarning").first
    expect(warning).to_contain_text("Not finished yet")
    expect(warning).to_contain_text(re.compile(r"verified at \d{4}-\d\d-\d\d \S+ UTC"))
    expect(main.get_by_text("unknown — Add Tag").first).to_be_visible()
    page.screenshot(path=tmp_path / "lost-answer.png", full_page=True)

    ahead = 61.0  # a worker whose clock is past the settle delay (no test waits for real)
    worker = Console(tmp_path / "connector.db", env=env, clock=lambda: time.time() + ahead)
    with closing(worker):
        while worker.work_on_due_run():
            pass
        (run,) = worker.log.runs()
        assert run.status is RunStatus.SUCCEEDED
        tag = run.attempts[-1]
        assert tag.status is Status.SUCCEEDED and tag.reason_code is Reason.VERIFIED
        assert tag.attempts == 1  # never sent again
        contact = run.contact_id
        tags = worker.client().get(f"/contacts/{contact}/contactTags")["contactTags"]
        assert len(tags) == 1

    goto(page, url + "/action_log")
    expect(main).to_contain_text("succeeded")
    expect(main).not_to_contain_text("Not finished yet")
    page.screenshot(path=tmp_path / "log-after.png", full_page=True)
