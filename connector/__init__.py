"""ActiveCampaign Connector: everything the console does, importable without Streamlit.

The whole public surface is re-exported here; ``tests/test_exported_members.py`` keeps it honest.
"""

from .actions import REGISTRY, ActionSpec, ParamSpec, PlannedRequest, Presence
from .audit import AuditEvent, AuditKind, AuditLog
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
from .jobs import JobState, ReplayJob, ReplayJobs
from .log import ActionLog, AlreadyReplayed, Facets, LogPage, RunsPage
from .log_export import ExportFormat
from .log_query import Cursor, LogFilter, SearchError, TimeRange
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
from .replay import ReplayPlan, plan_replay
from .retention import Cleanup
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
from .worker import JobQueue, Worker

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
    "AlreadyReplayed",
    "ApiError",
    "Attempt",
    "AuditEvent",
    "AuditKind",
    "AuditLog",
    "AuthError",
    "Automation",
    "Catalog",
    "CatalogKind",
    "Check",
    "ClaimBusy",
    "ClaimKey",
    "Claims",
    "Cleanup",
    "ConnectFailed",
    "ConnectionLost",
    "ConnectorError",
    "Console",
    "Contact",
    "Cursor",
    "Database",
    "ErrorBehaviour",
    "Exchange",
    "ExportFormat",
    "Facets",
    "Field",
    "FieldMapping",
    "FormInput",
    "HostNotFound",
    "InputError",
    "InputKind",
    "Interaction",
    "JobQueue",
    "JobState",
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
    "ReplayJob",
    "ReplayJobs",
    "ReplayPlan",
    "RequestBudget",
    "RequestRejected",
    "RetryPolicy",
    "Run",
    "RunStatus",
    "Runner",
    "RunsPage",
    "SearchError",
    "ServerError",
    "SettingsError",
    "SettingsStore",
    "SimulatedUser",
    "Source",
    "Status",
    "StorageError",
    "Tag",
    "TimeRange",
    "UnexpectedResponse",
    "UnreachableError",
    "User",
    "ValidationError",
    "Worker",
    "custom_field_target",
    "mask_key",
    "parse_api_key",
    "parse_api_url",
    "plan_replay",
    "validate_form",
]
