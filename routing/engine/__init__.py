"""The routing engine: calls providers through their adapters, with retries and fallbacks."""

from routing.engine.upstream import Upstream

__all__ = ["Upstream"]
