"""Routing neutrality (issue 14): sponsorship changes what a page shows, never where a request
goes. Random requests are routed on the real catalog's snapshot with no campaign, then again
after vendors bought every placement with enormous bids for several models: the endpoints
chosen, in order (or the error), are the same. And no routing module imports the listings app
(the import-linter contract runs in CI; this checks the contract is declared and scans routing's
source for such an import).
"""

from __future__ import annotations

import ast
import datetime as dt
import random
import tomllib
from pathlib import Path

import pytest

from catalog.importer import import_catalog, load_fixture
from catalog.models import Model
from catalog.selectors import build_routing_snapshot
from catalog.snapshot import is_routable
from core.errors import SwitchyardError
from marketplace.listings.models import (
    Campaign,
    CampaignStatus,
    EditStatus,
    ListingEdit,
    Placement,
    Pricing,
    VendorGrant,
)
from marketplace.tenancy.models import Organization, OrgKind
from routing.health import Health
from routing.policy import select_candidates
from routing.types import ChatRequest, ProviderPrefs

REPO = Path(__file__).resolve().parents[2]
REQUESTS = 500
SEED = 1414
USD = 1_000_000_000


def _random_request(rng: random.Random, models: list[str], providers: list[str]) -> ChatRequest:
    def some(values, most):
        return rng.sample(values, rng.randint(0, most)) if rng.random() < 0.25 else []

    prefs = ProviderPrefs(
        order=some(providers, 3), only=some(providers, 3), ignore=some(providers, 2),
        allow_fallbacks=rng.random() < 0.8,
        data_collection=rng.choice(["allow", "allow", "deny"]), zdr=rng.random() < 0.15,
        sort=rng.choice([None, None, "price", "throughput", "latency"]),
        max_price=({"prompt": rng.randint(0, 5) * USD, "completion": rng.randint(0, 20) * USD}
                   if rng.random() < 0.3 else {}),
        preferred_max_latency_s=rng.choice([None, None, 0.5, 2.0]),
    )
    prompt = "x" * rng.randint(1, 4_000)
    return ChatRequest(
        model=rng.choice(models), messages=[{"role": "user", "content": prompt}],
        models=rng.sample(models, rng.randint(0, 2)), provider=prefs,
        max_tokens=rng.choice([None, 16, 1_000]), prompt_upper_bytes=len(prompt),
        used_parameters=frozenset(rng.sample(["temperature", "tools", "top_p"],
                                             rng.randint(0, 2))))


def _route_all(seed: int) -> list[tuple]:
    """Every random request's choice: the endpoint ids in order, or the error it raised."""
    snapshot = build_routing_snapshot()  # rebuilt: the snapshot itself must not change either
    # Mostly models and providers routable here (the sandbox's), and a few that are not.
    routable = [e for e in snapshot.endpoints.values() if is_routable(e)]
    models = sorted({e.model_slug for e in routable}) * 4 + sorted(snapshot.models)[:8]
    providers = sorted({e.provider.slug for e in routable}) + ["openai", "anthropic"]
    rng = random.Random(seed)
    health = Health()
    choices: list[tuple] = []
    for i in range(REQUESTS):
        request = _random_request(rng, models, providers)
        try:
            selection = select_candidates(snapshot, request, health=health,
                                          rng=random.Random(seed + i))
        except SwitchyardError as error:
            choices.append(("error", type(error).__name__, str(error.message)))
        else:
            choices.append(("ok", tuple(e.id for e in selection.ranked)))
    return choices


def _buy_every_placement(models: list[Model]) -> None:
    """Vendors with verified grants, approved listings and active campaigns bidding far above
    anything else, in every placement, for every task and capability."""
    today = dt.date.today()
    for n, model in enumerate(models):
        vendor = Organization.objects.create(name=f"Vendor {n}", slug=f"vendor-{n}",
                                             kind=OrgKind.VENDOR)
        VendorGrant.objects.create(org=vendor, model=model, evidence="test")
        ListingEdit.objects.create(org=vendor, model=model, description="The best.",
                                   status=EditStatus.APPROVED)
        for pricing in (Pricing.CPM, Pricing.CPC):
            Campaign.objects.create(
                org=vendor, model=model, name=f"{model.slug} {pricing}",
                placements=[p.value for p in Placement], pricing=pricing,
                bid_nanos=1_000 * USD, daily_budget_nanos=100_000 * USD,
                total_budget_nanos=1_000_000 * USD, starts_on=today - dt.timedelta(days=1),
                status=CampaignStatus.ACTIVE)


@pytest.mark.django_db
def test_routing_choices_are_identical_with_and_without_active_campaigns(settings):
    settings.SANDBOX = True
    import_catalog(load_fixture(), sandbox=True)
    without = _route_all(SEED)
    assert sum(1 for c in without if c[0] == "ok") > REQUESTS // 3  # the draw routes plenty
    assert len({c[1] for c in without if c[0] == "ok"}) > 20  # and varies

    # Sponsor the cheapest-looking and the most expensive models alike, several of each.
    routable = Model.objects.filter(endpoints__provider__is_sandbox=True).distinct()
    _buy_every_placement(list(routable.order_by("slug")[:6]))
    assert Campaign.objects.filter(status=CampaignStatus.ACTIVE).count() == 12

    assert _route_all(SEED) == without


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.append(node.value)  # import by string (importlib, Celery paths)
    return names


def test_routing_never_imports_the_listings_app():
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    [contract] = [c for c in contracts if c["name"].startswith("Routing neutrality")]
    assert contract["type"] == "forbidden"
    assert contract["source_modules"] == ["routing"]
    assert contract["forbidden_modules"] == ["marketplace.listings"]

    files = sorted((REPO / "routing").rglob("*.py"))
    assert len(files) > 50
    offenders = [(str(path.relative_to(REPO)), name) for path in files
                 for name in _imports(path)
                 if name == "marketplace.listings" or name.startswith("marketplace.listings.")]
    assert offenders == []
