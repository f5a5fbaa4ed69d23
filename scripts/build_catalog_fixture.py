"""Build catalog/fixtures/catalog.json from the shared LiteLLM price table.

    .venv/bin/python scripts/build_catalog_fixture.py [--data DIR] [--as-of YYYY-MM-DD]

The source table is parsed with `parse_float=Decimal`, so no price ever passes through a float.
Each canonical model (`author/name`, as OpenRouter names them) gathers the endpoints of every
curated provider that serves it. The fixture is committed: users' machines do not have the
shared data, and `manage.py import_catalog` loads only the fixture.

Rounding rule (recorded in the fixture header): a price is stored exactly (source USD x 10^15 for
per-million-token prices, x 10^9 for per-request/per-image prices) unless that product is not an
integer. That happens only for values carrying binary-float noise (15+ significant digits, e.g.
2.0000000000000002E-7): those are rounded half up to the integer nano-USD and listed in the
header. A non-integer product without float noise stops the build rather than being rounded.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from catalog.curation import (  # noqa: E402  (the project root is put on the path above)
    ALIASES,
    AUTHOR_NAMES,
    EXCLUDE_SUFFIXES,
    EXCLUDE_WORDS,
    NAME_PREFIX_AUTHORS,
    ORG_AUTHORS,
    PROVIDERS,
    SANDBOX_ENDPOINTS,
    SANDBOX_PROVIDERS,
)
from core.money import TOKENS_PER_PRICE_UNIT, nanos_to_usd, usd_to_nanos  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "catalog" / "fixtures" / "catalog.json"
SOURCE_NAME = "LiteLLM model_prices_and_context_window_backup.json (release 1.110.2)"
LICENCE = "MIT (BerriAI/litellm)"

PER_M = TOKENS_PER_PRICE_UNIT  # the source prices per token; we price per million tokens
PER_UNIT = 1  # per request / per image: the same unit

# price field -> (source key, scale)
PRICE_FIELDS = {
    "input_nanos_per_m": ("input_cost_per_token", PER_M),
    "output_nanos_per_m": ("output_cost_per_token", PER_M),
    "cache_read_nanos_per_m": ("cache_read_input_token_cost", PER_M),
    "cache_write_nanos_per_m": ("cache_creation_input_token_cost", PER_M),
    "reasoning_nanos_per_m": ("output_cost_per_reasoning_token", PER_M),
    "request_nanos": ("input_cost_per_request", PER_UNIT),
    "image_nanos": ("input_cost_per_image", PER_UNIT),
}
DATED = re.compile(r"-(\d{4}-\d{2}-\d{2}|20\d{6})$")
INPUT_MODALITIES = {"text", "image", "file", "audio", "video"}


def to_nanos(value, units: int, where: str, rounded: list) -> int:
    """Exact integer nanos, or half-up rounding of float noise (recorded in `rounded`).

    `value` is USD per token (or per request/image); `units` of it make one price unit.
    """
    if isinstance(value, float):
        raise TypeError(f"{where}: a float slipped through")
    dec = Decimal(value)
    usd = dec * units
    nanos = usd_to_nanos(usd)
    if nanos_to_usd(nanos) == usd:
        return nanos
    if len(dec.as_tuple().digits) < 15:
        raise ValueError(f"{where}: {value} is not a whole nano-USD and carries no float noise")
    rounded.append({"entry": where, "source_value": str(value), "nanos": nanos})
    return nanos


def is_current(entry: dict, as_of: dt.date) -> bool:
    dep = entry.get("deprecation_date")
    return not dep or dt.date.fromisoformat(dep) > as_of


def canonical(provider: dict, upstream: str) -> tuple[str, str] | None:
    """(author, name) of the canonical model an upstream id serves, or None to skip it."""
    if provider["first_party"]:
        author = provider["first_party"]
        name = upstream.lower()
    else:
        org, _, rest = upstream.rpartition("/")
        org = org.split("/")[-1].lower() if org else ""
        name = rest.lower()
        author = ORG_AUTHORS.get(org)
        if author is None:
            author = next((a for p, a in NAME_PREFIX_AUTHORS if name.startswith(p)), None)
        if author is None:
            return None
        name = re.sub(r"(\d)[p_](\d)", r"\1.\2", name)  # fireworks: llama-v3p3 -> llama-v3.3
        name = re.sub(r"^nvidia-", "", name)
        name = re.sub(r"^(meta-)?llama-v?(\d)", r"llama-\2", name)
        changed = True
        while changed:
            changed = False
            for suffix in ("-turbo", "-fp8", "-fp4", "-tput", "-basic", "-hf", "-fast"):
                if name.endswith(suffix):
                    name, changed = name[: -len(suffix)], True
    if author == "qwen":
        name = re.sub(r"^qwen-(\d)", r"qwen\1", name)  # qwen-2.5-72b -> qwen2.5-72b
    if author == "anthropic":
        name = re.sub(r"-(\d+)-(\d+)$", r"-\1.\2", name)  # claude-sonnet-4-5 -> claude-sonnet-4.5
    name = ALIASES.get(f"{author}/{name}", name)
    return author, name


def quantization(upstream: str) -> str:
    low = upstream.lower()
    for q in ("fp8", "fp4", "bf16", "fp16", "int8", "int4"):
        if q in low:
            return q
    return ""


def supported_parameters(entry: dict, wire: str) -> list[str]:
    params = {"max_tokens", "temperature", "top_p", "stop"}
    if wire == "openai":
        params |= {"frequency_penalty", "presence_penalty", "seed"}
    else:
        params.add("top_k")
    if entry.get("supports_function_calling") or entry.get("supports_tool_choice"):
        params |= {"tools", "tool_choice"}
    if entry.get("supports_response_schema"):
        params |= {"response_format", "structured_outputs"}
    if entry.get("supports_reasoning"):
        params |= {"reasoning", "include_reasoning"}
    return sorted(params)


def modalities(entry: dict) -> tuple[list[str], list[str]]:
    inputs = {"text"}
    inputs |= {m for m in entry.get("supported_modalities", []) if m in INPUT_MODALITIES}
    if entry.get("supports_vision"):
        inputs.add("image")
    if entry.get("supports_pdf_input"):
        inputs.add("file")
    if entry.get("supports_audio_input"):
        inputs.add("audio")
    outputs = {"text"} | {m for m in entry.get("supported_output_modalities", [])
                          if m in {"text", "image", "audio"}}
    return sorted(inputs), sorted(outputs)


def pretty(author: str, name: str) -> str:
    words = []
    for part in name.split("-"):
        if part in {"gpt", "glm", "oss", "qwq", "r1", "vl"} or re.fullmatch(
                r"\d+(\.\d+)?[bkm]", part):
            words.append(part.upper())
        else:
            words.append(part[:1].upper() + part[1:])
    text = " ".join(words)
    text = re.sub(r"\b(GPT|GLM) (?=\d)", r"\1-", text)  # "GPT-4o", as the vendors write it
    return f"{AUTHOR_NAMES.get(author, author)}: {text}"


def release_date(ids: list[str]) -> str | None:
    dates = []
    for upstream in ids:
        m = DATED.search(upstream)
        if m:
            raw = m.group(1).replace("-", "")
            try:
                dates.append(dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:8])))
            except ValueError:
                continue
    return min(dates).isoformat() if dates else None


def collect(data: dict, as_of: dt.date):
    rounded: list[dict] = []
    offers: dict[str, dict[str, dict]] = defaultdict(dict)  # model slug -> provider -> endpoint
    dated_ids: dict[str, list[str]] = defaultdict(list)
    for pslug, provider in PROVIDERS.items():
        entries = {}
        for key, entry in data.items():
            if not isinstance(entry, dict) or entry.get("mode") != "chat":
                continue
            if entry.get("litellm_provider") != provider["litellm"]:
                continue
            upstream = key
            for prefix in provider["strip"]:
                if upstream.startswith(prefix):
                    upstream = upstream[len(prefix):]
            entries[upstream] = (key, entry)
        for upstream in sorted(entries):
            key, entry = entries[upstream]
            low = upstream.lower()
            if any(word in low for word in EXCLUDE_WORDS) or low.endswith(EXCLUDE_SUFFIXES):
                continue
            if provider.get("require_source") and not entry.get("source"):
                continue
            if not is_current(entry, as_of):
                continue
            m = DATED.search(upstream)
            if m and upstream[: m.start()] in entries:
                dated_ids[upstream[: m.start()]].append(upstream)
                continue  # a dated snapshot of a model listed undated
            inp, out = entry.get("input_cost_per_token"), entry.get("output_cost_per_token")
            if inp is None or out is None or (inp == 0 and out == 0):
                continue
            context = entry.get("max_input_tokens") or entry.get("max_tokens")
            if not context:
                continue
            names = canonical(provider, upstream)
            if names is None:
                continue
            slug = "/".join(names)
            if pslug in offers[slug]:
                continue  # two upstream ids for one model here: keep the first (sorted) id
            price, source_usd = {}, {}
            for field, (src, scale) in PRICE_FIELDS.items():
                value = entry.get(src)
                if value is None or value == 0:
                    price[field] = 0
                    continue
                if field == "reasoning_nanos_per_m" and value == out:
                    price[field] = 0  # 0 means "at the output price" (catalog/snapshot.py)
                    continue
                price[field] = to_nanos(value, scale, f"{key}:{src}", rounded)
                source_usd[field] = str(value)
            inputs, outputs = modalities(entry)
            offers[slug][pslug] = {
                "source_key": key,
                "upstream_model_id": upstream,
                "entry": entry,
                "context_length": int(context),
                "max_output_tokens": int(entry.get("max_output_tokens") or 0),
                "quantization": quantization(upstream),
                "region": (entry.get("supported_regions") or [""])[0],
                "supported_parameters": supported_parameters(entry, provider["wire_format"]),
                "input_modalities": inputs,
                "output_modalities": outputs,
                "price": {**price, "source": entry.get("source", ""),
                          "source_date": as_of.isoformat(), "source_usd": source_usd},
            }
            dated_ids[upstream].append(upstream)
    return offers, dated_ids, rounded


def build(data: dict, as_of: dt.date) -> dict:
    offers, dated_ids, rounded = collect(data, as_of)
    models, endpoints = [], []
    for slug in sorted(offers):
        author, name = slug.split("/", 1)
        served = offers[slug]

        def flags(key: str, served=served) -> bool:
            return any(o["entry"].get(key) for o in served.values())

        inputs = sorted({m for o in served.values() for m in o["input_modalities"]})
        outputs = sorted({m for o in served.values() for m in o["output_modalities"]})
        hosts = [p for p in served if not PROVIDERS[p]["first_party"]]
        context = max(o["context_length"] for o in served.values())
        tags = []
        if re.search(r"cod(e|er|estral)|devstral", name):
            tags.append("programming")
        if flags("supports_reasoning"):
            tags.append("reasoning")
        if "image" in inputs:
            tags.append("vision")
        if hosts:
            tags.append("open-weights" if author not in {"anthropic"} else "hosted")
        expiries = [o["entry"].get("deprecation_date") for o in served.values()]
        expiries = [e for e in expiries if e]
        models.append({
            "slug": slug, "author": author, "name": pretty(author, name),
            # No provider count: the sandbox adds endpoints at import and operators add or
            # disable them later, so a count written here goes stale. Pages count live rows.
            "description": f"{pretty(author, name)}, with up to {context:,} tokens of context.",
            "context_length": context,
            "input_modalities": inputs, "output_modalities": outputs,
            "supports_tools": flags("supports_function_calling"),
            "supports_json_schema": flags("supports_response_schema"),
            "supports_vision": "image" in inputs,
            "supports_reasoning": flags("supports_reasoning"),
            "supports_prompt_caching": flags("supports_prompt_caching")
            or any(o["price"]["cache_read_nanos_per_m"] for o in served.values()),
            "tags": tags,
            "released_on": release_date(
                [i for o in served.values() for i in dated_ids.get(o["upstream_model_id"], [])]
            ),
            "expires_on": min(expiries) if expiries else None,
        })
        for pslug in sorted(served):
            offer = {k: v for k, v in served[pslug].items() if k != "entry"}
            endpoints.append({"model": slug, "provider": pslug, **offer})
    by_key = {(e["model"], e["provider"]): e for e in endpoints}
    sandbox_endpoints = []
    sandbox_regions = {p["slug"]: p["regions"][0] for p in SANDBOX_PROVIDERS}
    for spec in SANDBOX_ENDPOINTS:
        real = by_key.get((spec["model"], spec["price_from"]))
        if real is None:
            raise SystemExit(f"sandbox endpoint needs {spec['model']} on {spec['price_from']}")
        sandbox_endpoints.append({
            **{k: real[k] for k in ("context_length", "max_output_tokens", "supported_parameters",
                                    "input_modalities", "output_modalities", "upstream_model_id")},
            "model": spec["model"], "provider": spec["provider"], "quantization": "",
            "region": sandbox_regions[spec["provider"]],
            "source_key": f"{real['source_key']} (price of {real['provider']})",
            "price": real["price"],
        })
    header = {
        "source": SOURCE_NAME,
        "licence": LICENCE,
        "built_on": as_of.isoformat(),
        "selection": (
            "mode=chat entries of the curated providers, not deprecated on built_on, with input "
            "and output prices and a context window; fine-tunes, aliases (*latest), dated "
            "snapshots of an undated model, and audio/search/guard/embedding variants excluded"
        ),
        "units": "*_nanos_per_m: nano-USD per million tokens; request_nanos, image_nanos: "
                 "nano-USD per request / per image",
        "rounding_rule": (
            "exact (source USD x 10^15 per million tokens, x 10^9 per request or image) unless "
            "the product is not an integer, which happens only for binary-float noise "
            "(15+ significant digits): those are rounded half up to the integer nano-USD and "
            "listed in `rounded`; a reasoning price equal to the output price is stored as 0 "
            "(bills at the output price)"
        ),
        "data_policy_note": "provider data policies curated by hand from their public policy "
                            "pages; retention_days null means unknown",
        "rounded": rounded,
    }
    return {
        "header": header,
        "providers": [{"slug": s, **{k: v for k, v in p.items()
                                     if k not in {"litellm", "strip", "first_party",
                                                  "require_source"}}}
                      for s, p in PROVIDERS.items()],
        "models": models,
        "endpoints": endpoints,
        "sandbox": {"providers": SANDBOX_PROVIDERS, "endpoints": sandbox_endpoints},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/work/shared/data", type=Path)
    parser.add_argument("--as-of", default=dt.date.today().isoformat())
    parser.add_argument("--out", default=OUT, type=Path)
    args = parser.parse_args()
    text = (args.data / "model_prices.json").read_text()
    data = json.loads(text, parse_float=Decimal)
    fixture = build(data, dt.date.fromisoformat(args.as_of))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(fixture, indent=1, sort_keys=False) + "\n")
    multi = sum(1 for m in fixture["models"]
                if sum(e["model"] == m["slug"] for e in fixture["endpoints"]) >= 3)
    print(f"{len(fixture['providers'])} providers, {len(fixture['models'])} models, "
          f"{len(fixture['endpoints'])} endpoints ({multi} models with 3+), "
          f"{len(fixture['header']['rounded'])} rounded values -> {args.out}")


if __name__ == "__main__":
    main()
