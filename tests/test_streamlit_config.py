""".streamlit/config.toml: the server settings an internal tool relies on, and that Streamlit
reads them as meant (a misspelt key or section is silently ignored, so both are checked)."""

from __future__ import annotations

import tomllib
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml"


def _config() -> dict[str, dict[str, object]]:
    with CONFIG.open("rb") as handle:
        return tomllib.load(handle)


def test_security_relevant_settings() -> None:
    config = _config()
    assert config["browser"]["gatherUsageStats"] is False
    server = config["server"]
    assert server["headless"] is True
    assert server["runOnSave"] is False
    assert server["enableXsrfProtection"] is True
    assert server["enableCORS"] is True  # XSRF alone doesn't stop a cross-origin WebSocket
    assert server["enableStaticServing"] is False
    assert server["maxUploadSize"] == 1  # the console uploads nothing
    assert isinstance(server["maxMessageSize"], int) and 1 <= server["maxMessageSize"] <= 50
    client = config["client"]
    assert client["showErrorDetails"] == "none"  # no traceback ever reaches a page
    assert client["showErrorLinks"] == "false"
    assert client["toolbarMode"] == "minimal"


def test_streamlit_knows_every_key_and_accepts_every_value() -> None:
    from streamlit import config as st_config

    known = st_config.get_config_options()
    for section, options in _config().items():
        for name in options:
            assert f"{section}.{name}" in known, f"Streamlit has no option {section}.{name}"
    assert _config()["client"]["showErrorDetails"] in {
        option.value for option in st_config.ShowErrorDetailsConfigOptions
    }
    assert _config()["client"]["toolbarMode"] in {"auto", "developer", "viewer", "minimal"}


def test_a_local_secrets_file_is_never_committed() -> None:
    """[auth] holds a client secret and the cookie-signing secret: git ignores secrets.toml."""
    ignored = (CONFIG.parents[1] / ".gitignore").read_text().splitlines()
    assert ".streamlit/secrets.toml" in ignored
