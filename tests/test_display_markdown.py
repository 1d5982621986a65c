"""``as_markdown_text``: what it writes (the rule, exactly), that Markdown reads it back as the
text typed (any text), and that the pages put every name from ActiveCampaign, a prompt or the
log through it (AppTest sees the Markdown a page sends: escaped, never the raw name).

The browser test ``test_browser_hostile_names`` checks the same in Chromium: what shows is what
was typed, and nothing runs."""

from __future__ import annotations

import re
from contextlib import closing
from pathlib import Path

import pytest
from hostile import ICON, IMG, LINK, MARKUP, SCRIPT, hostile_prompt, rename_account
from hypothesis import given
from hypothesis import strategies as hs
from streamlit.testing.v1 import AppTest

from connector import (
    Console,
    Interaction,
    Prompt,
    SimulatedUser,
)
from connector.engage.display import as_markdown_text

ZW = "\u200b"
TIMEOUT = 20


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("Newsletter (EMEA), 50% off!", "Newsletter (EMEA), 50% off!"),  # nothing to do
        (IMG, '\\<img src=x onerror="window.\\_\\_xss=1"\\>'),
        (SCRIPT, "\\<script\\>window.\\_\\_xss=2\\</script\\>"),
        (LINK, f"\\[click me\\](https\\:{ZW}//evil.example)"),
        (MARKUP, f"\\:{ZW}red\\[alarm\\] \\*\\*bold\\*\\* \\$x^2\\$"),
        (ICON, f"\\:{ZW}material/warning: \\_under\\_"),
        ("CONNECTOR_DB is set: use it", "CONNECTOR_DB is set: use it"),  # inside a word
        ("a|b & `c` ~d~", "a\\|b \\& \\`c\\` \\~d\\~"),
        ("back\\slash", "back\\\\slash"),
        (
            "# one\n- two\n+ three\n1. four\n10) five\n===",
            ("\\# one\\\n\\- two\\\n\\+ three\\\n1\\. four\\\n10\\) five\\\n\\==="),
        ),  # fmt: skip
        ("    code\n\tmore", "\u00a0" * 4 + "code\\\n" + "\u00a0" * 4 + "more"),
        ("a\r\nb\rc", "a\\\nb\\\nc"),
        (
            "go -> on <- off -- <= >= ~=",
            f"go -{ZW}\\> on \\<{ZW}- off -{ZW}- \\<{ZW}= \\>{ZW}= \\~{ZW}=",
        ),
        ("www.evil.example ada@example.com", f"www{ZW}.evil.example ada@{ZW}example.com"),
        (":streamlit: :tada: 12:30", f"\\:{ZW}streamlit: \\:{ZW}tada: 12\\:{ZW}30"),
        ("", ""),
    ],
)
def test_the_escaping_rule(typed: str, written: str) -> None:
    assert as_markdown_text(typed) == written


def _read(markdown: str) -> str:
    """What CommonMark makes of ``as_markdown_text``'s Markdown, as text: a backslash before a
    line break is a line break, a backslash before ASCII punctuation is that character; the
    zero-width spaces show nothing and the no-break spaces of an indent show as spaces."""
    text = markdown.replace("\\\n", "\n")
    text = re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)
    return text.replace(ZW, "").replace("\u00a0", " ")


def _as_shown(typed: str) -> str:
    """``typed`` as a reader should see it: one kind of line break, tabs of an indent as spaces."""
    text = typed.replace("\r\n", "\n").replace("\r", "\n")
    return re.sub(r"^[ \t]+", lambda m: " " * len(m.group().expandtabs(4)), text, flags=re.M)


TYPED = hs.text(hs.sampled_from([*"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", *"aZ09 \n\t\r", "é", "“"]))


@given(TYPED)
def test_markdown_reads_back_exactly_what_was_typed(typed: str) -> None:
    assert _read(as_markdown_text(typed)) == _as_shown(typed)


@given(TYPED)
def test_nothing_markdown_acts_on_is_left_unescaped(typed: str) -> None:
    written = as_markdown_text(typed)
    # an active character after an even run of backslashes (none included) acts
    assert not re.search(r"(?<!\\)(?:\\\\)*[`*~\[\]<>&$|]", written), written
    # a colon before a name would start a directive (:red[…]), an icon, an emoji or a URL
    before_name = rf":(?=[^\s{ZW}\\]|\\[^\n])"
    assert not re.search(before_name, written), written
    for line in written.split("\\\n"):
        start = line.lstrip("\u00a0")
        assert not re.match(r"[-+#=]|[0-9]+[.)]", start), line  # lists, headings, underlines


def test_streamlit_sends_the_escaped_text_as_markdown() -> None:
    def draw(values: tuple[str, ...]) -> None:
        import streamlit as st

        from connector.engage.display import as_markdown_text

        for value in values:
            st.markdown(as_markdown_text(value))
            st.button(as_markdown_text(value))

    at = AppTest.from_function(draw, args=((IMG, LINK, MARKUP, ICON),), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    expected = [as_markdown_text(v) for v in (IMG, LINK, MARKUP, ICON)]
    assert [m.value for m in at.markdown] == expected
    assert [b.label for b in at.button] == expected


# -- the pages: every name through the rule ---------------------------------------------------


def _hostile_prompt(console: Console) -> Prompt:
    """The built-in sandbox renamed, and a prompt that carries the names everywhere."""
    rename_account(console.sandbox)
    return hostile_prompt(console, body=MARKUP)


def _page(name: str) -> AppTest:
    def page(module: str) -> None:
        import importlib

        importlib.import_module(f"pages.{module}").render()

    return AppTest.from_function(page, args=(name,), default_timeout=TIMEOUT).run()


def _markdown(at: AppTest) -> list[str]:
    """Everything the page sent as Markdown: text, alerts, headings, labels."""
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in (*at.error, *at.warning, *at.info, *at.success)]
    parts += [h.value for h in (*at.subheader, *at.title)]
    parts += [w.label for w in (*at.button, *at.text_input, *at.expander, *at.checkbox)]
    return [str(p) for p in parts]


def _no_raw(at: AppTest, *names: str) -> None:
    """None of ``names`` reaches Markdown as typed."""
    sent = "\n".join(_markdown(at))
    for name in names:
        assert name not in sent, f"{name!r} sent as Markdown:\n{sent}"


def test_the_simulator_escapes_the_prompt_and_the_names_of_its_run(data_dir: Path) -> None:
    with closing(Console()) as console:
        prompt = _hostile_prompt(console)
    at = _page("simulator")
    at.selectbox(key="sim_prompt").set_value(prompt.id).run()
    labels = [b.label for b in at.button]
    assert [as_markdown_text(x) for x in (ICON, MARKUP, SCRIPT)] == [
        b.label for b in at.button if b.key in ("sim_accept", "sim_secondary_accept", "sim_decline")
    ], labels
    email = at.text_input(key=f"sim_{prompt.id}_in0")
    assert email.label == f"{as_markdown_text(MARKUP)} *"
    assert [t.value for t in at.text] == [IMG, MARKUP]  # headline and body: plain text
    email.input("hostile@example.com")
    at.button(key="sim_accept").click().run()
    assert not at.exception
    assert at.subheader[-1].value == f"Ran Accept on “{as_markdown_text(LINK)}”"
    titles = [e.label for e in at.expander]
    for name, ident in ((IMG, 1), (SCRIPT, 1), (LINK, 4)):
        assert any(f"“{as_markdown_text(name)}” (#{ident})" in t for t in titles), titles
    _no_raw(at, IMG, SCRIPT, LINK, MARKUP, ICON)


def test_the_prompt_editor_escapes_names_in_its_sentences(data_dir: Path) -> None:
    with closing(Console()) as console:
        prompt = _hostile_prompt(console)
    at = _page("prompts")
    at.selectbox(key="prompt_pick").set_value(prompt.id).run()
    warning = f"Accept: Add to Automation “{as_markdown_text(LINK)}”: the automation is inactive"
    assert any(warning in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.button(key="confirm_delete").label == f"Delete “{as_markdown_text(LINK)}”"
    next(b for b in at.button if b.label == "Save prompt").click().run()
    assert at.success[0].value == as_markdown_text(f"Saved “{LINK}”.")
    _no_raw(at, IMG, SCRIPT, LINK, MARKUP, ICON)


def test_the_action_log_escapes_names_in_a_run_an_entry_and_a_contact(data_dir: Path) -> None:
    with closing(Console()) as console:
        prompt = _hostile_prompt(console)
        run = console.runner(operator=f"{MARKUP} op").run(
            prompt, Interaction.ACCEPT, SimulatedUser(), {0: "hostile@example.com"}
        )
        assert {a.target_name for a in run.attempts} == {"", IMG, SCRIPT, LINK}
    at = _page("action_log")
    at.session_state["log_runs_table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert at.subheader[0].value.endswith(f"Accept on “{as_markdown_text(LINK)}”")
    _no_raw(at, IMG, SCRIPT, LINK, MARKUP)

    at.segmented_control(key="log_view").set_value("Actions").run()
    table = at.dataframe[0].value
    assert set(table["Target"]) >= {IMG, SCRIPT, LINK}  # a table cell is plain text: as typed
    row = list(table["Target"]).index(IMG)
    at.session_state[at.session_state["log_table_key"]] = {
        "selection": {"rows": [row], "columns": [], "cells": []}
    }
    at.run()
    assert any(f"→ “{as_markdown_text(IMG)}” (#1)" in m.value for m in at.markdown)
    assert any(f"by {as_markdown_text(MARKUP + ' op')} via" in c.value for c in at.caption)
    _no_raw(at, IMG, SCRIPT, LINK, MARKUP)

    at.segmented_control(key="log_view").set_value("Contact").run()
    at.text_input(key="log_contact").input("hostile@example.com").run()
    sent = "\n".join(m.value for m in at.markdown)
    assert f"on “{as_markdown_text(LINK)}”" in sent and as_markdown_text(SCRIPT) in sent
    _no_raw(at, IMG, SCRIPT, LINK, MARKUP)
