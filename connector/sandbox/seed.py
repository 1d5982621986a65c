"""The demo account every new sandbox starts from.

Everything here is deterministic (no clock, no randomness), so ``reset()`` gives back exactly the
same account and tests can rely on names and ids. Rows are plain tuples in the column order of
``store.SCHEMA``, ready for ``executemany``: a 10,000-list account seeds in well under a second.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from .clock import utc_text

Row = tuple[object, ...]

# The user the API key belongs to (GET /users/me). Users never change, so they need no table.
DEMO_USER: dict[str, str] = {
    "id": "1",
    "username": "sandy",
    "firstName": "Sandy",
    "lastName": "Box",
    "email": "sandbox@example.com",
    "phone": "",
}


@dataclass(frozen=True)
class SeedSpec:
    """How big the seeded demo account is."""

    lists: int = 48
    automations: int = 8
    fields: int = 5  # the five demo fields (one per type) come first; more are generated
    tags: int = 10
    contacts: int = 4

    def __post_init__(self) -> None:
        for name in ("lists", "automations", "fields", "tags", "contacts"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"SeedSpec.{name} must be a whole number >= 0, got {value!r}")


@dataclass
class SeedData:
    """Rows per table, in insertion order."""

    lists: list[Row] = field(default_factory=list)
    automations: list[Row] = field(default_factory=list)
    fields: list[Row] = field(default_factory=list)
    field_options: list[Row] = field(default_factory=list)
    field_rels: list[Row] = field(default_factory=list)
    tags: list[Row] = field(default_factory=list)
    contacts: list[Row] = field(default_factory=list)
    field_values: list[Row] = field(default_factory=list)
    contact_lists: list[Row] = field(default_factory=list)
    contact_automations: list[Row] = field(default_factory=list)
    contact_tags: list[Row] = field(default_factory=list)


# Seeded objects were "created" an hour apart from this moment on, oldest first.
EPOCH = datetime(2024, 1, 8, 14, 0, tzinfo=UTC)

LIST_NAMES = (
    "Newsletter",
    "Product updates",
    "Beta testers",
    "Webinar attendees",
    "Customers",
    "Trial users",
    "Partners",
    "Event invitations",
    "Blog digest",
    "Release notes",
    "Onboarding",
    "VIP customers",
    "Enterprise leads",
    "Developers",
    "Community",
    "Podcast listeners",
    "Case studies",
    "Survey panel",
    "Agency partners",
    "Marketing qualified leads",
    "Sales qualified leads",
    "Investors",
    "Press",
    "Affiliates",
    "Churned customers",
    "Students",
    "Nonprofits",
    "Early access",
    "Feature requests",
    "Customer advisory board",
)
# Qualifiers make further names distinct the way real accounts do: by region, language, segment.
QUALIFIERS = (
    "North America",
    "EMEA",
    "APAC",
    "LATAM",
    "Spanish",
    "French",
    "German",
    "Japanese",
    "SMB",
    "Mid-market",
    "Enterprise",
    "Archive",
)

# (name, status 1 active / 2 inactive, multientry 0/1): the first eight mix every combination.
AUTOMATIONS = (
    ("Welcome series", 1, 0),
    ("Trial nurture", 1, 0),
    ("Abandoned cart reminder", 1, 1),
    ("Re-engagement campaign", 2, 0),
    ("Webinar follow-up", 1, 1),
    ("Renewal reminder", 2, 1),
    ("Upgrade to annual plan", 1, 0),
    ("Win-back", 2, 0),
    ("NPS survey", 1, 1),
    ("Birthday greeting", 2, 1),
    ("Event reminder", 1, 1),
    ("Onboarding tips", 1, 0),
)

# (title, type, perstag, options): one field per common type, as the console's form mapping needs.
DEMO_FIELDS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("Company", "text", "COMPANY", ()),
    ("Plan", "dropdown", "PLAN", ("Free", "Starter", "Pro", "Enterprise")),
    ("Signup Date", "date", "SIGNUP_DATE", ()),
    ("Use Case", "textarea", "USE_CASE", ()),
    ("Interests", "checkbox", "INTERESTS", ("Product news", "Webinars", "Case studies", "Beta")),
)
GENERATED_FIELD_TYPES = ("text", "textarea", "dropdown", "radio", "checkbox", "date", "hidden")
GENERATED_OPTIONS = ("Option A", "Option B", "Option C")

TAGS = (
    ("customer", "Paying customer"),
    ("trial", "Started a free trial"),
    ("beta-tester", "Joined the beta programme"),
    ("webinar-attendee", "Attended at least one webinar"),
    ("newsletter", "Reads the newsletter"),
    ("vip", "Account with a dedicated manager"),
    ("churn-risk", "Usage dropped in the last 30 days"),
    ("enterprise", "Enterprise plan"),
    ("partner", "Agency or reseller partner"),
    ("prompt-engaged", "Clicked an in-app prompt"),
)

PEOPLE = (
    ("Ada", "Lovelace", "Analytical Engines Ltd"),
    ("Grace", "Hopper", "Harvard Mark I"),
    ("Alan", "Turing", "Bletchley Park"),
    ("Katherine", "Johnson", "Langley Research"),
    ("Margaret", "Hamilton", "Apollo Guidance"),
    ("Edsger", "Dijkstra", "Mathematisch Centrum"),
    ("Barbara", "Liskov", "Venus Systems"),
    ("Donald", "Knuth", "TeX Users Group"),
)


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def hour(index: int) -> str:
    return utc_text(EPOCH + timedelta(hours=index))


def contact_hash(email: str) -> str:
    """Stand-in for the API's opaque 32-hex contact hash, stable across resets."""
    return hashlib.md5(email.lower().encode()).hexdigest()


def variant(names: tuple[str, ...], index: int, qualifiers: tuple[str, ...] = QUALIFIERS) -> str:
    """The index-th distinct name: the bare names first, then each qualified, then cohorts."""
    base = names[index % len(names)]
    tier = index // len(names)
    if tier == 0:
        return base
    qualifier = qualifiers[(tier - 1) % len(qualifiers)]
    cohort = (tier - 1) // len(qualifiers)
    return f"{base} ({qualifier})" if cohort == 0 else f"{base} ({qualifier}, cohort {cohort + 1})"


def build(spec: SeedSpec) -> SeedData:
    data = SeedData()
    _lists(spec, data)
    _automations(spec, data)
    _fields(spec, data)
    _tags(spec, data)
    _contacts(spec, data)
    return data


def _lists(spec: SeedSpec, data: SeedData) -> None:
    # columns: id, name, stringid, sender_url, sender_reminder, cdate, udate
    for i in range(spec.lists):
        name = variant(LIST_NAMES, i)
        reminder = f"You are receiving this because you joined {name} at example.com."
        data.lists.append((i + 1, name, slug(name), "https://example.com", reminder, hour(i), None))


def _automations(spec: SeedSpec, data: SeedData) -> None:
    # columns: id, name, status, multientry, entered, exited, blocks, cdate, mdate
    names = tuple(name for name, _, _ in AUTOMATIONS)
    for i in range(spec.automations):
        _, status, multientry = AUTOMATIONS[i % len(AUTOMATIONS)]
        entered = 12 + (i * 37) % 250
        exited = entered * 4 // 5
        row = (i + 1, variant(names, i), status, multientry, entered, exited, 3 + i % 4)
        data.automations.append((*row, hour(i), hour(i + 30)))


def _fields(spec: SeedSpec, data: SeedData) -> None:
    # fields: id, title, type, perstag, descript, isrequired, defval, ordernum, cdate, udate
    # field_options: id, field_id, orderid, value, label, isdefault, cdate
    # field_rels: id, field_id, relid, dorder, cdate   (relid 0 = shown on all lists)
    for i in range(spec.fields):
        field_id = i + 1
        if i < len(DEMO_FIELDS):
            title, kind, perstag, options = DEMO_FIELDS[i]
        else:
            title = f"Custom field {field_id}"
            kind = GENERATED_FIELD_TYPES[i % len(GENERATED_FIELD_TYPES)]
            perstag = f"CUSTOM_FIELD_{field_id}"
            needs_options = kind in ("dropdown", "radio", "checkbox")
            options = GENERATED_OPTIONS if needs_options else ()
        created = hour(i)
        data.fields.append((field_id, title, kind, perstag, None, 0, None, i + 1, created, created))
        for order, label in enumerate(options, start=1):
            option_id = len(data.field_options) + 1
            data.field_options.append((option_id, field_id, order, label, label, 0, created))
        data.field_rels.append((field_id, field_id, 0, 0, created))


def _tags(spec: SeedSpec, data: SeedData) -> None:
    # columns: id, tag, tag_type, description, cdate
    names = tuple(name for name, _ in TAGS)
    for i in range(spec.tags):
        _, description = TAGS[i % len(TAGS)]
        tier = i // len(TAGS)
        name = names[i % len(names)] if tier == 0 else f"{names[i % len(names)]}-{tier + 1}"
        data.tags.append((i + 1, name, "contact", description, hour(i)))


def _contacts(spec: SeedSpec, data: SeedData) -> None:
    # contacts: id, email, email_key, first_name, last_name, phone, hash, cdate, udate
    for i in range(spec.contacts):
        first, last, company = PEOPLE[i % len(PEOPLE)]
        tier = i // len(PEOPLE)
        local = f"{first}.{last}".lower() + (str(tier + 1) if tier else "")
        email = f"{local}@example.com"
        phone = f"+1 555 01{i % 100:02d}" if i % 2 == 0 else ""
        created = hour(100 + i)
        contact_id = i + 1
        data.contacts.append(
            (
                contact_id,
                email,
                email.lower(),
                first,
                last,
                phone,
                contact_hash(email),
                created,
                created,
            )
        )
        _contact_activity(spec, data, contact_id, i, company, created)


def _contact_activity(
    spec: SeedSpec, data: SeedData, contact_id: int, index: int, company: str, created: str
) -> None:
    """Give seeded contacts a plausible history so every read endpoint has something to show.

    Four patterns repeat: subscribed to two lists and mid-automation; unsubscribed and finished an
    automation; subscribed to one list; brand new with nothing at all.
    """
    pattern = index % 4

    def pick(count: int, offset: int) -> int | None:
        return (index + offset) % count + 1 if count else None

    list_plan: dict[int, int] = {}  # list id -> status; a dict keeps (contact, list) unique
    if pattern == 0:
        for offset in (0, 1):
            if (list_id := pick(spec.lists, offset)) is not None:
                list_plan.setdefault(list_id, 1)
    elif pattern == 1 and (list_id := pick(spec.lists, 0)) is not None:
        list_plan[list_id] = 2
    elif pattern == 2 and (list_id := pick(spec.lists, 2)) is not None:
        list_plan[list_id] = 1
    for list_id, status in list_plan.items():
        unsubscribed = created if status == 2 else None
        # columns: id, contact_id, list_id, status, sourceid, sdate, udate, created, updated
        row = (len(data.contact_lists) + 1, contact_id, list_id, status, 0, created, unsubscribed)
        data.contact_lists.append((*row, created, unsubscribed or created))

    automation_id = pick(spec.automations, 0) if pattern in (0, 1) else None
    if automation_id is not None:
        blocks = 3 + (automation_id - 1) % 4
        done = pattern == 1
        # columns: id, contact_id, automation_id, status, adddate, remdate, lastblock, lastdate,
        #          completed_elements, total_elements
        data.contact_automations.append(
            (
                len(data.contact_automations) + 1,
                contact_id,
                automation_id,
                2 if done else 1,
                created,
                created if done else None,
                blocks if done else 1,
                created,
                blocks if done else 1,
                blocks,
            )
        )

    if pattern in (0, 1) and (tag_id := pick(spec.tags, pattern)) is not None:
        # columns: id, contact_id, tag_id, cdate
        data.contact_tags.append((len(data.contact_tags) + 1, contact_id, tag_id, created))

    for field_id, value in _demo_values(spec, pattern, company):
        # columns: id, contact_id, field_id, value, cdate, udate
        data.field_values.append(
            (len(data.field_values) + 1, contact_id, field_id, value, created, created)
        )


def _demo_values(spec: SeedSpec, pattern: int, company: str) -> Iterator[tuple[int, str]]:
    """Values for the five demo fields, in the formats the API stores (api.md §3.5)."""
    if pattern == 3:
        return
    wanted = {
        1: company,
        2: "Pro" if pattern == 0 else "Starter",
        3: "2024-01-15",
        4: "Wants to nudge trial users towards the annual plan.",
        5: "||Product news||Webinars||",
    }
    count = 5 if pattern == 0 else 2
    for field_id in range(1, min(count, spec.fields, len(DEMO_FIELDS)) + 1):
        yield field_id, wanted[field_id]
