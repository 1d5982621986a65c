"""ActiveCampaign Connector: everything the console does, importable without Streamlit.

The whole public surface is re-exported here; ``tests/test_exported_members.py`` keeps it honest.
"""

from .actions import REGISTRY, ActionSpec, ParamSpec, PlannedRequest
from .catalog import Catalog
from .client import AcClient, Exchange
from .console import Console
from .db import Database
from .errors import (
    ApiError,
    AuthError,
    ConnectorError,
    InputError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    SettingsError,
    StorageError,
    UnreachableError,
    ValidationError,
)
from .forms import validate_form
from .log import ActionLog, LogFilter, LogPage, Status
from .models import (
    AcList,
    ActionType,
    Automation,
    CatalogKind,
    Contact,
    ErrorBehaviour,
    Field,
    InputKind,
    Interaction,
    PromptType,
    Tag,
    User,
)
from .prompts import (
    STANDARD_CONTACT_FIELDS,
    ActionConfig,
    FormInput,
    Prompt,
    PromptStore,
    custom_field_target,
)
from .runner import ActionOutcome, Runner, RunResult, SimulatedUser
from .settings import (
    SETTINGS,
    AccountSettings,
    SettingsStore,
    mask_key,
    parse_api_key,
    parse_api_url,
)

__all__ = [
    "REGISTRY",
    "SETTINGS",
    "STANDARD_CONTACT_FIELDS",
    "AcClient",
    "AcList",
    "AccountSettings",
    "ActionConfig",
    "ActionLog",
    "ActionOutcome",
    "ActionSpec",
    "ActionType",
    "ApiError",
    "AuthError",
    "Automation",
    "Catalog",
    "CatalogKind",
    "ConnectorError",
    "Console",
    "Contact",
    "Database",
    "ErrorBehaviour",
    "Exchange",
    "Field",
    "FormInput",
    "InputError",
    "InputKind",
    "Interaction",
    "LogFilter",
    "LogPage",
    "NotFoundError",
    "ParamSpec",
    "PlannedRequest",
    "Prompt",
    "PromptStore",
    "PromptType",
    "RateLimitedError",
    "RunResult",
    "Runner",
    "ServerError",
    "SettingsError",
    "SettingsStore",
    "StorageError",
    "SimulatedUser",
    "Status",
    "Tag",
    "UnreachableError",
    "User",
    "ValidationError",
    "custom_field_target",
    "mask_key",
    "parse_api_key",
    "parse_api_url",
    "validate_form",
]
