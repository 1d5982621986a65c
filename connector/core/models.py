"""Small typed records of ActiveCampaign objects and the vocabulary of Engage's prompts.

ActiveCampaign sends ids, flags and counters as JSON strings (sometimes ints); the ``from_api``
constructors accept both and keep ids as strings, the way the API addresses them. They take any
JSON value and never fail on a missing key or an odd type (a ``null`` name is "", a counter that
is not one is 0); only something that is not an object at all is an ``UnexpectedResponse``.
Whether an answer carries the ids the console needs is the client's verifiers' job (``api_id``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from connector.core.errors import UnexpectedResponse

__all__ = [
    "AcList",
    "ActionType",
    "Automation",
    "CatalogKind",
    "Contact",
    "ErrorBehaviour",
    "Field",
    "InputKind",
    "Interaction",
    "PromptType",
    "Tag",
    "User",
    "api_id",
]


class Interaction(StrEnum):
    """The five interactions of a prompt that can carry actions, in Engage's order."""

    ACCEPT = "accept"
    SECONDARY_ACCEPT = "secondary_accept"
    DECLINE = "decline"
    DISMISS = "dismiss"
    TIMEOUT = "timeout"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").title()

    @property
    def submits_form(self) -> bool:
        """Only the accepting buttons submit the form; the others carry the user's traits."""
        return self in (Interaction.ACCEPT, Interaction.SECONDARY_ACCEPT)


class PromptType(StrEnum):
    MODAL = "modal"
    INTERSTITIAL = "interstitial"
    HORIZONTAL_BANNER = "horizontal_banner"
    BOTTOM_BANNER = "bottom_banner"
    VERTICAL_PANEL = "vertical_panel"
    TILE = "tile"
    TEXT_BAR = "text_bar"
    NOTIFICATION = "notification"
    VIDEO = "video"
    INVISIBLE = "invisible"

    @property
    def label(self) -> str:
        return "Popup / modal" if self is PromptType.MODAL else self.value.replace("_", " ").title()

    @property
    def has_buttons(self) -> bool:
        return self is not PromptType.INVISIBLE


class InputKind(StrEnum):
    """Validation applied to a form input before anything is sent."""

    EMAIL = "email"
    TEXT = "text"
    PHONE = "phone"
    NUMBER = "number"
    DATE = "date"  # YYYY-MM-DD, as ActiveCampaign stores date fields
    CHOICE = "choice"  # one of the input's options (a dropdown, radio or checkbox field's)

    @property
    def label(self) -> str:
        return self.value.title()


class ActionType(StrEnum):
    """What an interaction can do in ActiveCampaign; ``actions.REGISTRY`` says how."""

    ADD_CONTACT = "add_contact"
    ADD_TO_LIST = "add_to_list"
    ADD_TO_AUTOMATION = "add_to_automation"
    ADD_TAG = "add_tag"
    UPDATE_CONTACT = "update_contact"
    UNSUBSCRIBE = "unsubscribe_from_list"
    REMOVE_FROM_AUTOMATION = "remove_from_automation"
    REMOVE_TAG = "remove_tag"


class ErrorBehaviour(StrEnum):
    STOP = "stop"
    CONTINUE = "continue"


class CatalogKind(StrEnum):
    LISTS = "lists"
    AUTOMATIONS = "automations"
    FIELDS = "fields"
    TAGS = "tags"


_ID = re.compile(r"[0-9]{1,20}")


def api_id(value: Any) -> str | None:
    """An object's id as the API addresses it (a string of digits; some answers send an int),
    or None when ``value`` is not one (missing, null, "", a float, text, an object...)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) if 0 <= value < 10**20 else None
    if isinstance(value, str) and _ID.fullmatch(value):
        return value
    return None


def _str(value: Any) -> str:
    """A text field: "" for null (and for an object or array, which no text field holds)."""
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value)


def _int(value: Any, default: int = 0) -> int:
    """A counter or flag ("2", 2, 2.0); ``default`` for anything else (null, "x", 1e999...)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return int(value) if math.isfinite(value) and value.is_integer() else default
    if isinstance(value, str):
        value = value.strip()
        if len(value) > 20:  # int() of a 4,300-digit string is refused only after a while
            return default
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return default


def _object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise UnexpectedResponse(
            f"ActiveCampaign sent {what} that is not an object ({type(data).__name__}). "
            "Nothing was changed. Try again; if it persists, check that the API URL is the one "
            "from Settings > Developer."
        )
    return data


@dataclass(frozen=True)
class User:
    id: str
    username: str
    first_name: str
    last_name: str
    email: str

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.username

    @classmethod
    def from_api(cls, data: Any) -> User:
        data = _object(data, "the user")
        return cls(
            id=_str(data.get("id")),
            username=_str(data.get("username")),
            first_name=_str(data.get("firstName")),
            last_name=_str(data.get("lastName")),
            email=_str(data.get("email")),
        )


@dataclass(frozen=True)
class AcList:
    id: str
    name: str
    stringid: str
    created: str

    @classmethod
    def from_api(cls, data: Any) -> AcList:
        data = _object(data, "a list")
        return cls(
            id=_str(data.get("id")),
            name=_str(data.get("name")),
            stringid=_str(data.get("stringid")),
            created=_str(data.get("cdate")),
        )


@dataclass(frozen=True)
class Automation:
    id: str
    name: str
    active: bool
    entered: int
    multientry: bool

    @classmethod
    def from_api(cls, data: Any) -> Automation:
        data = _object(data, "an automation")
        return cls(
            id=_str(data.get("id")),
            name=_str(data.get("name")),
            active=_int(data.get("status")) == 1,
            entered=_int(data.get("entered")),
            multientry=_int(data.get("multientry")) == 1,
        )


@dataclass(frozen=True)
class Field:
    """A custom field. ``options`` are the values a dropdown, radio, checkbox or list box field
    accepts (from the ``fieldOptions`` the API sideloads); checkbox and list box fields take
    several, stored as ``||a||b||``."""

    id: str
    name: str
    type: str
    perstag: str
    options: tuple[str, ...] = ()

    @property
    def multiple(self) -> bool:
        return self.type in ("checkbox", "listbox")

    @property
    def input_kind(self) -> InputKind:
        """The validation a form input filling this field needs."""
        if self.options:
            return InputKind.CHOICE
        if self.type in ("date", "datetime"):
            return InputKind.DATE
        return InputKind.TEXT

    @classmethod
    def from_api(cls, data: Any, options: tuple[str, ...] = ()) -> Field:
        data = _object(data, "a custom field")
        return cls(
            id=_str(data.get("id")),
            name=_str(data.get("title")),
            type=_str(data.get("type")),
            perstag=_str(data.get("perstag")),
            options=options,
        )


@dataclass(frozen=True)
class Tag:
    id: str
    name: str
    tag_type: str
    description: str

    @classmethod
    def from_api(cls, data: Any) -> Tag:
        data = _object(data, "a tag")
        return cls(
            id=_str(data.get("id")),
            name=_str(data.get("tag")),
            tag_type=_str(data.get("tagType")),
            description=_str(data.get("description")),
        )


@dataclass(frozen=True)
class Contact:
    id: str
    email: str
    first_name: str
    last_name: str
    phone: str

    @classmethod
    def from_api(cls, data: Any) -> Contact:
        data = _object(data, "a contact")
        return cls(
            id=_str(data.get("id")),
            email=_str(data.get("email")),
            first_name=_str(data.get("firstName")),
            last_name=_str(data.get("lastName")),
            phone=_str(data.get("phone")),
        )
