"""Small builders shared by the runner, duplicate-check and fault tests."""

from __future__ import annotations

from connector import (
    REGISTRY,
    ActionConfig,
    ActionType,
    ErrorBehaviour,
    FormInput,
    InputKind,
    Interaction,
    Prompt,
    custom_field_target,
)

EMAIL_ONLY = [FormInput("Email", kind=InputKind.EMAIL, maps_to="email")]
EMAIL_NAME_COMPANY = [
    *EMAIL_ONLY,
    FormInput("First", maps_to="firstName"),
    FormInput("Company", maps_to=custom_field_target("1")),
]


def action(
    kind: ActionType,
    target: str = "",
    on_error: ErrorBehaviour = ErrorBehaviour.STOP,
    **options: bool,
) -> ActionConfig:
    params = REGISTRY[kind].params_for(target, f"T{target}" if target else "", **options)
    return ActionConfig(kind, params, on_error)


def prompt_with(*actions: ActionConfig, inputs: list[FormInput] | None = None) -> Prompt:
    """A prompt whose Accept carries ``actions``."""
    return Prompt(
        name="Test",
        inputs=list(EMAIL_ONLY if inputs is None else inputs),
        actions={Interaction.ACCEPT: list(actions)},
    )
