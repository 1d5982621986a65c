"""Sign-in in a real browser, and a page that fetches nothing from outside its own address.

The server gets its secrets from ``data_dir / "secrets.toml"`` (``serve_app`` points Streamlit's
``secrets.files`` there), holding an ``[auth]`` table whose provider is a tiny OIDC discovery
document served here on loopback: the sign-in screen must render before any provider call, and
"Sign in" must then lead to that provider's authorization endpoint.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from browser import goto, launch, require_chromium, serve_app
from playwright.sync_api import Page, expect, sync_playwright

from pages import PAGES

pytestmark = pytest.mark.browser

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


class _Provider(BaseHTTPRequestHandler):
    """An identity provider that only describes itself and greets the browser it receives."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        if self.path == "/.well-known/openid-configuration":
            body = json.dumps(
                {
                    "issuer": base,
                    "authorization_endpoint": f"{base}/authorize",
                    "token_endpoint": f"{base}/token",
                    "jwks_uri": f"{base}/jwks",
                    "response_types_supported": ["code"],
                    "code_challenge_methods_supported": ["S256"],
                }
            ).encode()
            kind = "application/json"
        else:
            body, kind = b"<html><body><h1>Fake provider</h1></body></html>", "text/html"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def provider() -> Iterator[tuple[str, list[str]]]:
    """Serve ``_Provider`` on loopback; yield its base URL and the paths it was asked for."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    server.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.paths  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


def watch_hosts(page: Page) -> list[str]:
    """Every URL the page requests (HTTP and WebSocket) from now on, in order."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    page.on("websocket", lambda socket: seen.append(socket.url))
    return seen


def assert_all_local(urls: list[str]) -> None:
    assert urls, "the page requested nothing at all"
    network = [u for u in urls if urlsplit(u).scheme in ("http", "https", "ws", "wss")]
    outside = [u for u in network if urlsplit(u).hostname not in LOCAL_HOSTS]
    assert not outside, f"requests to other hosts: {outside}"


def test_a_deep_link_first_shows_only_the_sign_in_screen(tmp_path: Path) -> None:
    require_chromium()
    with provider() as (idp, asked):
        (tmp_path / "secrets.toml").write_text(
            "[auth]\n"
            'redirect_uri = "http://localhost:{port}/oauth2callback"\n'
            'cookie_secret = "browser-test-cookie-secret-0123456789abcdef"\n'
            'client_id = "console"\n'
            'client_secret = "not-a-secret"\n'
            f'server_metadata_url = "{idp}/.well-known/openid-configuration"\n'
        )
        with serve_app(tmp_path) as url, sync_playwright() as playwright:
            browser = launch(playwright)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                requested = watch_hosts(page)
                goto(page, url + "/action_log")  # the server's very first page request
                main = page.get_by_test_id("stMain")
                expect(
                    main.get_by_role("heading", name="ActiveCampaign Connector Console")
                ).to_be_visible()
                expect(main.get_by_role("button", name="Sign in")).to_be_visible()
                # Nothing of the log page, nor of the frame: no heading, data, navigation.
                expect(page.get_by_role("heading", name="Action log")).to_have_count(0)
                expect(page.get_by_test_id("stDataFrame")).to_have_count(0)
                expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
                expect(page.get_by_text("built-in demo account")).to_have_count(0)
                expect(page.get_by_test_id("stException")).to_have_count(0)
                assert asked == []  # no provider call to draw the sign-in screen
                assert_all_local(requested)

                # Streamlit's /auth/login, then the provider (not a Streamlit page: no idle wait)
                main.get_by_role("button", name="Sign in").click()
                page.wait_for_url(f"{idp}/authorize*")
                query = parse_qs(urlsplit(page.url).query)
                assert query["client_id"] == ["console"]
                callback = f"http://localhost:{urlsplit(url).port}/oauth2callback"  # {port} filled
                assert query["redirect_uri"] == [callback]
                assert query["response_type"] == ["code"] and query["state"]
                assert "/.well-known/openid-configuration" in asked
            finally:
                browser.close()


def test_without_sign_in_every_page_says_so_and_fetches_nothing_from_outside(
    tmp_path: Path,
) -> None:
    require_chromium()
    with serve_app(tmp_path) as url, sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            requested = watch_hosts(page)
            for path in ["/action_log"] + [f"/{p.url_path}" for p in PAGES]:
                goto(page, url + path)
                sidebar = page.get_by_test_id("stSidebar")
                expect(sidebar.get_by_text("Open to anyone who can reach it")).to_be_visible()
                expect(sidebar.get_by_label("Operator", exact=True)).to_be_visible()
            assert_all_local(requested)
        finally:
            browser.close()
