"""core.redaction: secrets never survive into logs or error messages."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.redaction import REDACTED, redact, short_message


@pytest.mark.parametrize("text, secret", [
    ("Incorrect API key provided: sk-proj-AbCdEf1234567890", "sk-proj-AbCdEf1234567890"),
    ("key sk-ant-api03-xyzXYZ0987654321 is invalid", "sk-ant-api03-xyzXYZ0987654321"),
    ("our key sk-sy-Q2hhbmdlTWUhIQ was sent", "sk-sy-Q2hhbmdlTWUhIQ"),
    ("Authorization: Bearer abc.def-123_456", "abc.def-123_456"),
    ("see https://admin:hunter2@internal.example/x", "hunter2"),
    ('{"api_key": "s3cr3t-value"}', "s3cr3t-value"),
    ("token=deadbeefcafe&x=1", "deadbeefcafe"),
    ("x-goog-api-key: AIzaSyA1234567890abcdefghij", "AIzaSyA1234567890abcdefghij"),
    ("user alice@example.com exceeded", "alice@example.com"),
    ("id 0123456789abcdef0123456789abcdef01 leaked", "0123456789abcdef0123456789abcdef01"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig", "eyJhbGciOiJIUzI1NiJ9"),
    ("AKIAABCDEFGHIJKLMNOP in use", "AKIAABCDEFGHIJKLMNOP"),
])
def test_secret_shapes_are_removed(text, secret):
    cleaned = redact(text)
    assert secret not in cleaned
    assert REDACTED in cleaned or "[email]" in cleaned


def test_named_secrets_are_removed_whatever_their_shape():
    assert redact("provider said: plainword-key was wrong", ["plainword-key"]) == \
        f"provider said: {REDACTED} was wrong"


def test_ordinary_messages_pass_unchanged():
    for text in ("max_tokens must be at most 4096", "Overloaded",
                 "This model's maximum context length is 128000 tokens.",
                 "Invalid value for 'temperature': expected a number between 0 and 2."):
        assert redact(text) == text


def test_short_message_is_one_capped_line():
    message = short_message("line one\n\n  line two " + "x " * 200)
    assert "\n" not in message and len(message) == 120 and message.endswith("…")


@given(prefix=st.text(max_size=40), suffix=st.text(max_size=40),
       body=st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
                    min_size=20, max_size=60))
def test_a_provider_key_never_survives(prefix, suffix, body):
    key = f"sk-{body}"
    assert key not in redact(f"{prefix} {key} {suffix}")
    assert key not in short_message(f"{prefix} {key} {suffix}", [key])
