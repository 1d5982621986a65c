"""ActiveCampaign Connector: everything the console does, importable without Streamlit.

The whole public surface is re-exported here; ``tests/test_exported_members.py`` keeps it honest.
"""

from connector.ac.actions import REGISTRY, ActionSpec, ParamSpec, PlannedRequest, Presence
from connector.ac.client import AcClient
from connector.ac.retry import RetryPolicy
from connector.core.errors import (
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
from connector.core.models import (
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
from connector.core.records import (
    Attempt,
    Check,
    Exchange,
    Reason,
    Run,
    RunStatus,
    SimulatedUser,
    Status,
)
from connector.engage.forms import validate_form
from connector.engage.prompts import (
    STANDARD_CONTACT_FIELDS,
    ActionConfig,
    FieldMapping,
    FormInput,
    Prompt,
    Source,
    custom_field_target,
)
from connector.engine.budget import RequestBudget
from connector.engine.claims import ClaimBusy, ClaimKey, Claims
from connector.engine.jobs import JobState, ReplayJob, ReplayJobs
from connector.engine.replay import ReplayPlan, plan_replay
from connector.engine.runner import Runner
from connector.entry.console import Console
from connector.entry.worker import Worker
from connector.store.audit import AuditEvent, AuditKind, AuditLog
from connector.store.catalog import Catalog
from connector.store.db import Database
from connector.store.log import ActionLog, AlreadyReplayed, Facets, LogPage, RunsPage
from connector.store.log_export import ExportFormat
from connector.store.log_query import Cursor, LogFilter, SearchError, TimeRange
from connector.store.prompts import PromptStore
from connector.store.retention import Cleanup
from connector.store.settings import (
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
