"""Provider adapters, one module per wire format, looked up by `ProviderView.wire_format`."""

from __future__ import annotations

from types import MappingProxyType

from routing.adapters.anthropic import AnthropicAdapter
from routing.adapters.base import Adapter
from routing.adapters.gemini import GeminiAdapter
from routing.adapters.openai import OpenAIAdapter

# Adapters hold no state, so one instance each serves every request (a constant map).
ADAPTERS = MappingProxyType({
    adapter.wire_format: adapter
    for adapter in (OpenAIAdapter(), AnthropicAdapter(), GeminiAdapter())
})


def adapter_for(wire_format: str) -> Adapter:
    """The adapter for a wire format; KeyError names an unknown one (a catalog bug)."""
    try:
        return ADAPTERS[wire_format]
    except KeyError:
        raise KeyError(f"No adapter for wire format {wire_format!r}") from None
