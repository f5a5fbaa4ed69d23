"""The pure layers load no Django and no Celery (ARCHITECTURE.md, "core"), in a fresh interpreter.

`routing.policy` once raised errors from a package whose `__init__` starts Celery, so importing
the pure router pulled in 404 modules; a subprocess sees exactly what one import loads.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import importlib, json, sys\n"
    "importlib.import_module(sys.argv[1])\n"
    "print(json.dumps(sorted(m for m in sys.modules\n"
    "                        if m.partition('.')[0] in ('django', 'celery', 'kombu'))))\n"
)


@pytest.mark.parametrize("module", [
    "core.errors", "core.money", "core.money_input", "routing.policy",
])
def test_importing_loads_no_django_and_no_celery(module):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run([sys.executable, "-c", PROBE, module], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_the_probe_does_see_django_when_it_is_loaded():
    # Guards the test above against passing vacuously (a probe that could never see Django).
    done = subprocess.run([sys.executable, "-c", PROBE, "django.conf"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "django.conf" in json.loads(done.stdout)
