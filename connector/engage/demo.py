"""The two example prompts a fresh console starts with, built on the sandbox's catalog."""

from __future__ import annotations

from connector.ac.actions import REGISTRY
from connector.ac.client import AcClient
from connector.core.models import ActionType, ErrorBehaviour, InputKind, Interaction, PromptType
from connector.engage.prompts import ActionConfig, FormInput, Prompt, custom_field_target

__all__ = ["demo_prompts"]


def demo_prompts(client: AcClient) -> list[Prompt]:
    """A newsletter modal (form inputs, Add Contact + Add to List) and a beta banner (no form:
    the email comes from the user's trait; Add to List + Add to Automation)."""
    lists = client.lists()
    automations = [a for a in client.automations() if a.active]
    company = next((f for f in client.fields() if f.type == "text"), None)
    newsletter, beta = lists[0], lists[min(1, len(lists) - 1)]
    signup = Prompt(
        name="Newsletter signup",
        prompt_type=PromptType.MODAL,
        headline="Get product news first",
        body="One short email a month with what shipped and what's next.",
        accept_label="Subscribe",
        decline_label="No thanks",
    )
    signup.map_input(FormInput("Email", "you@example.com", InputKind.EMAIL, True), "email")
    signup.map_input(FormInput("First name", "Ada"), "firstName")
    if company:
        company_input = FormInput(company.name, "Acme Inc.")
        signup.map_input(company_input, custom_field_target(company.id))
    to_list = REGISTRY[ActionType.ADD_TO_LIST]
    signup.actions = {
        Interaction.ACCEPT: [
            ActionConfig(ActionType.ADD_CONTACT),
            ActionConfig(
                ActionType.ADD_TO_LIST, to_list.params_for(newsletter.id, newsletter.name)
            ),
        ]
    }
    beta_actions = [
        ActionConfig(
            ActionType.ADD_TO_LIST, to_list.params_for(beta.id, beta.name), ErrorBehaviour.CONTINUE
        )
    ]
    if automations:
        enroll = REGISTRY[ActionType.ADD_TO_AUTOMATION]
        params = enroll.params_for(automations[0].id, automations[0].name)
        beta_actions.append(ActionConfig(ActionType.ADD_TO_AUTOMATION, params))
    return [
        signup,
        Prompt(
            name="Beta program banner",
            prompt_type=PromptType.BOTTOM_BANNER,
            headline="Try the new editor before everyone else",
            body="Join the beta: we'll email you the invite.",
            accept_label="Join the beta",
            secondary_label="Tell me more",
            decline_label="Not now",
            timeout_seconds=30,
            actions={Interaction.ACCEPT: beta_actions},
        ),
    ]
