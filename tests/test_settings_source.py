"""Configuration has one source: marketplace/settings.py (ARCHITECTURE.md, "Configuration").

The gateway's config and billing's hot-path writers read their values from settings and keep no
defaults of their own; the README's environment table names every variable settings reads, with
the same defaults.
"""

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from billing.hotpath.postgres import PostgresWriter
from billing.hotpath.thread import ThreadWriter
from routing.gateway.config import GatewayConfig, LimitConfig

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_SOURCE = (ROOT / "marketplace" / "settings.py").read_text()
README = (ROOT / "README.md").read_text()


def _gateway_config_with(**env: str) -> dict:
    """GatewayConfig.from_settings() in a fresh process (settings read the environment once)."""
    code = (
        "import json, django; django.setup()\n"
        "from routing.gateway.config import GatewayConfig\n"
        "c = GatewayConfig.from_settings()\n"
        "print(json.dumps({'last_used_flush_s': c.last_used_flush_s,"
        " 'snapshot_poll_s': c.snapshot_poll_s, 'sandbox_base_url': c.sandbox_base_url}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "marketplace.settings", **env},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_gateway_variable_reaches_the_gateway():
    # These three were read by the gateway but never by settings: setting them did nothing.
    got = _gateway_config_with(GATEWAY_LAST_USED_FLUSH_S="0.2", GATEWAY_SNAPSHOT_POLL_S="0.5",
                               SANDBOX_BASE_URL="http://127.0.0.1:9")
    assert got == {"last_used_flush_s": 0.2, "snapshot_poll_s": 0.5,
                   "sandbox_base_url": "http://127.0.0.1:9"}


def test_gateway_config_has_no_defaults_of_its_own():
    for cls in (GatewayConfig, LimitConfig):
        with_defaults = [f.name for f in dataclasses.fields(cls)
                         if f.default is not dataclasses.MISSING
                         or f.default_factory is not dataclasses.MISSING]
        assert with_defaults == [], f"{cls.__name__} defaults {with_defaults} outside settings"


def test_a_writer_built_directly_takes_the_settings(settings):
    settings.HOTPATH_SETTLE_WINDOW_MS = 123
    settings.HOTPATH_PENDING_MAX = 7
    settings.HOTPATH_SHUTDOWN_FLUSH_S = 4.5
    settings.HOTPATH_POOL_MAX = 3
    # Built without a window, the writers used their own 3 ms instead of the settings' window.
    for writer in (ThreadWriter(), PostgresWriter("dbname=unused")):
        assert (writer._window_s, writer._pending_max, writer._shutdown_flush_s) == (
            0.123, 7, 4.5)
    assert PostgresWriter("dbname=unused")._pool_max == 3
    assert PostgresWriter("dbname=unused", window_ms=1)._window_s == 0.001


def _settings_defaults() -> dict[str, str]:
    """{VARIABLE: default as written} for every environment variable settings.py reads."""
    found = {}
    for name, rest in re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"(.*)', SETTINGS_SOURCE):
        default = re.search(r"default=([^)]*)\)", rest)
        found.setdefault(name, default.group(1).strip() if default else "")
    return found


def test_the_readme_names_every_variable_settings_reads():
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", README))
    missing = sorted(set(_settings_defaults()) - documented)
    assert missing == [], f"README.md does not document {missing}"


def test_the_readme_states_the_settings_defaults():
    """A README row for one variable that says `(default N` says the default settings.py has."""
    defaults = _settings_defaults()
    checked = 0
    for name, stated in re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|[^|\n]*\(default ([0-9][0-9,.]*)",
                                   README, flags=re.MULTILINE):
        written = defaults.get(name, "")
        assert re.fullmatch(r"[0-9_. *]+", written), f"{name}: settings default {written!r}"
        value = eval(written, {"__builtins__": {}})  # digits and '*' only, checked above
        assert float(stated.replace(",", "").rstrip(".")) == float(value), (
            f"README says {name} defaults to {stated}, settings.py to {written}")
        checked += 1
    assert checked >= 10  # the pattern still finds the table's rows
