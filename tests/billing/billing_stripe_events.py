"""Signing Stripe webhook events as Stripe does, for tests."""


def sign_event(event: dict, secret: str, *, timestamp: int | None = None) -> tuple[bytes, str]:
    """Serialize and sign a Stripe event as Stripe does: `t=<ts>,v1=<hmac-sha256>`."""
    import hashlib
    import hmac
    import json
    import time

    payload = json.dumps(event).encode()
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + payload, hashlib.sha256).hexdigest()
    return payload, f"t={ts},v1={digest}"
