"""Property: org policy, then key policy, then the request's preferences only ever narrow.

Over random providers (regions, retention, training), random org and key policies and random
`provider` preferences, every endpoint the router would try satisfies all three (checked here
by predicates written from the policy fields' definitions, not by the router's own code), and
adding a layer never adds an endpoint.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.snapshot import EndpointView
from core.compliance_rules import CallerRules, KeyRules, OrgRules
from core.errors import ModelNotAllowed, NoEndpointAvailable
from routing.health import Health
from routing.policy import select_candidates
from routing.types import ProviderPrefs
from tests.routing.builders import chat, endpoint, provider, snapshot

SLUGS = ["p0", "p1", "p2", "p3", "p4", "p5"]
REGIONS = ["eu", "us", "local"]
MODELS = ["acme/a", "acme/b"]


@st.composite
def worlds(draw):
    endpoints = []
    for slug in SLUGS:
        prov = provider(
            slug, regions=tuple(draw(st.lists(st.sampled_from(REGIONS), max_size=2,
                                              unique=True))),
            retention_days=draw(st.sampled_from([None, 0, 30])),
            trains_on_data=draw(st.booleans()), zdr=draw(st.booleans()))
        for model in draw(st.lists(st.sampled_from(MODELS), min_size=1, unique=True)):
            endpoints.append(endpoint(
                model, prov, region=draw(st.sampled_from(["", *REGIONS])),
                input_usd_m=str(draw(st.integers(1, 9))),
                output_usd_m=str(draw(st.integers(1, 9)))))
    return snapshot(*endpoints)


def maybe_set(values):
    return st.one_of(st.none(), st.frozensets(st.sampled_from(values), max_size=len(values)))


org_rules = st.builds(
    OrgRules, version=st.integers(1, 50), provider_allow=maybe_set(SLUGS),
    provider_deny=maybe_set(SLUGS), model_allow=maybe_set(MODELS), model_deny=maybe_set(MODELS),
    regions=maybe_set(REGIONS), require_zdr=st.booleans(), deny_training=st.booleans(),
    fallbacks_outside_preferred=st.booleans())
key_rules = st.builds(KeyRules, version=st.integers(1, 50), models=maybe_set(MODELS),
                      providers=maybe_set(SLUGS), regions=maybe_set(REGIONS))
slug_lists = st.lists(st.sampled_from(SLUGS), max_size=3, unique=True)
prefs = st.builds(ProviderPrefs, order=slug_lists, only=slug_lists, ignore=slug_lists,
                  zdr=st.booleans(), data_collection=st.sampled_from(["allow", "deny"]),
                  allow_fallbacks=st.booleans())


def regions_of(e: EndpointView) -> tuple[str, ...]:
    return (e.region,) if e.region else e.provider.regions


def within(e: EndpointView, allowed: frozenset[str] | None) -> bool:
    return not allowed or (bool(regions_of(e)) and set(regions_of(e)) <= allowed)


def keeps_nothing(e: EndpointView) -> bool:
    return e.provider.zdr or e.provider.retention_days == 0


def org_allows(e: EndpointView, o: OrgRules, p: ProviderPrefs) -> bool:
    slug = e.provider.slug
    preferred = p.order + p.only
    return ((not o.provider_allow or slug in o.provider_allow)
            and not (o.provider_deny and slug in o.provider_deny)
            and (not o.model_allow or e.model_slug in o.model_allow)
            and not (o.model_deny and e.model_slug in o.model_deny)
            and within(e, o.regions)
            and (not o.require_zdr or keeps_nothing(e))
            and not (o.deny_training and e.provider.trains_on_data)
            and (o.fallbacks_outside_preferred or not preferred or slug in preferred))


def key_allows(e: EndpointView, k: KeyRules) -> bool:
    return ((not k.models or e.model_slug in k.models)
            and (not k.providers or e.provider.slug in k.providers)
            and within(e, k.regions))


def request_allows(e: EndpointView, p: ProviderPrefs) -> bool:
    slug = e.provider.slug
    return ((not p.only or slug in p.only) and slug not in p.ignore
            and (not p.zdr or keeps_nothing(e))
            and not (p.data_collection == "deny"
                     and (e.provider.trains_on_data or e.provider.retention_days is None)))


def tried(snap, rules: CallerRules, p: ProviderPrefs, seed: int) -> list[EndpointView]:
    request = chat(MODELS[0], models=[MODELS[1]], prefs=p)
    try:
        return select_candidates(snap, request, health=Health(), rng=random.Random(seed),
                                 rules=rules).ranked
    except (ModelNotAllowed, NoEndpointAvailable):
        return []


@settings(max_examples=200, deadline=None)
@given(worlds(), org_rules, key_rules, prefs, st.integers(0, 2**32))
def test_every_endpoint_tried_satisfies_org_key_and_request(snap, o, k, p, seed):
    for e in tried(snap, CallerRules(org=o, key=k), p, seed):
        assert org_allows(e, o, p), (e, o)
        assert key_allows(e, k), (e, k)
        assert request_allows(e, p), (e, p)


@settings(max_examples=200, deadline=None)
@given(worlds(), org_rules, key_rules, prefs, st.integers(0, 2**32))
def test_each_layer_only_narrows(snap, o, k, p, seed):
    p.allow_fallbacks = True  # otherwise one endpoint is drawn at random: compare whole sets
    no_prefs = ProviderPrefs()

    def ids(rules, request_prefs):
        return {e.id for e in tried(snap, rules, request_prefs, seed)}

    everything = ids(CallerRules(), no_prefs)
    org_only = ids(CallerRules(org=o), no_prefs)
    org_key = ids(CallerRules(org=o, key=k), no_prefs)
    all_three = ids(CallerRules(org=o, key=k), p)
    assert all_three <= org_key <= org_only <= everything
    assert ids(CallerRules(key=k), no_prefs) >= org_key
    assert ids(CallerRules(), p) >= all_three
