"""The action registry: per action type, its parameters, its request, its proof and its check.

Adding an action is one new ``ActionSpec`` in ``REGISTRY`` (and its entry in the README, which a
test enforces); ``base`` says what a spec is made of.
"""

from ..models import ActionType
from .automations import ADD_TO_AUTOMATION, REMOVE_FROM_AUTOMATION
from .base import (
    CONTACT_ID_PLACEHOLDER,
    ActionSpec,
    OptionSpec,
    ParamSpec,
    PlannedRequest,
    Presence,
    Reads,
    RunContext,
)
from .contact import ADD_CONTACT, UPDATE_CONTACT
from .lists import ADD_TO_LIST, UNSUBSCRIBE
from .tags import ADD_TAG, REMOVE_TAG

__all__ = [
    "CONTACT_ID_PLACEHOLDER",
    "REGISTRY",
    "ActionSpec",
    "OptionSpec",
    "ParamSpec",
    "PlannedRequest",
    "Presence",
    "Reads",
    "RunContext",
]

REGISTRY: dict[ActionType, ActionSpec] = {
    spec.type: spec
    for spec in (
        ADD_CONTACT,
        ADD_TO_LIST,
        ADD_TO_AUTOMATION,
        ADD_TAG,
        UPDATE_CONTACT,
        UNSUBSCRIBE,
        REMOVE_FROM_AUTOMATION,
        REMOVE_TAG,
    )
}
