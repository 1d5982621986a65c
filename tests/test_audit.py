"""The audit trail: every configuration change the console makes is recorded with who made it,
from where, and a one-line summary of what changed; an API key is never stored."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from factories import action
from streamlit.testing.v1 import AppTest

from connector import (
    ActionType,
    AuditEvent,
    AuditKind,
    CatalogKind,
    Console,
    FormInput,
    InputKind,
    Interaction,
    Prompt,
)
from connector.sandbox import Sandbox, SandboxServer

CANARY = "canary-7f3a9c1e5b2d8046-AUDITLEAK-9c1e"  # an API key that must appear nowhere
TIMEOUT = 20


def newsletter() -> Prompt:
    prompt = Prompt(name="Newsletter", headline="Stay in touch")
    prompt.map_input(FormInput("Email", kind=InputKind.EMAIL, id="email"), "email")
    prompt.actions[Interaction.ACCEPT] = [
        action(ActionType.ADD_CONTACT),
        action(ActionType.ADD_TO_LIST, "3"),
    ]
    return prompt


def only(console: Console) -> AuditEvent:
    events = console.audit.page()
    assert len(events) == 1, events
    return events[0]


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    """A sandbox served over HTTP whose API key is the canary: a real account to save."""
    with Sandbox(api_key=CANARY) as sandbox, SandboxServer(sandbox) as running:
        yield running


# -- prompts ------------------------------------------------------------------------------------


def test_creating_a_prompt_records_who_where_and_what(console: Console) -> None:
    saved = console.save_prompt(newsletter(), operator="ana", source="cli")
    event = only(console)
    assert saved.id is not None and console.prompts.get(saved.id) is not None
    assert (event.kind, event.operator, event.source) == (AuditKind.PROMPT_CREATED, "ana", "cli")
    assert event.subject == "Newsletter"
    assert event.summary == (
        "Created “Newsletter” (Popup / modal; 1 form input; Accept actions: 2)."
    )
    assert event.before is None
    assert event.after == saved.to_dict()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event.at)


def test_editing_a_prompt_records_the_fields_that_changed(console: Console) -> None:
    saved = console.save_prompt(newsletter())
    stored = saved.to_dict()
    edited = Prompt.from_dict(stored)
    edited.name = "  Newsletter v2 "
    edited.actions[Interaction.ACCEPT].append(action(ActionType.ADD_TAG, "5"))
    edited.timeout_seconds = 30
    console.save_prompt(edited, operator="bo")

    event = console.audit.page()[0]
    assert (event.kind, event.operator, event.source) == (AuditKind.PROMPT_EDITED, "bo", "prompts")
    assert event.subject == "Newsletter v2"  # the trimmed name, as stored
    assert event.summary == (
        "name: “Newsletter” → “Newsletter v2”; Accept actions: 2 → 3; timeout: 0 → 30 s"
    )
    assert event.before == stored
    assert event.after == console.prompts.get(saved.id or 0).to_dict()  # type: ignore[union-attr]

    # Same number of actions, another list: still said, not lost in a count.
    again = console.prompts.get(saved.id or 0)
    assert again is not None
    again.actions[Interaction.ACCEPT][1] = action(ActionType.ADD_TO_LIST, "4")
    again.headline = "Hear from us"
    console.save_prompt(again)
    assert console.audit.page()[0].summary == (
        "headline: “Stay in touch” → “Hear from us”; Accept actions changed"
    )
    console.save_prompt(again)
    assert console.audit.page()[0].summary == "Saved with no changes."
    assert [e.kind for e in console.audit.page()] == [AuditKind.PROMPT_EDITED] * 3 + [
        AuditKind.PROMPT_CREATED
    ]


def test_deleting_a_prompt_keeps_its_name_and_definition(console: Console) -> None:
    saved = console.save_prompt(newsletter())
    assert saved.id is not None
    console.delete_prompt(saved.id, operator="cy")
    assert console.prompts.get(saved.id) is None

    event = console.audit.page()[0]
    assert (event.kind, event.operator, event.subject) == (
        AuditKind.PROMPT_DELETED,
        "cy",
        "Newsletter",
    )
    assert event.summary == "Deleted “Newsletter” (Popup / modal; 1 form input; Accept actions: 2)."
    assert event.before == saved.to_dict() and event.after is None

    console.delete_prompt(saved.id, operator="cy")  # already gone: nothing changed
    assert len(console.audit.page()) == 2


def test_duplicating_a_prompt_records_the_copy_as_created(console: Console) -> None:
    saved = console.save_prompt(newsletter())
    copy = console.duplicate_prompt(saved.id or 0, operator="di")
    event = console.audit.page()[0]
    assert (event.kind, event.operator, event.subject) == (
        AuditKind.PROMPT_CREATED,
        "di",
        "Newsletter (copy)",
    )
    assert event.after == copy.to_dict() and event.after["id"] != saved.id


def test_a_refused_prompt_records_nothing(console: Console) -> None:
    from connector import InputError

    with pytest.raises(InputError):
        console.save_prompt(Prompt(name="  "), operator="ana")
    assert console.audit.page() == []


# -- accounts and the sandbox ---------------------------------------------------------------------


def test_saving_an_account_records_its_host_and_masked_key_only(
    console: Console, server: SandboxServer
) -> None:
    console.save_account(server.base_url, f"  {CANARY} ", operator="ana")
    host = server.base_url.split("//")[1]
    event = only(console)
    assert (event.kind, event.operator, event.source) == (AuditKind.ACCOUNT_SAVED, "ana", "setup")
    assert event.subject == host
    assert event.summary == f"Saved account {host}, key ••••••••{CANARY[-4:]}."
    assert event.before is None
    assert event.after == {
        "api_url": server.base_url,
        "host": host,
        "masked_key": f"••••••••{CANARY[-4:]}",
    }
    assert console.account().api_key == CANARY  # the change itself was made


def test_replacing_an_account_says_what_changed(console: Console, server: SandboxServer) -> None:
    other_key = "second-account-key-0042"
    with Sandbox(api_key=other_key) as other, SandboxServer(other) as second:
        console.save_account(server.base_url, CANARY)
        console.save_account(second.base_url, other_key, operator="bo")
        event = console.audit.page()[0]
        assert event.summary == (
            f"API URL: {server.base_url} → {second.base_url}; "
            f"key: ••••••••{CANARY[-4:]} → ••••••••0042"
        )
        assert event.before is not None and event.before["masked_key"].endswith(CANARY[-4:])
        console.save_account(second.base_url, other_key)
        assert console.audit.page()[0].summary.endswith("again (same URL and key).")


def test_a_refused_account_records_nothing(console: Console, server: SandboxServer) -> None:
    from connector import AuthError

    with pytest.raises(AuthError):
        console.save_account(server.base_url, "not-the-key", operator="ana")
    assert console.audit.page() == []


def test_switching_to_the_sandbox_records_the_account_kept(
    console: Console, server: SandboxServer
) -> None:
    console.save_account(server.base_url, CANARY)
    console.use_sandbox(operator="cy", source="cli")
    assert console.account().is_sandbox
    event = console.audit.page()[0]
    host = server.base_url.split("//")[1]
    assert (event.kind, event.operator, event.source, event.subject) == (
        AuditKind.ACCOUNT_SWITCHED,
        "cy",
        "cli",
        "sandbox",
    )
    assert event.summary == (
        f"Switched to the sandbox; the saved account {host} (key ••••••••{CANARY[-4:]}) "
        "is kept for switching back."
    )
    assert event.before == {
        "api_url": server.base_url,
        "host": host,
        "masked_key": f"••••••••{CANARY[-4:]}",
    }
    console.use_saved_account(operator="cy")
    assert not console.account().is_sandbox
    assert console.audit.page()[0].summary == (
        f"Switched back to the saved account {host} (key ••••••••{CANARY[-4:]})."
    )
    console.forget_account(operator="cy")
    assert console.account().is_sandbox and console.settings.account() is None
    assert console.audit.page()[0].summary == (
        f"Removed the saved account {host} (key ••••••••{CANARY[-4:]}); the sandbox is in use."
    )
    console.forget_account()  # nothing saved: nothing recorded
    assert len(console.audit.page()) == 4
    console.use_sandbox()
    assert console.audit.page()[0].summary == "Switched to the sandbox (no account was saved)."


def test_resetting_the_sandbox_is_recorded(console: Console) -> None:
    console.refresh_catalog((CatalogKind.LISTS,))
    assert console.catalog.refreshed_at("sandbox", CatalogKind.LISTS) is not None
    console.reset_sandbox(operator="di")
    assert console.catalog.refreshed_at("sandbox", CatalogKind.LISTS) is None
    event = only(console)
    assert (event.kind, event.operator, event.source, event.subject) == (
        AuditKind.SANDBOX_RESET,
        "di",
        "setup",
        "sandbox",
    )
    assert event.summary.startswith("Reset the sandbox to its seeded demo account")


def test_log_retention_is_a_kind_with_a_generic_summary(console: Console) -> None:
    event = console.audit.record(
        AuditKind.LOG_RETENTION,
        "action_log",
        before={"rows": 12000, "older_than": "2024-01-01"},
        after={"rows": 200, "older_than": "2024-01-01"},
        operator="ops",
        source="cli",
    )
    assert event.summary == "Log retention: rows: 12,000 → 200"
    assert console.audit.page(kinds=("log_retention",)) == [event]


# -- the key is never stored ----------------------------------------------------------------------


def _file_bytes(db_path: Path) -> bytes:
    wal = Path(f"{db_path}-wal")
    return db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_the_api_key_is_never_stored_in_the_audit_trail(
    console: Console, server: SandboxServer
) -> None:
    with Sandbox(api_key="another-key-5555") as other, SandboxServer(other) as second:
        console.save_account(server.base_url, CANARY, operator="ana")
        console.save_account(second.base_url, "another-key-5555", operator="ana")  # before: canary
        console.save_account(server.base_url, CANARY, operator="ana")  # after: canary again
    console.forget_account(operator="ana")  # before: the canary's account

    with console.db.read() as conn:
        rows = conn.execute("SELECT * FROM audit_events").fetchall()
    assert len(rows) == 4
    for row in rows:
        for value in row:
            assert CANARY not in str(value)
            assert CANARY[:-4] not in str(value)  # nor the part the mask hides
    assert all(CANARY[-4:] in str(row) for row in rows)  # the masked key is there

    # The settings row held the key until the account was removed. With the WAL checkpointed
    # and deleted content zeroed, nothing may hold it any more: the audit rows are still there.
    db_path = console.db.path
    assert b"Removed the saved account" in _file_bytes(db_path)
    assert CANARY.encode() not in _file_bytes(db_path)
    assert CANARY[:-4].encode() not in _file_bytes(db_path)


def test_a_careless_record_still_masks_the_key(console: Console) -> None:
    # Under a key-like name, masked without being told.
    console.audit.record(
        AuditKind.ACCOUNT_SAVED,
        "acct",
        before={"api_key": CANARY, "nested": [{"token": CANARY}]},
        after={"API_KEY": CANARY},
    )
    # Anywhere else, masked when named as a secret.
    console.audit.record(
        AuditKind.ACCOUNT_SAVED,
        f"acct with {CANARY}",
        before={"note": [f"key is {CANARY}"]},
        after={"url": f"https://x/?k={CANARY}"},
        secrets=(CANARY,),
    )
    with console.db.read() as conn:
        rows = conn.execute("SELECT * FROM audit_events").fetchall()
    assert len(rows) == 2
    assert not any(CANARY[:-4] in str(value) for row in rows for value in row)
    assert json.loads(rows[0][7])["api_key"] == f"••••••••{CANARY[-4:]}"


# -- reading ------------------------------------------------------------------------------------


def test_pages_are_newest_first_and_keyset_on_id(console: Console) -> None:
    kinds = [AuditKind.PROMPT_CREATED, AuditKind.SANDBOX_RESET] * 3 + [AuditKind.PROMPT_CREATED]
    made = [
        console.audit.record(kind, f"s{n}", before=None, after={"n": n}, operator="ana")
        for n, kind in enumerate(kinds)
    ]
    ids = [e.id for e in made]
    assert ids == sorted(ids)

    seen: list[int] = []
    cursor: int | None = None
    while page := console.audit.page(limit=3, before_id=cursor):
        assert len(page) <= 3
        seen += [e.id for e in page]
        cursor = page[-1].id
    assert seen == ids[::-1]

    resets = console.audit.page(kinds=("sandbox_reset",))
    assert [e.id for e in resets] == [e.id for e in made if e.kind == "sandbox_reset"][::-1]
    assert [
        e.id for e in console.audit.page(limit=2, before_id=resets[0].id, kinds=("sandbox_reset",))
    ] == [
        resets[1].id,
        resets[2].id,
    ]
    assert console.audit.page(kinds=("prompt_edited",)) == []
    assert console.audit.page(limit=0) == []
    # What a page reads back is what was recorded.
    assert console.audit.page(limit=1)[0] == made[-1]


def test_an_event_as_json(console: Console) -> None:
    console.save_prompt(newsletter(), operator="ana")
    event = console.audit.page()[0]
    data = json.loads(json.dumps(event.to_dict()))
    assert data["kind"] == "prompt_created" and data["operator"] == "ana"
    assert set(data) == {
        "id",
        "at",
        "operator",
        "source",
        "kind",
        "subject",
        "summary",
        "before",
        "after",
    }
    assert data["after"]["name"] == "Newsletter"


# -- pages --------------------------------------------------------------------------------------


def run_page(name: str, operator: str) -> AppTest:
    """One page alone on ``data_dir``'s file, after seeding the demo prompts, with ``operator``
    typed in the sidebar."""
    with closing(Console()) as console:
        console.seed_demo_prompts()

    def page(module: str) -> None:
        import importlib

        importlib.import_module(f"pages.{module}").render()

    at = AppTest.from_function(page, args=(name,), default_timeout=TIMEOUT)
    at.session_state["operator"] = operator
    return at.run()


def button(at: AppTest, label: str):  # noqa: ANN201
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r} in {[b.label for b in at.button]}"
    return matches[0]


def events(data_dir: Path) -> list[AuditEvent]:
    with closing(Console(data_dir / "connector.db")) as console:
        return console.audit.page()


def test_saving_a_prompt_on_the_page_records_the_operator(data_dir: Path) -> None:
    at = run_page("prompts", operator="  Dana  ")
    prompt_id = at.selectbox(key="prompt_pick").value
    name = next(
        p.name for p in Console(data_dir / "connector.db").prompts.all() if p.id == prompt_id
    )
    at.text_input(key=f"p{prompt_id}.headline").input("Edited by Dana").run()
    button(at, "Save prompt").click().run()
    assert not at.exception

    event = events(data_dir)[0]
    assert (event.kind, event.operator, event.source, event.subject) == (
        AuditKind.PROMPT_EDITED,
        "Dana",
        "prompts",
        name,
    )
    assert event.summary.startswith("headline: ") and event.summary.endswith("→ “Edited by Dana”")


def test_duplicate_and_delete_on_the_page_are_recorded(data_dir: Path) -> None:
    at = run_page("prompts", operator="Eve")
    button(at, "Duplicate").click().run()
    copy_id = at.selectbox(key="prompt_pick").value
    copy = Console(data_dir / "connector.db").prompts.get(copy_id)
    assert copy is not None and copy.name.endswith("(copy)")
    at.button(key="confirm_delete").click().run()
    assert not at.exception

    deleted, created = events(data_dir)[:2]
    assert (created.kind, created.operator, created.subject) == (
        AuditKind.PROMPT_CREATED,
        "Eve",
        copy.name,
    )
    assert (deleted.kind, deleted.operator, deleted.subject) == (
        AuditKind.PROMPT_DELETED,
        "Eve",
        copy.name,
    )


def test_the_setup_page_records_save_switch_and_reset(
    data_dir: Path, server: SandboxServer
) -> None:
    at = run_page("setup", operator="Finn")
    at.text_input(key="setup_url").input(server.base_url)
    next(t for t in at.text_input if t.label == "API key").input(CANARY)
    button(at, "Save").click().run()
    button(at, "Switch to the sandbox").click().run()
    at.checkbox(key="reset_ok").check().run()
    button(at, "Reset the sandbox").click().run()
    assert not at.exception

    reset, switched, saved = events(data_dir)[:3]
    assert [e.kind for e in (saved, switched, reset)] == [
        AuditKind.ACCOUNT_SAVED,
        AuditKind.ACCOUNT_SWITCHED,
        AuditKind.SANDBOX_RESET,
    ]
    assert {e.operator for e in (saved, switched, reset)} == {"Finn"}
    assert {e.source for e in (saved, switched, reset)} == {"setup"}
    assert CANARY not in json.dumps([e.to_dict() for e in events(data_dir)])
