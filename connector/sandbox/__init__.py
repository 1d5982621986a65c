"""An emulator of the ActiveCampaign API v3, faithful to the documented shapes.

Two faces over one implementation (``Sandbox.handle``):

* in-process: ``httpx.Client(transport=sandbox.transport(), base_url=SANDBOX_URL + "/api/3")``;
* over HTTP: ``SandboxServer(sandbox, port=0)`` (a context manager with ``.base_url`` and
  ``.stop()``), or from a shell ``python -m connector.sandbox --port 8600 [--api-key KEY]
  [--db data/sandbox.db] [--rate-limit 5] [--rate-window 1] [--latency MS] [--jitter MS]``,
  which prints its base URL, API key and admin URL.

It fights back, like the live account, when asked (``faults`` module):

* request budget: ``Sandbox(rate_limit=5, rate_window=1.0)`` admits at most 5 requests in any
  sliding second and answers the others 429 + ``Retry-After`` (whole seconds) before checking the
  key; off by default in code, 5/s by default from the CLI (``--rate-limit 0`` lifts it). On a
  file, the budget is the account's: every ``Sandbox`` on that file, in any process, shares it
  (admissions are recorded in the file); in memory it is the instance's. Times come from
  ``clock`` (``time.time`` by default, injectable for tests);
* latency: ``latency`` seconds + up to ``jitter`` more at random, on every request, concurrently;
* scripted faults: ``sandbox.inject(Fault("status", path="/contacts/*", status=503,
  retry_after=1, count=2))``; kinds ``status``, ``hang`` (no answer: ``httpx.ReadTimeout`` in
  process, a silent socket over HTTP), ``reset`` (dropped connection: ``httpx.RemoteProtocolError``
  in process, an RST over HTTP), ``empty`` and ``malformed`` (truncated JSON) bodies; with
  ``commit=True`` the request is really processed first, so the write lands and only its answer
  is lost. ``clear_faults()``, ``pending_faults()``;
* ``configure(rate_limit=..., rate_window=..., latency=..., jitter=...)`` changes the settings
  at runtime; ``stats()`` -> ``requests``, ``admitted``, ``refused``, ``faults_fired``;
  ``request_count()``, ``refused_count()``; ``arrivals()``, the wall-clock arrival times of the
  requests this instance admitted (the last 10,000). Settings, faults and stats are per instance.

``rename(kind, id, name)`` gives a seeded list, automation, custom field (or one of its options)
or tag another name in place, as someone could in ActiveCampaign: for tests of names the console
did not choose.

Several processes may open one file at once (``Sandbox("data/sandbox.db")`` in the dashboard, a
CLI server, test processes): the file is in WAL mode with a busy timeout (``busy_timeout``, 10 s),
each request is one ``BEGIN IMMEDIATE`` transaction (so a read-then-write such as refusing a
second entry into a single-entry automation is atomic across processes), and a fresh file is
seeded exactly once however many processes open it together.

Admin endpoints on the loopback server only, outside ``/api/3`` and with no ``Api-Token``
(``SandboxServer.admin_url``; details in ``server``'s docstring): ``GET /__sandbox/stats``
(the stats plus ``arrivals``), ``GET|POST|DELETE /__sandbox/faults`` (POST one fault object or a
list -> 201 with the pending faults), ``GET|POST /__sandbox/config`` (any of rate_limit,
rate_window, latency, jitter; seconds) and ``POST /__sandbox/reset`` (seed data back, faults
dropped).

Endpoints, under ``/api/3``: ``GET /users/me``, ``GET /lists``, ``GET /lists/{id}``,
``GET /automations``, ``GET /fields``, ``GET /tags``, ``GET /tags/{id}``, ``POST /contact/sync``,
``GET /contacts``, ``GET /contacts/{id}`` (+ ``/fieldValues``, ``/contactLists``,
``/contactAutomations``, ``/contactTags``), ``PUT /contacts/{id}``, ``POST /contactLists``
(status 1 subscribes, 2 unsubscribes), ``POST /contactAutomations``,
``DELETE /contactAutomations/{id}``, ``POST /contactTags``, ``DELETE /contactTags/{id}``.
Behaviour the docs leave open is chosen and marked ASSUMED/UNVERIFIED in the code, next to where it
happens (see ``shared/activecampaign/api.md`` §10).

Modules: ``emulator`` (the ``Sandbox``: auth, dispatch, lock), ``routes`` (handlers and route
table), ``shapes`` (rows -> documented JSON), ``store`` (SQLite state), ``seed`` (the demo account),
``clock`` (dates), ``errors`` (error bodies), ``faults`` (budget and scripted faults), ``server``
(loopback HTTP and admin endpoints), ``__main__`` (CLI).
"""

from .emulator import DEMO_API_KEY, SANDBOX_URL, Sandbox
from .faults import Fault
from .seed import SeedSpec
from .server import SandboxServer

__all__ = ["DEMO_API_KEY", "SANDBOX_URL", "Fault", "Sandbox", "SandboxServer", "SeedSpec"]
