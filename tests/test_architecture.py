"""ARCHITECTURE.md and the import contracts in pyproject.toml describe the same tree.

`make lint` runs the contracts themselves (lint-imports); these checks keep the document, the
contracts and the packages from drifting apart, and catch the dependencies import-linter
cannot see (imports by string).
"""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = (ROOT / "ARCHITECTURE.md").read_text()
IMPORTLINTER = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
NOT_APP_CODE = {"tests", "scripts", "deploy", "static", "templates"}


def _top_level_packages() -> set[str]:
    return {p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in NOT_APP_CODE}


def _app_source_files():
    for package in sorted(_top_level_packages()):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def test_every_package_and_django_app_is_described():
    apps = {p.parent.relative_to(ROOT).as_posix() for p in ROOT.glob("**/apps.py")
            if p.parent.parts[len(ROOT.parts)] not in NOT_APP_CODE | {".venv", ".tools"}}
    described = _top_level_packages() | apps
    missing = sorted(name for name in described if f"`{name}/`" not in ARCHITECTURE)
    assert missing == [], f"ARCHITECTURE.md does not describe {missing}"


def test_the_contracts_cover_every_package():
    assert set(IMPORTLINTER["root_packages"]) == _top_level_packages()


def test_every_contract_is_named_in_the_document():
    names = [contract["name"] for contract in IMPORTLINTER["contracts"]]
    assert len(names) >= 8
    missing = [name for name in names if f"**{name}**" not in ARCHITECTURE]
    assert missing == [], f"ARCHITECTURE.md does not list the contracts {missing}"


def test_nothing_cites_the_old_design_document():
    old = "DESIGN" + ".md"  # spelled apart so this file does not find itself
    citing = [path.relative_to(ROOT).as_posix()
              for path in [*ROOT.glob("*.md"), ROOT / ".ci" / "run", *_app_source_files(),
                           *(ROOT / "tests").rglob("*.py"), *(ROOT / "scripts").rglob("*.py")]
              if old in path.read_text()]
    assert citing == [], f"{citing} cite {old}; cite ARCHITECTURE.md"


def test_no_app_imports_another_by_string():
    """`apps.get_model`, `import_module` and `__import__` hide an arrow from the contracts."""
    hidden = re.compile(r"\bapps\.get_model\(|\bimport_module\(|\b__import__\(|\bimport_string\(")
    found = [f"{path.relative_to(ROOT)}:{number}"
             for path in _app_source_files()
             for number, line in enumerate(path.read_text().splitlines(), 1)
             if hidden.search(line)]
    assert found == []


def test_the_revocation_channel_is_named_once():
    literal = '"switchyard:keys:revoked"'
    defined = [path.relative_to(ROOT).as_posix() for path in _app_source_files()
               if literal in path.read_text()]
    assert defined == ["marketplace/tenancy/key_services.py"]
