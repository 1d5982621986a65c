"""An emulator of the ActiveCampaign API v3, faithful to the documented shapes.

Two faces over one implementation (``Sandbox.handle``):

* in-process: ``httpx.Client(transport=sandbox.transport(), base_url=SANDBOX_URL + "/api/3")``;
* over HTTP: ``SandboxServer(sandbox, port=0)`` (a context manager with ``.base_url`` and
  ``.stop()``), or from a shell ``python -m connector.sandbox --port 8600 [--api-key KEY]
  [--db data/sandbox.db]``, which prints its base URL and API key.

Endpoints, under ``/api/3``: ``GET /users/me``, ``GET /lists``, ``GET /lists/{id}``,
``GET /automations``, ``GET /fields``, ``GET /tags``, ``GET /tags/{id}``, ``POST /contact/sync``,
``GET /contacts``, ``GET /contacts/{id}`` (+ ``/fieldValues``, ``/contactLists``,
``/contactAutomations``, ``/contactTags``), ``POST /contactLists``, ``POST /contactAutomations``,
``POST /contactTags``. Behaviour the docs leave open is chosen and marked ASSUMED/UNVERIFIED in the
code, next to where it happens (see ``shared/activecampaign/api.md`` §10).

Modules: ``emulator`` (the ``Sandbox``: auth, dispatch, lock), ``routes`` (handlers and route
table), ``shapes`` (rows -> documented JSON), ``store`` (SQLite state), ``seed`` (the demo account),
``clock`` (dates), ``errors`` (error bodies), ``server`` (loopback HTTP), ``__main__`` (CLI).
"""

from .emulator import DEMO_API_KEY, SANDBOX_URL, Sandbox
from .seed import SeedSpec
from .server import SandboxServer

__all__ = ["DEMO_API_KEY", "SANDBOX_URL", "Sandbox", "SandboxServer", "SeedSpec"]
