"""The Simulator's drawing of a prompt, the way its Engage type appears on a site.

A mock page (grey lines standing for the site's content) holds the prompt where its type puts
it: a modal or interstitial centred over the dimmed page, a bottom banner pinned below the
content, a text bar above it, a notification in a corner, a vertical panel beside it, a
horizontal banner and a tile in place within it, and an invisible prompt as no UI at all.

Everything the operator typed is shown as typed: the headline and body with ``st.text``, which
parses neither Markdown nor HTML; the button and input labels, which Streamlit reads as Markdown,
through ``as_markdown_text``; placeholders and choice options are plain text already. The
layout comes from CSS on keyed containers (``.st-key-…``), written here and nowhere else; no user
text ever goes into it. The buttons are real buttons: each runs its interaction through
``on_click``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import streamlit as st

from connector import InputKind, Interaction, Prompt, PromptType
from connector.engage.display import as_markdown_text

Click = Callable[[Prompt, Interaction], None]

_CSS = """
<style>
.st-key-mock_page { background: #f3f4f6; border: 1px solid #e5e7eb; border-radius: 8px;
  padding: 12px 16px; gap: 0.6rem; }
.st-key-mock_dim { background: #4b5563; border-radius: 8px; padding: 24px 12px; gap: 0.6rem; }
[class*="st-key-mock_line_"] { height: 10px; min-height: 10px; border-radius: 5px;
  background: #d1d5db; }
[class*="st-key-mock_line_"][class*="_w1"] { width: 80%; }
[class*="st-key-mock_line_"][class*="_w2"] { width: 60%; }
.st-key-mock_dim [class*="st-key-mock_line_"] { background: #6b7280; }
.st-key-prompt_box { background: #ffffff; border: 1px solid #d1d5db; border-radius: 10px;
  padding: 16px 18px; box-shadow: 0 10px 30px rgba(0, 0, 0, 0.25); }
.st-key-prompt_strip { background: #eef2ff; border: 1px solid #c7d2fe; border-radius: 6px;
  padding: 10px 14px; box-shadow: 0 4px 14px rgba(0, 0, 0, 0.12); }
.st-key-prompt_headline [data-testid="stText"] { font-size: 1.35rem; font-weight: 700;
  line-height: 1.3; }
.st-key-prompt_strip .st-key-prompt_headline [data-testid="stText"] { font-size: 1rem; }
.st-key-prompt_video { background: #111827; border-radius: 6px; min-height: 120px;
  align-items: center; justify-content: center; }
.st-key-prompt_video * { color: #e5e7eb !important; }
</style>
"""


def draw(prompt: Prompt, click: Click, errors: dict[int, str]) -> None:
    """Draw ``prompt`` on a mock page; ``errors`` are shown under their form inputs."""
    st.html(_CSS)
    lines = _Lines()
    kind = prompt.prompt_type
    st.caption(f"{kind.label} preview: how it sits on a page")
    if kind is PromptType.INVISIBLE:
        with st.container(border=True):
            st.info("No UI: an invisible prompt shows nothing. Its actions run on trigger.")
            _inputs(prompt, errors)
            st.button(
                "Trigger",
                type="primary",
                key="sim_trigger",
                on_click=click,
                args=(prompt, Interaction.ACCEPT),
            )
        return
    if kind in (PromptType.MODAL, PromptType.INTERSTITIAL, PromptType.VIDEO):
        with st.container(key="mock_dim"):
            lines(2)
            width = [1, 8, 1] if kind is PromptType.INTERSTITIAL else [1, 3, 1]
            _, middle, _ = st.columns(width)
            with middle, st.container(key="prompt_box"):
                _card(prompt, click, errors)
            lines(2)
        return
    with st.container(key="mock_page"):
        if kind is PromptType.TEXT_BAR:
            _strip(prompt, click, errors)
            lines(3)
        elif kind is PromptType.BOTTOM_BANNER:
            lines(4)
            _strip(prompt, click, errors)
        elif kind is PromptType.HORIZONTAL_BANNER:
            lines(2)
            _strip(prompt, click, errors)
            lines(2)
        elif kind is PromptType.VERTICAL_PANEL:
            content, panel = st.columns([3, 1.3])
            with content:
                lines(4)
            with panel, st.container(key="prompt_box"):
                _card(prompt, click, errors)
        elif kind is PromptType.NOTIFICATION:
            lines(3)
            _, corner = st.columns([2, 1.2])
            with corner, st.container(key="prompt_box"):
                _card(prompt, click, errors)
        else:  # a tile, in place among the page's other tiles
            lines(1)
            first, tile, last = st.columns(3)
            for other in (first, last):
                with other, st.container(border=True):
                    lines(2)
            with tile, st.container(key="prompt_box"):
                _card(prompt, click, errors)


class _Lines:
    """Grey bars standing for the page's own content; each needs a key of its own."""

    def __init__(self) -> None:
        self.drawn = 0

    def __call__(self, count: int) -> None:
        for _ in range(count):
            # A fixed height: an empty container of "content" height is not drawn at all.
            st.container(key=f"mock_line_{self.drawn}_w{self.drawn % 3}", height=10, border=False)
            self.drawn += 1


def _card(prompt: Prompt, click: Click, errors: dict[int, str]) -> None:
    head, close = st.columns([8, 1], vertical_alignment="top")
    with head, st.container(key="prompt_headline"):
        st.text(prompt.headline or "(no headline)")
    with close:
        _close(prompt, click)
    if prompt.prompt_type is PromptType.VIDEO:
        with st.container(key="prompt_video"):
            st.text("▶ The video plays here")
    if prompt.body:
        st.text(prompt.body)
    _inputs(prompt, errors)
    _buttons(prompt, click)


def _strip(prompt: Prompt, click: Click, errors: dict[int, str]) -> None:
    """A banner or bar: one strip, the text on the left, the buttons on the right."""
    with st.container(key="prompt_strip"):
        text, actions, close = st.columns([5, 4, 0.5], vertical_alignment="center")
        with text:
            with st.container(key="prompt_headline"):
                st.text(prompt.headline or "(no headline)")
            if prompt.body:
                st.text(prompt.body)
            _inputs(prompt, errors)
        with actions:
            _buttons(prompt, click)
        with close:
            _close(prompt, click)


def _close(prompt: Prompt, click: Click) -> None:
    st.button(
        "",
        icon=":material/close:",
        type="tertiary",
        key="sim_dismiss",
        help="Close (Dismiss)",
        on_click=click,
        args=(prompt, Interaction.DISMISS),
    )


def _inputs(prompt: Prompt, errors: dict[int, str]) -> None:
    for n, form_input in enumerate(prompt.inputs):
        label = as_markdown_text(form_input.label) + (" *" if form_input.required else "")
        key = f"sim_{prompt.id}_in{n}"
        if form_input.kind is InputKind.CHOICE:
            st.selectbox(label, form_input.options, key=key, index=None, placeholder="Choose")
        else:
            st.text_input(label, key=key, placeholder=form_input.placeholder)
        if n in errors:
            st.error(as_markdown_text(errors[n]), icon=":material/error:")


def _buttons(prompt: Prompt, click: Click) -> None:
    buttons: list[tuple[Interaction, str, Literal["primary", "secondary"]]] = [
        (Interaction.ACCEPT, prompt.accept_label or "Accept", "primary")
    ]
    if prompt.secondary_label:
        buttons.append((Interaction.SECONDARY_ACCEPT, prompt.secondary_label, "secondary"))
    buttons.append((Interaction.DECLINE, prompt.decline_label or "Decline", "secondary"))
    # A row that wraps: the buttons keep their whole labels in a narrow card or a strip.
    with st.container(horizontal=True, wrap=True, gap="small"):
        for interaction, label, kind in buttons:
            st.button(
                as_markdown_text(label),
                key=f"sim_{interaction.value}",
                type=kind,
                on_click=click,
                args=(prompt, interaction),
            )
