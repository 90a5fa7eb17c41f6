"""Documentation that is generated must match what generates it."""
import subprocess

from conftest import CAIRNCTL, TOP


def test_configuration_md_matches_option_table():
    out = subprocess.run([CAIRNCTL, "config-doc"], check=True, capture_output=True,
                         text=True).stdout
    doc = (TOP / "docs" / "configuration.md").read_text()
    assert out == doc, "docs/configuration.md is stale: regenerate it with `cairnctl config-doc`"


def test_every_dev_config_option_is_documented():
    doc = (TOP / "docs" / "configuration.md").read_text()
    for option in ("loopback_is_secure", "max_connections_per_ip", "shutdown_timeout",
                   "reconnect_interval", "listen_tls", "min_version"):
        assert f"`{option}`" in doc
