"""Properties over everything an operator or a user types: the account settings, form inputs,
prompt definitions and log search. Whatever the text (any unicode, control characters, 100 KB,
HTML and script, SQL, FTS5 syntax), the answer is a value or a typed ``ConnectorError`` whose
message is a bounded sentence that never repeats the input at length (nor the key), and nothing
invalid is stored."""

from __future__ import annotations

import ast
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from factories import FakeClock, action, prompt_with, user
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import connector.core.errors
import connector.engage.forms
import connector.engage.prompts
import connector.store.log_query
import connector.store.prompts
import connector.store.settings
from connector import (
    ActionConfig,
    ActionType,
    Console,
    ErrorBehaviour,
    FieldMapping,
    FormInput,
    InputError,
    InputKind,
    Interaction,
    LogFilter,
    Prompt,
    PromptType,
    SettingsError,
    Source,
    validate_form,
)
from connector.core.errors import ConnectorError
from connector.engage.forms import is_valid_email
from connector.engage.prompts import MAX_NAME, name_key
from connector.sandbox import Sandbox
from connector.store.log_query import SearchError, search_expression
from connector.store.settings import parse_api_key, parse_api_url

MESSAGE_MAX = 400  # a refusal is a sentence or two
ECHO_MAX = 60  # the most of the input a refusal may repeat
FAST = settings(
    max_examples=60,
    deadline=None,
    database=None,  # every run draws afresh; the found failures are pinned as @example below
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# -- what is typed ------------------------------------------------------------------------------

PAYLOADS = [
    "'; DROP TABLE action_log; --",
    "Robert'); DROP TABLE prompts;--",
    "1 OR 1=1",
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "javascript:alert(1)",
    "{{7*7}}",
    "${jndi:ldap://x}",
    "%s%s%n",
    '"',
    "'",
    "NEAR(",
    "NEAR(a b, 2)",
    "*",
    "AND",
    "OR",
    "NOT",
    "^",
    ":",
    "(",
    ")",
    "((a",
    "col:word",
    "-",
    "+",
    "{a b}",
    "\x00",
    "\x1b[31m",
    "\u202e",
    "\ufeff",
    "\u200d",
    "\r\n",
    "\t",
    "🚀",
    "👨‍👩‍👧",
    "İ",
    "ß",
    "ﬀ",
    "Ⅻ",
    "²",
    "١٢٣",
    "ada@example.com",
    "https://acct.api-us1.com",
    "acct",
    "..",
    "/",
    "@",
]
CONTROL = st.characters(categories=["Cc", "Cf", "Zl", "Zp", "Zs"])
ANY_CHAR = st.characters(codec=None)  # everything but surrogates: what a browser can send
WITH_SURROGATES = st.characters(categories=["L", "N", "P", "Cs", "Cc"])


def _repeat(piece: str, size: int) -> str:
    return (piece * (size // max(1, len(piece)) + 1))[:size]


HUGE = st.builds(_repeat, st.text(min_size=1, max_size=12), st.integers(20_000, 100_000))
PIECES = st.lists(st.one_of(st.sampled_from(PAYLOADS), st.text(max_size=6)), max_size=10)
TYPED = st.one_of(
    st.text(),
    st.text(alphabet=ANY_CHAR, max_size=300),
    st.text(alphabet=CONTROL, max_size=20),
    PIECES.map(" ".join),
    PIECES.map("".join),
    st.sampled_from(PAYLOADS),
    HUGE,
)


def _constants(*modules: Any) -> tuple[str, ...]:
    """Every string literal in ``modules`` (f-strings' fixed parts too): the text a message has
    whatever was typed. Hypothesis feeds such literals back as input, and a message that says
    "What you typed…" to input "What you typed" is not repeating the input."""
    found = []
    for module in modules:
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        found += [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
        ]
    return tuple(found)


TEMPLATES = _constants(
    connector.store.settings,
    connector.engage.forms,
    connector.engage.prompts,
    connector.store.prompts,
    connector.store.log_query,
    connector.core.errors,
)


def _fixed(piece: str) -> bool:
    return any(piece in text for text in TEMPLATES)


def echo(message: str, typed: str, limit: int = ECHO_MAX) -> str:
    """The first stretch of ``typed`` longer than ``limit`` that ``message`` repeats ("")."""
    size = limit + 1
    for start in range(max(0, len(message) - size + 1)):
        piece = message[start : start + size]
        if piece in typed and not _fixed(piece):
            return piece
    return ""


def assert_refusal(error: ConnectorError, *typed: str, limit: int = ECHO_MAX) -> None:
    message = error.message
    assert isinstance(message, str) and message.strip(), repr(error)
    assert len(message) <= MESSAGE_MAX, (len(message), message[:200])
    assert message.rstrip().endswith((".", ")")), message
    assert str(error) == message
    for text in typed:
        repeated = echo(message, text, limit)
        assert not repeated, f"repeats {len(repeated)}+ characters of the input: {message[:200]!r}"


# -- the account settings -----------------------------------------------------------------------

HOST_PIECES = st.sampled_from(
    [
        "acct",
        "my-account",
        "ACCT",
        "a" * 63,
        "a" * 64,
        "api-us1.com",
        ".api-us1.com",
        ".api-us2.com",
        ".api-eu10.com",
        ".api-us1.com.evil.example",
        "api-us1.com/api/3",
        "127.0.0.1",
        "localhost",
        "[::1]",
        "::1",
        "169.254.169.254",
        "10.0.0.1",
        "0x7f.1",
        ":8600",
        ":443",
        ":99999",
        ":",
        "/api/3",
        "/api/3/",
        "/",
        "/contacts",
        "?x=1",
        "#top",
        "user:pass@",
        "@",
        "%2e",
        "%00",
        "xn--",
        "ａｃｃｔ",
        "ß",
        " ",
        "\t",
        "\n",
    ]
)
SCHEMES = st.sampled_from(["", "https://", "http://", "HTTPS://", "ftp://", "//", "https:/", ":"])
URLISH = st.builds(
    lambda scheme, pieces: scheme + "".join(pieces),
    SCHEMES,
    st.lists(st.one_of(HOST_PIECES, st.text(max_size=4)), min_size=1, max_size=6),
)
ACCEPTED_URL = re.compile(
    r"https://[a-z0-9][a-z0-9-]{0,62}\.api-[a-z]{2}\d{1,2}\.com"
    r"|https?://(localhost|127(\.\d{1,3}){3}|\[[0-9a-f:.]+\]):\d{1,5}"
)
# The one echo the URL parser allows past ECHO_MAX: the host it normalised, at most 63 + 12
# characters by the account-name rule.
URL_ECHO_MAX = 80


@FAST
@given(raw=st.one_of(URLISH, TYPED))
@example(raw="https://" + "a" * 2000 + ".api-us1.com")
@example(raw="a" * 2000)
@example(raw="https://acct.api-us1.com/" + "x" * 2000)
@example(raw="http://127.0.0.1:8600/" + "x" * 2000)
def test_the_api_url_is_normalised_or_refused_with_a_short_sentence(raw: str) -> None:
    try:
        url = parse_api_url(raw)
    except SettingsError as error:
        assert_refusal(error, raw, limit=URL_ECHO_MAX)
        if not any(mark in raw for mark in "./:") and len(raw.strip()) >= 8:
            key = raw.strip()  # a key pasted here is never echoed
            assert key not in error.message or _fixed(key)
        return
    assert ACCEPTED_URL.fullmatch(url), url
    assert parse_api_url(url) == url  # normal form is a fixed point


@FAST
@given(account=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=61))
@example(account="a" * 2000)
def test_a_long_web_app_address_is_not_echoed_whole(account: str) -> None:
    raw = f"https://{account}.activehosted.com"
    with pytest.raises(SettingsError) as refused:
        parse_api_url(raw)
    assert_refusal(refused.value, raw, limit=URL_ECHO_MAX)


KEYISH = st.one_of(
    TYPED,
    st.text(alphabet="0123456789abcdef", min_size=60, max_size=80),
    st.builds(
        lambda key, around: around + key + around,
        st.text(alphabet="0123456789abcdef", min_size=72, max_size=72),
        st.sampled_from(["", " ", "\n", "\t", "\u00a0", "\u200b", "\ufeff", '"']),
    ),
)


@FAST
@given(raw=KEYISH)
def test_the_api_key_is_kept_or_refused_without_repeating_it(raw: str) -> None:
    try:
        key = parse_api_key(raw)
    except SettingsError as error:
        assert_refusal(error, raw)
        key = raw.strip()
        if len(key) >= 8 and not _fixed(key):
            assert key not in error.message and key not in error.detail
        return
    assert key == raw.strip() and 0 < len(key) <= 200
    assert key.isascii() and key.isprintable() and not any(c.isspace() for c in key)


# -- form inputs --------------------------------------------------------------------------------

LABELS = st.one_of(st.text(max_size=30), HUGE, st.sampled_from(PAYLOADS))
FORM_INPUT = st.builds(
    FormInput,
    label=LABELS,
    placeholder=st.text(max_size=20),
    kind=st.sampled_from(list(InputKind)),
    required=st.booleans(),
    options=st.lists(st.one_of(st.text(max_size=30), st.sampled_from(PAYLOADS), HUGE), max_size=40),
    id=st.text(min_size=1, max_size=8),
)
_PHONE = re.compile(r"\+?[0-9 ().-]+")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@FAST
@given(
    inputs=st.lists(FORM_INPUT, max_size=3),
    raw=st.dictionaries(st.integers(0, 3), st.one_of(TYPED, st.none(), st.integers())),
)
@example(inputs=[FormInput("Seats", kind=InputKind.NUMBER)], raw={0: "nan"})
@example(inputs=[FormInput("Seats", kind=InputKind.NUMBER)], raw={0: "1" * 400})
@example(inputs=[FormInput("Day", kind=InputKind.DATE)], raw={0: "2026W051"})
@example(inputs=[FormInput("Email", kind=InputKind.EMAIL)], raw={0: "a\x00b@example.com"})
@example(inputs=[FormInput("Email", kind=InputKind.EMAIL)], raw={0: "<script>@example.com"})
@example(inputs=[FormInput("Phone", kind=InputKind.PHONE)], raw={0: "+1 555\x1c010 0199"})
@example(inputs=[FormInput("Notes")], raw={0: "hello\x00world"})
@example(inputs=[FormInput("L" * 5000, required=True)], raw={})
@example(inputs=[FormInput("Plan", kind=InputKind.CHOICE, options=["o" * 5000] * 40)], raw={0: "x"})
def test_form_values_are_cleaned_or_refused_with_a_short_sentence(inputs, raw) -> None:
    check = validate_form(inputs, raw)
    assert set(check.values) == set(range(len(inputs)))
    for position, problem in check.errors.items():
        form_input = inputs[position]
        typed = str(raw.get(position) or "")
        assert_refusal(InputError(problem), typed, form_input.label, *form_input.options)
    for position, value in check.values.items():
        if position in check.errors or not value:
            continue
        kind = inputs[position].kind
        assert value == value.strip()
        if kind is InputKind.EMAIL:
            assert is_valid_email(value) and value == value.lower()
            assert all(unicodedata.category(c)[0] != "C" for c in value)
        elif kind is InputKind.PHONE:
            assert _PHONE.fullmatch(value) and 7 <= sum(c.isdigit() for c in value) <= 15
        elif kind is InputKind.NUMBER:
            number = float(value.replace(",", ""))
            assert number == number and abs(number) != float("inf") and value.isascii()
        elif kind is InputKind.DATE:
            assert _DATE.fullmatch(value)
        elif kind is InputKind.CHOICE:
            assert value in inputs[position].options
        else:
            assert not any(
                unicodedata.category(c) in ("Cc", "Cs") for c in value if c not in "\t\n\r"
            )


# -- prompt definitions -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    clock = FakeClock()
    made = Console(
        tmp_path_factory.mktemp("props") / "c.db",
        env={},
        sandbox=Sandbox(),
        clock=clock,
        sleep=clock.sleep,
    )
    yield made
    made.close()


def stored(console: Console) -> list[dict[str, Any]]:
    return [p.to_dict() for p in console.prompts.all()]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _maybe(valid: list[Any]) -> st.SearchStrategy[Any]:
    """One of ``valid``, or now and then something that is not."""
    return st.one_of(st.sampled_from(valid), st.sampled_from(valid), JSON)


TEXT = st.one_of(st.text(max_size=40), st.sampled_from(PAYLOADS), HUGE, JSON)
INPUT_DICT = st.fixed_dictionaries(
    {"label": TEXT, "kind": _maybe([k.value for k in InputKind])},
    optional={
        "id": st.one_of(st.sampled_from(["email", "a", "b"]), TEXT),
        "placeholder": TEXT,
        "required": JSON,
        "options": st.one_of(st.lists(TEXT, max_size=4), JSON),
        "maps_to": _maybe(["email", "firstName", "field:3", "nickname"]),
    },
)
MAPPING_DICT = st.fixed_dictionaries(
    {
        "field": _maybe(["email", "firstName", "lastName", "phone", "field:3", "field:x", "x"]),
        "source": _maybe([s.value for s in Source]),
        "value": st.one_of(st.sampled_from(["email", "a", "first_name", ""]), TEXT),
    },
    optional={"multiple": JSON},
)
ACTION_DICT = st.fixed_dictionaries(
    {"type": _maybe([t.value for t in ActionType])},
    optional={
        "params": st.one_of(
            st.dictionaries(
                st.sampled_from(["list_id", "list_name", "tag_id", "automation_id", "x"]),
                st.one_of(st.sampled_from(["3", "1"]), TEXT),
                max_size=3,
            ),
            JSON,
        ),
        "on_error": _maybe([e.value for e in ErrorBehaviour]),
        "id": TEXT,
    },
)
PROMPT_DICT = st.fixed_dictionaries(
    {"name": st.one_of(TYPED, JSON, st.text(alphabet=WITH_SURROGATES, max_size=20))},
    optional={
        "id": st.one_of(st.none(), JSON),
        "prompt_type": _maybe([t.value for t in PromptType]),
        "headline": TEXT,
        "body": TEXT,
        "accept_label": TEXT,
        "secondary_label": TEXT,
        "decline_label": TEXT,
        "timeout_seconds": st.one_of(st.integers(-10, 5000), JSON, st.just(10**400)),
        "inputs": st.one_of(st.lists(INPUT_DICT, max_size=4), JSON),
        "mappings": st.one_of(st.lists(MAPPING_DICT, max_size=4), JSON),
        "actions": st.one_of(
            st.dictionaries(
                st.one_of(st.sampled_from([i.value for i in Interaction]), st.text(max_size=8)),
                st.one_of(st.lists(ACTION_DICT, max_size=3), JSON),
                max_size=3,
            ),
            JSON,
        ),
    },
)


def _texts_in(data: Any) -> Iterator[str]:
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _texts_in(key)
            yield from _texts_in(value)
    elif isinstance(data, list):
        for item in data:
            yield from _texts_in(item)


@FAST
@given(data=st.one_of(PROMPT_DICT, JSON))
@example(data={"name": "x", "timeout_seconds": "soon"})
@example(data={"name": "x", "timeout_seconds": float("inf")})
@example(data={"name": "x", "inputs": [{"label": "A", "kind": "slider"}]})
@example(data={"name": "x", "mappings": [{"field": "email"}]})
@example(data={"name": "x", "actions": {"accept": [{"type": "add_to_list", "params": [1]}]}})
@example(data={"name": "x", "id": "abc"})
@example(data=[])
def test_a_definition_is_read_or_refused_with_a_short_sentence(data: Any) -> None:
    try:
        prompt = Prompt.from_dict(data)
    except InputError as error:
        assert_refusal(error, *_texts_in(data))
        return
    assert isinstance(prompt, Prompt)
    assert Prompt.from_dict(prompt.to_dict()) == prompt  # what it reads, it writes back


@FAST
@given(data=PROMPT_DICT)
@example(data={"name": "Welcome", "timeout_seconds": 10**400})
@example(data={"name": "n" * (MAX_NAME + 1)})
@example(data={"name": "a\x00b"})
@example(data={"name": "a\ud800b"})
@example(data={"name": "'; DROP TABLE prompts; --"})
@example(data={"name": "<script>alert(1)</script>", "headline": "<b>hi</b>"})
def test_saving_stores_a_valid_prompt_as_it_is_or_nothing(console: Console, data: Any) -> None:
    try:
        prompt = Prompt.from_dict({**data, "id": None} if isinstance(data, dict) else data)
    except InputError:
        return  # the property above
    before = stored(console)
    try:
        saved = console.prompts.save(prompt)
    except InputError as error:
        assert_refusal(error, *_texts_in(data))
        assert stored(console) == before  # refused: nothing changed
        assert prompt.id is None
        return
    assert saved.id is not None and saved.name == saved.name.strip()
    again = console.prompts.get(saved.id)
    assert again == saved  # what was stored reads back equal
    assert again is not None and again.to_dict() == saved.to_dict()
    assert len(stored(console)) == len(before) + 1
    assert name_key(saved.name) in {name_key(p["name"]) for p in stored(console)}
    saved.validate()  # and what is stored is valid
    console.prompts.delete(saved.id)


def test_saving_a_prompt_deleted_meanwhile_is_refused(console: Console) -> None:
    prompt = console.prompts.save(Prompt(name="Deleted meanwhile"))
    console.prompts.delete(prompt.id)
    before = stored(console)
    prompt.headline = "Edited in another window"
    with pytest.raises(InputError, match="no longer exists") as refused:
        console.prompts.save(prompt)
    assert_refusal(refused.value)
    assert stored(console) == before


@FAST
@given(name=st.one_of(TYPED, st.text(min_size=1, max_size=MAX_NAME)))
def test_a_duplicate_name_is_refused_without_repeating_it_at_length(console, name) -> None:
    prompt = Prompt(name=name)
    try:
        prompt.validate()
    except InputError:
        return
    first = console.prompts.save(prompt)
    before = stored(console)
    with pytest.raises(InputError, match="already exists") as refused:
        console.prompts.save(Prompt(name=name.upper() if name.upper().strip() else name))
    assert_refusal(refused.value, name)
    assert stored(console) == before
    console.prompts.delete(first.id)


@FAST
@given(
    label=LABELS,
    field=st.one_of(st.sampled_from(["email", "nickname", "field:x"]), TYPED),
    target=TYPED,
    timeout=st.one_of(st.integers(), st.just(10**300)),
)
def test_prompt_refusals_do_not_repeat_what_was_typed(label, field, target, timeout) -> None:
    prompt = Prompt(name="P", timeout_seconds=timeout)
    prompt.map_input(FormInput(label, kind=InputKind.CHOICE), "email")
    prompt.mappings.append(FieldMapping(field, Source.TRAIT, target))
    list_action = action(ActionType.ADD_TO_LIST, "3")
    list_action.params["list_name"] = target
    prompt.actions[Interaction.ACCEPT] = [
        list_action,
        ActionConfig(ActionType.ADD_TO_LIST, dict(list_action.params)),
    ]
    for _ in range(6):  # fix each refusal in turn, so every check gets its say
        try:
            prompt.validate()
            return
        except InputError as error:
            assert_refusal(error, label, field, target, str(timeout))
        if not 0 <= prompt.timeout_seconds <= 3600:
            prompt.timeout_seconds = 0
        elif prompt.inputs[0].kind is InputKind.CHOICE:
            prompt.inputs[0].kind = InputKind.TEXT
        elif prompt.inputs[0].kind is InputKind.TEXT and label.strip():
            prompt.inputs[0].kind = InputKind.EMAIL
        else:
            prompt.mappings = prompt.mappings[:1]
            prompt.actions = {}
            prompt.inputs[0].label = "Email"
            prompt.inputs[0].kind = InputKind.EMAIL


# -- log search ---------------------------------------------------------------------------------

LOGGED = {
    "ada@example.com": "Spring newsletter",
    "drop@example.com": "'; DROP TABLE action_log; --",
    "near@example.com": 'NEAR(a "b" OR c*',
    "html@example.com": "<script>alert(1)</script>",
    "jose@example.org": "José's welcome",
}


@pytest.fixture(scope="module")
def logged(console: Console) -> Console:
    """Runs on the sandbox, one per contact, each from a prompt with a hostile name."""
    runner = console.runner()
    for email, name in LOGGED.items():
        prompt = prompt_with(
            ActionConfig(ActionType.ADD_CONTACT), action(ActionType.ADD_TO_LIST, "3")
        )
        prompt.name = name
        runner.run(prompt, Interaction.ACCEPT, user(), {0: email})
    return console


def _everything(console: Console) -> tuple[int, list[str]]:
    with console.db.read() as conn:
        # (sqlite_stat1 may appear: the database analyses itself when it sees fit.)
        tables = sorted(
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master")
            if not r[0].startswith("sqlite_")
        )
    return console.log.total(), tables


SEARCHED = st.one_of(
    TYPED,
    st.lists(
        st.one_of(st.sampled_from(PAYLOADS), st.sampled_from(["ada", "drop", "near", "example"])),
        min_size=1,
        max_size=6,
    ).map(" ".join),
)


@FAST
@given(text=SEARCHED)
@example(text="'; DROP TABLE action_log; --")
@example(text='NEAR(a OR "b')
@example(text='"' * 1000)
@example(text="a" * 100_000)
@example(text="\x00\x01\x02")
@example(text="col:ada ^near AND OR NOT (((")
def test_any_search_text_answers_or_is_refused_with_a_short_sentence(logged, text) -> None:
    before = _everything(logged)
    filters = LogFilter(text=text)
    try:
        expression = search_expression(text)
    except SearchError as error:
        assert_refusal(error, text)
        if not text.strip():  # an empty search box is no search at all
            assert len(logged.log.ids(filters)) == before[0]
            return
        for read in (logged.log.page, logged.log.counts, logged.log.ids, logged.log.runs_page):
            with pytest.raises(SearchError):
                read(filters)
        assert _everything(logged) == before
        return
    assert expression.count('"') % 2 == 0  # every phrase is closed: FTS5 never parses the text
    page = logged.log.page(filters, limit=100)
    counts = logged.log.counts(filters)
    ids = logged.log.ids(filters)
    runs = logged.log.runs_page(filters, limit=100).runs
    assert sorted(r["id"] for r in page.rows) == ids  # the log holds a dozen rows: one page
    assert sum(counts.values()) == len(ids)
    assert {r.run_id for r in runs} == {r["run_id"] for r in page.rows}
    assert _everything(logged) == before  # nothing ran as SQL, nothing changed


@FAST
@given(
    email=st.sampled_from(sorted(LOGGED)),
    junk=st.lists(
        st.sampled_from(['"', "*", "^", ":", "(", ")", "-", "+", "'", ";", "--", "@", "!", "\x00"]),
        max_size=5,
    ),
)
def test_search_pieces_without_words_change_nothing(logged, email, junk) -> None:
    """Punctuation and FTS syntax typed between words are not searched, and never break it."""
    word = email.split("@")[0]
    plain = logged.log.ids(LogFilter(text=word))
    assert plain  # the oracle is not vacuous: each contact has rows
    noisy = " ".join([*junk, word, *junk])
    assert logged.log.ids(LogFilter(text=noisy)) == plain
    rows = [logged.log.get(i) for i in plain]
    assert all(
        row is not None and (word in row["contact_email"] or word in row["prompt_name"].lower())
        for row in rows
    )
