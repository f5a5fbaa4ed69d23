"""Curation tables for scripts/build_catalog_fixture.py: which providers, how names map.

Plain data with no Django import. Base URLs are what each wire's official SDK takes as its base,
from the providers' API docs: OpenAI-compatible ones with their version path (the adapter
appends /chat/completions), Anthropic and Gemini roots (it appends /v1/messages or /v1beta/...).
Data policies are curated by hand from their public policy pages (None: unknown).
"""

# our provider slug -> facts. `litellm`: the source table's provider key; `strip`: prefixes of
# its entry keys that are not part of the upstream model id; `first_party`: the author of every
# model it serves (None for hosts of open-weights models, whose author comes from the name).
# `require_source`: keep only entries citing a per-model price page (Fireworks' others are
# size-tier defaults, not list prices of a current model).
PROVIDERS = {
    "openai": dict(name="OpenAI", litellm="openai", strip=("openai/",), first_party="openai",
                   wire_format="openai", base_url="https://api.openai.com/v1", regions=["us"],
                   retention_days=30, trains_on_data=False, zdr=True,
                   website="https://openai.com/api/"),
    "anthropic": dict(name="Anthropic", litellm="anthropic", strip=("anthropic/",),
                      first_party="anthropic", wire_format="anthropic",
                      base_url="https://api.anthropic.com", regions=["us"], retention_days=None,
                      trains_on_data=False, zdr=True, website="https://www.anthropic.com/api"),
    "google-ai-studio": dict(name="Google AI Studio", litellm="gemini", strip=("gemini/",),
                             first_party="google", wire_format="gemini",
                             base_url="https://generativelanguage.googleapis.com",
                             regions=["global"], retention_days=55, trains_on_data=False,
                             zdr=False, website="https://ai.google.dev/"),
    "mistral": dict(name="Mistral", litellm="mistral", strip=("mistral/",),
                    first_party="mistralai", wire_format="openai",
                    base_url="https://api.mistral.ai/v1", regions=["eu"], retention_days=30,
                    trains_on_data=False, zdr=True, website="https://mistral.ai/"),
    "xai": dict(name="xAI", litellm="xai", strip=("xai/",), first_party="x-ai",
                wire_format="openai", base_url="https://api.x.ai/v1", regions=["us"],
                retention_days=30, trains_on_data=False, zdr=False, website="https://x.ai/api"),
    "deepseek": dict(name="DeepSeek", litellm="deepseek", strip=("deepseek/",),
                     first_party="deepseek", wire_format="openai",
                     base_url="https://api.deepseek.com/v1", regions=["cn"], retention_days=None,
                     trains_on_data=True, zdr=False, website="https://platform.deepseek.com/"),
    "moonshot": dict(name="Moonshot AI", litellm="moonshot", strip=("moonshot/",),
                     first_party="moonshotai", wire_format="openai",
                     base_url="https://api.moonshot.ai/v1", regions=["cn"], retention_days=None,
                     trains_on_data=False, zdr=False, website="https://platform.moonshot.ai/"),
    "groq": dict(name="Groq", litellm="groq", strip=("groq/",), first_party=None,
                 wire_format="openai", base_url="https://api.groq.com/openai/v1", regions=["us"],
                 retention_days=None, trains_on_data=False, zdr=False,
                 website="https://groq.com/"),
    "together": dict(name="Together", litellm="together_ai", strip=("together_ai/",),
                     first_party=None, wire_format="openai",
                     base_url="https://api.together.xyz/v1", regions=["us"], retention_days=None,
                     trains_on_data=False, zdr=False, website="https://www.together.ai/"),
    # DeepInfra's OpenAI-compatible root is /v1/openai (its chat path has no second /v1).
    "deepinfra": dict(name="DeepInfra", litellm="deepinfra", strip=("deepinfra/",),
                      first_party=None, wire_format="openai",
                      base_url="https://api.deepinfra.com/v1/openai", regions=["us"],
                      retention_days=0, trains_on_data=False, zdr=True,
                      website="https://deepinfra.com/"),
    "fireworks": dict(name="Fireworks", litellm="fireworks_ai",
                      strip=("fireworks_ai/", "accounts/fireworks/models/"), first_party=None,
                      wire_format="openai", base_url="https://api.fireworks.ai/inference/v1",
                      regions=["us"], retention_days=0, trains_on_data=False, zdr=True,
                      website="https://fireworks.ai/", require_source=True),
    "cerebras": dict(name="Cerebras", litellm="cerebras", strip=("cerebras/",),
                     first_party=None, wire_format="openai", base_url="https://api.cerebras.ai/v1",
                     regions=["us"], retention_days=None, trains_on_data=False, zdr=False,
                     website="https://cerebras.ai/"),
    "sambanova": dict(name="SambaNova", litellm="sambanova", strip=("sambanova/",),
                      first_party=None, wire_format="openai",
                      base_url="https://api.sambanova.ai/v1", regions=["us"], retention_days=None,
                      trains_on_data=False, zdr=False, website="https://sambanova.ai/"),
    "nebius": dict(name="Nebius", litellm="nebius", strip=("nebius/",), first_party=None,
                   wire_format="openai", base_url="https://api.studio.nebius.com/v1",
                   regions=["eu"], retention_days=None, trains_on_data=False, zdr=False,
                   website="https://nebius.com/"),
    "novita": dict(name="Novita", litellm="novita", strip=("novita/",), first_party=None,
                   wire_format="openai", base_url="https://api.novita.ai/openai/v1",
                   regions=["us"], retention_days=None, trains_on_data=False, zdr=False,
                   website="https://novita.ai/"),
}

# Substrings of an upstream id that mark a non-chat, alias, fine-tune or third-party variant.
EXCLUDE_WORDS = (
    "ft:", "latest", "audio", "search", "realtime", "computer-use", "container", "tts",
    "transcribe", "robotics", "lyria", "deep-research", "guard", "embed", "ocr", "moderation",
    "image", "customtools", "vibe-cli", "-fim", "-exp", "beta", "experimental", "-gv2",
    "zai-glm", "mistral/glm", "glm-5-2", "deepseek-v4-1", "/community", "deepseek_v3",
    "-base", "draft", "-rope", "-spot", "ultrafast", "highspeed", "content-safety",
)
# Upstream ids ending so are regional or tiered duplicates of a listed model.
EXCLUDE_SUFFIXES = ("-us", "-eu")

# A host's org prefix -> canonical author (OpenRouter's spelling).
ORG_AUTHORS = {
    "meta-llama": "meta-llama", "qwen": "qwen", "deepseek-ai": "deepseek", "deepseek": "deepseek",
    "moonshotai": "moonshotai", "zai-org": "z-ai", "openai": "openai", "google": "google",
    "mistralai": "mistralai", "minimaxai": "minimax", "minimax": "minimax", "nvidia": "nvidia",
    "anthropic": "anthropic", "microsoft": "microsoft", "nousresearch": "nousresearch",
    "xiaomimimo": "xiaomi", "bytedance": "bytedance-seed", "baidu": "baidu",
    "stepfun-ai": "stepfun", "stepfun": "stepfun", "sao10k": "sao10k", "gryphe": "gryphe",
}
# For hosts that drop the org: a name prefix -> author.
NAME_PREFIX_AUTHORS = (
    ("llama", "meta-llama"), ("meta-llama", "meta-llama"), ("qwen", "qwen"), ("qwq", "qwen"),
    ("deepseek", "deepseek"), ("gpt-oss", "openai"), ("kimi", "moonshotai"), ("glm", "z-ai"),
    ("gemma", "google"), ("mistral", "mistralai"), ("mixtral", "mistralai"),
    ("ministral", "mistralai"), ("devstral", "mistralai"), ("minimax", "minimax"),
    ("nemotron", "nvidia"), ("nvidia", "nvidia"),
)
# Host spellings -> the canonical name.
ALIASES = {
    "meta-llama/llama-3.3-70b": "llama-3.3-70b-instruct",
    "meta-llama/llama-3.1-8b": "llama-3.1-8b-instruct",
    "meta-llama/llama3.1-8b": "llama-3.1-8b-instruct",
    "meta-llama/llama-3.1-70b": "llama-3.1-70b-instruct",
    "qwen/qwen-3-32b": "qwen3-32b",
    "qwen/qwen-3.8-27b": "qwen3.8-27b",
    "google/gemma-4-31b": "gemma-4-31b-it",
    "deepseek/deepseek-v3p1": "deepseek-v3.1",
}
AUTHOR_NAMES = {
    "openai": "OpenAI", "anthropic": "Anthropic", "google": "Google", "mistralai": "Mistral",
    "x-ai": "xAI", "deepseek": "DeepSeek", "meta-llama": "Meta", "qwen": "Qwen",
    "moonshotai": "MoonshotAI", "z-ai": "Z.AI", "minimax": "MiniMax", "nvidia": "NVIDIA",
    "microsoft": "Microsoft", "nousresearch": "Nous", "xiaomi": "Xiaomi",
    "bytedance-seed": "ByteDance Seed", "baidu": "Baidu", "stepfun": "StepFun",
}

# The offline sandbox (helper S serves it under /<slug>/...): `sandbox://<slug>` is resolved by
# catalog.selectors.build_routing_snapshot to http://127.0.0.1:SANDBOX_PORT/<slug>.
SANDBOX_PROVIDERS = [
    dict(slug="sandbox-openai", name="Sandbox OpenAI", wire_format="openai",
         base_url="sandbox://sandbox-openai/v1", regions=["local"], retention_days=0,
         trains_on_data=False, zdr=True, website=""),
    dict(slug="sandbox-openai-b", name="Sandbox OpenAI B", wire_format="openai",
         base_url="sandbox://sandbox-openai-b/v1", regions=["local"], retention_days=0,
         trains_on_data=False, zdr=True, website=""),
    dict(slug="sandbox-anthropic", name="Sandbox Anthropic", wire_format="anthropic",
         base_url="sandbox://sandbox-anthropic", regions=["local"], retention_days=0,
         trains_on_data=False, zdr=True, website=""),
    dict(slug="sandbox-gemini", name="Sandbox Gemini", wire_format="gemini",
         base_url="sandbox://sandbox-gemini", regions=["local"], retention_days=0,
         trains_on_data=False, zdr=True, website=""),
    # Three that differ where org policies bite, so each policy field excludes something on a
    # fresh `make run`: another region (EU only), training on prompts, retention without ZDR.
    dict(slug="sandbox-eu", name="Sandbox EU", wire_format="openai",
         base_url="sandbox://sandbox-eu/v1", regions=["eu"], retention_days=0,
         trains_on_data=False, zdr=True, website=""),
    dict(slug="sandbox-trains", name="Sandbox Trains", wire_format="openai",
         base_url="sandbox://sandbox-trains/v1", regions=["local"], retention_days=30,
         trains_on_data=True, zdr=False, website=""),
    dict(slug="sandbox-retains", name="Sandbox Retains", wire_format="openai",
         base_url="sandbox://sandbox-retains/v1", regions=["local"], retention_days=30,
         trains_on_data=False, zdr=False, website=""),
]
# Each sandbox endpoint copies the real list price of `price_from`'s endpoint of that model;
# it runs in its provider's first region.
SANDBOX_ENDPOINTS = [
    dict(provider="sandbox-openai", model="openai/gpt-4o-mini", price_from="openai"),
    dict(provider="sandbox-openai", model="openai/gpt-4o", price_from="openai"),
    dict(provider="sandbox-openai", model="meta-llama/llama-3.3-70b-instruct",
         price_from="deepinfra"),
    dict(provider="sandbox-openai-b", model="meta-llama/llama-3.3-70b-instruct",
         price_from="nebius"),
    dict(provider="sandbox-openai-b", model="openai/gpt-4o-mini", price_from="openai"),
    dict(provider="sandbox-anthropic", model="anthropic/claude-sonnet-4.5",
         price_from="anthropic"),
    dict(provider="sandbox-anthropic", model="anthropic/claude-haiku-4.5",
         price_from="anthropic"),
    dict(provider="sandbox-gemini", model="google/gemini-2.5-flash",
         price_from="google-ai-studio"),
    dict(provider="sandbox-eu", model="openai/gpt-4o-mini", price_from="openai"),
    dict(provider="sandbox-eu", model="meta-llama/llama-3.3-70b-instruct",
         price_from="deepinfra"),
    dict(provider="sandbox-trains", model="openai/gpt-4o-mini", price_from="openai"),
    dict(provider="sandbox-trains", model="meta-llama/llama-3.3-70b-instruct",
         price_from="nebius"),
    dict(provider="sandbox-retains", model="openai/gpt-4o-mini", price_from="openai"),
    dict(provider="sandbox-retains", model="meta-llama/llama-3.3-70b-instruct",
         price_from="deepinfra"),
]
