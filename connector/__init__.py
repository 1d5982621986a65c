"""ActiveCampaign Connector: everything the console does, importable without Streamlit.

The whole public surface is re-exported here; ``tests/test_exported_members.py`` keeps it honest.
"""

from .actions import REGISTRY, ActionSpec, ParamSpec, PlannedRequest, Presence
from .budget import RequestBudget
from .catalog import Catalog
from .claims import ClaimBusy, ClaimKey, Claims
from .client import AcClient
from .console import Console
from .db import Database
from .errors import (
    ApiError,
    AuthError,
    ConnectFailed,
    ConnectionLost,
    ConnectorError,
    HostNotFound,
    InputError,
    NotFoundError,
    RateLimitedError,
    RedirectError,
    RequestRejected,
    ServerError,
    SettingsError,
    StorageError,
    UnexpectedResponse,
    UnreachableError,
    ValidationError,
)
from .forms import validate_form
from .log import ActionLog, LogFilter, LogPage
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
from .prompt_store import PromptStore
from .prompts import (
    STANDARD_CONTACT_FIELDS,
    ActionConfig,
    FieldMapping,
    FormInput,
    Prompt,
    Source,
    custom_field_target,
)
from .records import (
    Attempt,
    Check,
    Exchange,
    Reason,
    Run,
    RunStatus,
    SimulatedUser,
    Status,
)
from .retry import RetryPolicy
from .runner import Runner
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
    "ActionSpec",
    "ActionType",
    "ApiError",
    "Attempt",
    "AuthError",
    "Automation",
    "Catalog",
    "CatalogKind",
    "Check",
    "ClaimBusy",
    "ClaimKey",
    "Claims",
    "ConnectFailed",
    "ConnectionLost",
    "ConnectorError",
    "Console",
    "Contact",
    "Database",
    "ErrorBehaviour",
    "Exchange",
    "Field",
    "FieldMapping",
    "FormInput",
    "HostNotFound",
    "InputError",
    "InputKind",
    "Interaction",
    "LogFilter",
    "LogPage",
    "NotFoundError",
    "ParamSpec",
    "PlannedRequest",
    "Presence",
    "Prompt",
    "PromptStore",
    "PromptType",
    "RateLimitedError",
    "Reason",
    "RedirectError",
    "RequestBudget",
    "RequestRejected",
    "RetryPolicy",
    "Run",
    "RunStatus",
    "Runner",
    "ServerError",
    "SettingsError",
    "SettingsStore",
    "SimulatedUser",
    "Source",
    "Status",
    "StorageError",
    "Tag",
    "UnexpectedResponse",
    "UnreachableError",
    "User",
    "ValidationError",
    "custom_field_target",
    "mask_key",
    "parse_api_key",
    "parse_api_url",
    "validate_form",
]
