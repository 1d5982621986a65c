"""Names an attacker would choose, shared by the Markdown tests and the browser journey: the
sandbox account renamed with them, and a prompt that carries them everywhere a person reads."""

from __future__ import annotations

from connector import (
    REGISTRY,
    ActionConfig,
    ActionType,
    CatalogKind,
    Console,
    FormInput,
    InputKind,
    Interaction,
    Prompt,
    custom_field_target,
)
from connector.sandbox import Sandbox

IMG = '<img src=x onerror="window.__xss=1">'
SCRIPT = "<script>window.__xss=2</script>"
LINK = "[click me](https://evil.example)"
MARKUP = ":red[alarm] **bold** $x^2$"
ICON = ":material/warning: _under_"
HOSTILE = (IMG, SCRIPT, LINK, MARKUP, ICON)
BODY = f"{SCRIPT}\n{MARKUP}\n# not a heading\n- not a list"


def rename_account(sandbox: Sandbox) -> None:
    """The seeded list 1, tag 1, automation 4 (inactive: the editor warns, by name), custom
    field 1 (Company, text) and the first option of Plan, renamed."""
    sandbox.rename("list", "1", IMG)
    sandbox.rename("tag", "1", SCRIPT)
    sandbox.rename("automation", "4", LINK)
    sandbox.rename("field", "1", MARKUP)
    sandbox.rename("field_option", "1", ICON)


def hostile_prompt(console: Console, *, body: str = BODY, operator: str = "") -> Prompt:
    """Every part a visitor or an operator sees carries a hostile string; Accept adds the
    contact to the renamed list, tag and automation by the names the catalog gives them. The
    inputs: the email (labelled ``MARKUP``), then Company and Plan, mapped to the renamed field
    and the field whose option was renamed."""
    console.refresh_catalog()
    catalog = {kind: console.catalog_items(kind) for kind in CatalogKind}
    a_list = next(x for x in catalog[CatalogKind.LISTS] if x.name == IMG)
    tag = next(x for x in catalog[CatalogKind.TAGS] if x.name == SCRIPT)
    automation = next(x for x in catalog[CatalogKind.AUTOMATIONS] if x.name == LINK)
    company = next(x for x in catalog[CatalogKind.FIELDS] if x.name == MARKUP)
    plan = next(x for x in catalog[CatalogKind.FIELDS] if ICON in x.options)

    def action(kind: ActionType, target_id: str, name: str) -> ActionConfig:
        return ActionConfig(kind, REGISTRY[kind].params_for(target_id, name))

    prompt = Prompt(
        name=LINK,
        headline=IMG,
        body=body,
        accept_label=ICON,
        secondary_label=MARKUP,
        decline_label=SCRIPT,
        actions={
            Interaction.ACCEPT: [
                ActionConfig(ActionType.ADD_CONTACT),
                action(ActionType.ADD_TO_LIST, a_list.id, a_list.name),
                action(ActionType.ADD_TAG, tag.id, tag.name),
                action(ActionType.ADD_TO_AUTOMATION, automation.id, automation.name),
            ]
        },
    )
    prompt.map_input(
        FormInput(MARKUP, placeholder=LINK, kind=InputKind.EMAIL, required=True, id="email"),
        "email",
    )
    prompt.map_input(
        FormInput(IMG, placeholder=SCRIPT, id="company"), custom_field_target(company.id)
    )
    prompt.map_input(
        FormInput(ICON, kind=InputKind.CHOICE, options=list(plan.options), id="plan"),
        custom_field_target(plan.id),
    )
    return console.save_prompt(prompt, operator=operator)
