"""The action registry: per action type, its parameters, its request, its proof and its check.

Adding an action is one new ``ActionSpec`` in ``REGISTRY`` (and its entry in the README, which a
test enforces); ``base`` says what a spec is made of.
"""

from connector.ac.actions.automations import ADD_TO_AUTOMATION, REMOVE_FROM_AUTOMATION
from connector.ac.actions.base import (
    CONTACT_ID_PLACEHOLDER,
    ActionSpec,
    OptionSpec,
    ParamSpec,
    PlannedRequest,
    Presence,
    Reads,
    RunContext,
)
from connector.ac.actions.contact import ADD_CONTACT, UPDATE_CONTACT
from connector.ac.actions.lists import ADD_TO_LIST, UNSUBSCRIBE
from connector.ac.actions.tags import ADD_TAG, REMOVE_TAG
from connector.core.models import ActionType

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
