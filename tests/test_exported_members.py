import connector


def test_public_surface_is_exactly_all() -> None:
    exported = {name for name in dir(connector) if not name.startswith("_")}
    modules = {name for name in exported if type(getattr(connector, name)).__name__ == "module"}
    assert exported - modules == set(connector.__all__)


def test_connector_does_not_import_streamlit() -> None:
    import subprocess
    import sys

    code = "import sys, connector, connector.sandbox; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
