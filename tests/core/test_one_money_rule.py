"""One money rule (ARCHITECTURE.md, "Money"): no second constant, conversion or USD format.

Every non-test Python file outside `core/money.py` is scanned. Dollars to nanos was once
converted three ways (half up, truncated, half even) and formatted by eleven functions; this
test keeps the answer at one. `core/money_input.py` is the one parser: it may be named for
dollars, but it converts through `core.money` like everyone else.
"""

import ast
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MONEY = ROOT / "core" / "money.py"
SKIP_DIRS = {"tests", "migrations", "node_modules", "var", "static", "__pycache__"}

_BILLION = r"(?:1_000_000_000|1000000000|10\s*\*\*\s*9|1e9)"
RULES = {
    "defines NANOS_PER_USD again": re.compile(r"^\s*NANOS_PER_(?:USD|CENT)\s*(?::[^=]*)?=(?!=)"),
    "converts dollars and nanos by hand": re.compile(
        r"[*/]\s*NANOS_PER_(?:USD|CENT)\b|\bNANOS_PER_(?:USD|CENT)\s*[*/]"
        r"|divmod\([^)]*NANOS_PER_(?:USD|CENT)"
        rf"|[*/]\s*{_BILLION}\b|\b{_BILLION}\s*\*(?!\*)|scaleb\(\s*-\s*(?:9|15)\s*\)"),
    "has a rounding rule of its own": re.compile(
        r"\bROUND_(?:HALF_UP|HALF_EVEN|HALF_DOWN|DOWN|UP|CEILING|FLOOR|05UP)\b|\.quantize\("),
    "formats dollars itself": re.compile(
        r"""\$\{|["']\$["']\s*\+|\.normalize\(\)|nanos_to_usd\([^)]*\):"""
        r"|(?i:cents)\)?\s*/\s*100\b"),
}
# Work a function named for dollars may not do itself: it must hand the amount to core.money.
_OWN_WORK_CALLS = {"format", "normalize", "quantize", "scaleb", "to_integral_value", "Decimal",
                   "divmod", "round", "float"}
_USD_NAME = re.compile(r"(?:^|_)(?:usd|dollars?)(?:$|_)")
_DELEGATES_TO = {"parse_usd_nanos"}


def _sources():
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS]
        for name in files:
            path = Path(top) / name
            if name.endswith(".py") and path != MONEY:
                yield path


def _money_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """(functions imported from core.money, local names bound to the module itself)."""
    functions, modules = set(_DELEGATES_TO), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "core.money":
            functions |= {a.asname or a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module == "core":
            modules |= {a.asname or a.name for a in node.names if a.name == "money"}
    return functions, modules


def _called(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _usd_function_problem(fn: ast.FunctionDef, functions: set[str], modules: set[str]):
    delegates = False
    for node in ast.walk(fn):
        if isinstance(node, ast.BinOp) and isinstance(
                node.op, ast.Mult | ast.Div | ast.FloorDiv | ast.Mod | ast.Pow):
            return "does arithmetic"
        if isinstance(node, ast.Call):
            name = _called(node)
            if name in _OWN_WORK_CALLS:
                return f"calls {name}()"
            func = node.func
            if isinstance(func, ast.Name) and func.id in functions or (
                    isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                    and func.value.id in modules):
                delegates = True
    return None if delegates else "does not call core.money"


def _violations(path: Path, root: Path = ROOT) -> list[str]:
    text = path.read_text(encoding="utf-8")
    where = path.relative_to(root)
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0]
        for what, rule in RULES.items():
            if rule.search(code):
                found.append(f"{where}:{number} {what}: {line.strip()}")
    if path == root / "core" / "money_input.py":
        return found
    tree = ast.parse(text)
    functions, modules = _money_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and _USD_NAME.search(
                node.name):
            problem = _usd_function_problem(node, functions, modules)
            if problem:
                found.append(f"{where}:{node.lineno} {node.name}() is named for dollars but "
                             f"{problem}: a second conversion or format")
    return found


def test_no_second_money_constant_conversion_or_format():
    violations = [v for path in _sources() for v in _violations(path)]
    assert violations == []


def test_the_scan_covers_the_apps():
    scanned = {p.relative_to(ROOT).parts[0] for p in _sources()}
    assert {"billing", "catalog", "core", "marketplace", "routing", "scripts"} <= scanned


@pytest.mark.parametrize("source", [
    "NANOS_PER_USD = 10**9\n",
    "def f(v):\n    return int(Decimal(str(v)) * NANOS_PER_USD)\n",
    "def f(n):\n    whole, frac = divmod(n, NANOS_PER_USD)\n",
    "x = Decimal(n).scaleb(-9)\n",
    "x = d.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)\n",
    "def f(n):\n    return f\"${n:,.2f}\"\n",
    "def f(n):\n    return f\"{nanos_to_usd(n):.6f}\"\n",
    "CREDIT = 10 * 1_000_000_000\n",
    "from core.money import nanos_to_usd\ndef usd_plain(n):\n"
    "    return format(nanos_to_usd(n).normalize(), 'f')\n",
    "def cents_usd(c):\n    return str(c // 100)\n",
])
def test_each_rule_catches_what_it_is_for(tmp_path, source):
    path = tmp_path / "billing" / "sample.py"
    path.parent.mkdir()
    path.write_text(source)
    assert _violations(path, tmp_path)


def test_a_thin_delegate_passes(tmp_path):
    path = tmp_path / "sample.py"
    path.write_text("from core import money\n\n\ndef usd(nanos):\n"
                    "    return money.dashboard_usd(int(nanos or 0))\n")
    assert _violations(path, tmp_path) == []
