"""Micro-benchmark: `select_candidates` on a 300-endpoint snapshot (not a test).

    .venv/bin/python -m routing.bench_policy [--models 52] [--per-model 5] [--runs 20000]

Builds a synthetic snapshot (52 models x 5 endpoints plus one with 40: 300 endpoints), then
times the policy for a plain request (OpenRouter's weighted default), the same request under an
org and a key policy, a request with several provider preferences, and the 40-endpoint model,
in microseconds per call. No Django, no I/O.
"""

from __future__ import annotations

import argparse
import random
import time

from catalog.snapshot import EndpointView, ModelView, PriceView, ProviderView, RoutingSnapshot
from core.compliance_rules import NO_RULES, CallerRules, KeyRules, OrgRules
from core.money import usd_to_nanos
from routing.health import Health
from routing.policy import select_candidates
from routing.types import ChatRequest, ProviderPrefs

PARAMS = frozenset({"temperature", "top_p", "tools", "tool_choice", "response_format", "seed"})


def build_snapshot(models: int, per_model: int, wide_model_endpoints: int = 40
                   ) -> RoutingSnapshot:
    rng = random.Random(1)
    providers = [ProviderView(id=i, slug=f"prov{i}", name=f"Provider {i}", wire_format="openai",
                              base_url=f"http://127.0.0.1:9/{i}", retention_days=rng.choice(
                                  [None, 0, 30]), trains_on_data=rng.random() < 0.1)
                 for i in range(max(per_model, wide_model_endpoints))]
    next_id = iter(range(1, 1_000_000))
    model_views: dict[str, ModelView] = {}
    endpoints: dict[int, EndpointView] = {}

    def add_model(slug: str, count: int) -> None:
        eps = []
        for provider in rng.sample(providers, count):
            price = PriceView(price_id=next(next_id),
                              input_nanos_per_m=rng.randrange(50, 5000) * 1_000_000,
                              output_nanos_per_m=rng.randrange(100, 15000) * 1_000_000)
            endpoint = EndpointView(
                id=next(next_id), model_slug=slug, provider=provider,
                upstream_model_id=slug, context_length=rng.choice([32_000, 128_000, 200_000]),
                max_output_tokens=rng.choice([4_096, 16_384]), price=price,
                quantization=rng.choice(["fp8", "bf16", ""]), supported_parameters=PARAMS)
            eps.append(endpoint)
            endpoints[endpoint.id] = endpoint
        model_views[slug] = ModelView(slug=slug, name=slug, author="bench",
                                      context_length=200_000,
                                      input_modalities=frozenset({"text"}),
                                      output_modalities=frozenset({"text"}),
                                      supported_parameters=PARAMS, endpoints=tuple(eps))

    for m in range(models):
        add_model(f"bench/model-{m}", per_model)
    add_model("bench/wide", wide_model_endpoints)
    return RoutingSnapshot(version="bench", models=model_views, endpoints=endpoints)


def time_calls(label: str, snapshot: RoutingSnapshot, request: ChatRequest, health: Health,
               runs: int, rules: CallerRules = NO_RULES) -> None:
    rng = random.Random(2)
    for _ in range(min(runs, 1000)):  # warm up
        select_candidates(snapshot, request, health=health, rng=rng, rules=rules)
    began = time.perf_counter()
    for _ in range(runs):
        select_candidates(snapshot, request, health=health, rng=rng, rules=rules)
    elapsed = time.perf_counter() - began
    print(f"{label:<44} {elapsed / runs * 1e6:8.2f} us/call")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=52)
    parser.add_argument("--per-model", type=int, default=5)
    parser.add_argument("--runs", type=int, default=20_000)
    args = parser.parse_args()
    snapshot = build_snapshot(args.models, args.per_model)
    health = Health()
    messages = [{"role": "user", "content": "Hello " * 50}]
    plain = ChatRequest(model="bench/model-7", messages=messages, models=["bench/model-8"],
                        prompt_upper_bytes=300, max_tokens=256,
                        used_parameters=frozenset({"temperature"}))
    prefs = ChatRequest(model="bench/model-7", messages=messages, prompt_upper_bytes=300,
                        max_tokens=256, used_parameters=frozenset({"temperature", "tools"}),
                        provider=ProviderPrefs(require_parameters=True, data_collection="deny",
                                               ignore=["prov3"], quantizations=["fp8", "bf16"],
                                               max_price={"prompt": usd_to_nanos(4),
                                                          "completion": usd_to_nanos(12)},
                                               sort="price"))
    wide = ChatRequest(model="bench/wide", messages=messages, prompt_upper_bytes=300,
                       max_tokens=256)
    print(f"snapshot: {len(snapshot.endpoints)} endpoints in {len(snapshot.models)} models")
    time_calls("default ranking, model + 1 fallback (10 eps)", snapshot, plain, health, args.runs)
    # Every endpoint check of both policies runs; the deny list and training rule bite a few.
    rules = CallerRules(
        org=OrgRules(version=1, provider_deny=frozenset({"prov1"}), deny_training=True,
                     model_deny=frozenset({"bench/other"})),
        key=KeyRules(version=1, providers=frozenset(f"prov{i}" for i in range(40))))
    time_calls("the same under an org and a key policy", snapshot, plain, health, args.runs,
               rules)
    time_calls("provider prefs + sort=price (5 eps)", snapshot, prefs, health, args.runs)
    time_calls("default ranking, one 40-endpoint model", snapshot, wide, health, args.runs)


if __name__ == "__main__":
    main()
