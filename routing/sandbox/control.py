"""A small client for the sandbox's loopback control API (tests and the gateway's tests).

    control = SandboxControl("http://127.0.0.1:PORT")
    control.set_fault("sandbox-openai", error_status=503, fail_first_n=1)
    control.requests("sandbox-openai")  # recent requests, oldest first
    control.clear()                     # every provider's faults
"""

from typing import Any

import httpx


class SandboxControl:
    def __init__(self, base_url: str, timeout: float = 5.0):
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(base_url=self.base_url, timeout=timeout)

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._client.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json()

    def health(self) -> bool:
        return self._call("GET", "/_control/health").get("ok") is True

    def set_fault(self, slug: str, **profile: object) -> dict[str, Any]:
        """Replace ``slug``'s fault profile (fields: see routing/sandbox/faults.py)."""
        fault: dict[str, Any] = self._call("PUT", f"/_control/providers/{slug}/fault",
                                           json=profile)
        return fault

    def fault(self, slug: str) -> dict[str, Any]:
        fault: dict[str, Any] = self._call("GET", f"/_control/providers/{slug}/fault")
        return fault

    def clear_fault(self, slug: str) -> None:
        self._call("DELETE", f"/_control/providers/{slug}/fault")

    def clear(self) -> None:
        """Clear every provider's fault profile."""
        self._call("DELETE", "/_control/faults")

    def requests(self, slug: str) -> list[dict[str, Any]]:
        """Recent requests to ``slug``: method, path, query, headers, body, timestamp.

        Secret headers (authorization, x-api-key, ...) are never recorded."""
        requests: list[dict[str, Any]] = self._call("GET", f"/_control/providers/{slug}/requests")
        return requests

    def clear_requests(self, slug: str) -> None:
        self._call("DELETE", f"/_control/providers/{slug}/requests")

    def clear_cache(self, slug: str) -> None:
        self._call("DELETE", f"/_control/providers/{slug}/cache")

    def reset(self) -> None:
        """Clear faults, request logs and prompt caches of every provider."""
        self._call("POST", "/_control/reset")

    def close(self) -> None:
        self._client.close()
