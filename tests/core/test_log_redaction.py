"""The logging filter that keeps secrets out of every log line, even when code logs one."""

from __future__ import annotations

import io
import logging
import secrets

import pytest

from core.compliance_rules import ByokCredential
from core.redaction import REDACTED, RedactingFilter, register_secret


@pytest.fixture
def capture():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger(f"test.redaction.{secrets.token_hex(4)}")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_shaped_secrets_in_messages_and_arguments_are_redacted(capture):
    logger, stream = capture
    org_key = "sk-sy-" + secrets.token_urlsafe(24)
    logger.info("calling with Authorization: Bearer %s", org_key)
    logger.warning("provider said: %r", {"api_key": "abc123456789secret", "model": "m"})
    logger.error("url %s", "https://user:hunter2hunter2@api.example.com/v1")
    text = stream.getvalue()
    assert org_key not in text and org_key[:12] not in text
    assert "abc123456789secret" not in text and "hunter2hunter2" not in text
    assert text.count(REDACTED) >= 3
    # What is not secret survives: ids and words.
    logger.info("request gen-%s finished for %s", "0123456789abcdef0123456789abcdef", "alice")
    assert "gen-0123456789abcdef0123456789abcdef finished for alice" in stream.getvalue()


def test_a_live_byok_key_of_any_shape_is_redacted_while_its_holder_lives(capture):
    logger, stream = capture
    plain = "plainkey" + secrets.token_hex(8)  # no known key shape: only the registry knows it
    credential = ByokCredential(byok_id=1, provider_slug="p", api_key=plain)
    register_secret(credential)
    logger.info("oops, logged the key %s and its start %s", plain, plain)
    try:
        raise ValueError(f"the provider refused {plain}")
    except ValueError:
        logger.exception("upstream failed")
    text = stream.getvalue()
    assert plain not in text
    assert "upstream failed" in text and "ValueError: the provider refused [redacted]" in text
    del credential


def test_the_settings_install_the_filter_on_the_root_handlers():
    handlers = logging.getLogger().handlers
    ours = [h for h in handlers if any(isinstance(f, RedactingFilter) for f in h.filters)]
    assert ours, "settings.LOGGING must put RedactingFilter on the root handler"
