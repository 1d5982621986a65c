"""The console's screens. Each module exposes ``render()`` and draws nothing at import.

``PAGES`` is the one registry: ``app.py`` turns it into ``st.navigation`` and the docs test checks
that every page has a title, an icon and help.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pages import action_log, catalog, prompts, setup, simulator


@dataclass(frozen=True)
class PageSpec:
    render: Callable[[], None]
    title: str
    icon: str
    url_path: str
    help: str
    needs_account: bool  # acts on or reads from the account in effect


PAGES: tuple[PageSpec, ...] = (
    PageSpec(
        setup.render,
        "Setup",
        ":material/settings:",
        "setup",
        "Connect an ActiveCampaign account (API URL + key), or use the built-in sandbox.",
        False,
    ),
    PageSpec(
        catalog.render,
        "Lists & automations",
        ":material/list_alt:",
        "catalog",
        "Browse the account's lists, automations, custom fields and tags.",
        True,
    ),
    PageSpec(
        prompts.render,
        "Prompts",
        ":material/web_asset:",
        "prompts",
        "Design prompts and attach actions to their interactions.",
        True,
    ),
    PageSpec(
        simulator.render,
        "Simulator",
        ":material/play_circle:",
        "simulator",
        "Show a prompt as a user sees it, click it, and see the exact requests and responses.",
        True,
    ),
    PageSpec(
        action_log.render,
        "Action log",
        ":material/history:",
        "action_log",
        "Every action ever taken: filter, inspect, export.",
        False,
    ),
)
