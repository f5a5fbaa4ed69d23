"""What a provider call raises below HTTP: OSErrors, so they read as I/O failures."""

from __future__ import annotations


class HttpClientError(OSError):
    """A call that failed below HTTP: no status, or no complete response."""


class ConnectError(HttpClientError):
    """No connection: the name did not resolve, was refused, or nothing answered."""

    def __init__(self, message: str, os_error: OSError) -> None:
        super().__init__(message)
        self.os_error = os_error


class Disconnected(HttpClientError):
    """The connection ended before the response did."""


class MalformedResponse(HttpClientError):
    """What came back is not HTTP/1.1."""
