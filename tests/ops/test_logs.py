"""Log lines as JSON through the configured formatter and filter; the Django request id."""

import io
import json
import logging

import pytest
from structlog.contextvars import bound_contextvars

from core.redaction import RedactingFilter
from marketplace.logs import formatter

SECRET = "sk-or-v1-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


@pytest.fixture
def json_logger():
    """A logger writing through the same filter and formatter as settings.LOGGING's handler."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(formatter("json"))
    logger = logging.getLogger("tests.observability.json")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    yield logger, stream
    logger.removeHandler(handler)


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_line_is_one_json_object_with_the_bound_request_id(json_logger):
    logger, stream = json_logger
    with bound_contextvars(request_id="gen-1-abc"):
        logger.info("served %s", "it")
    logger.warning("outside")

    inside, outside = lines(stream)
    assert inside["event"] == "served it"
    assert inside["request_id"] == "gen-1-abc"
    assert inside["level"] == "info" and inside["logger"] == "tests.observability.json"
    assert inside["timestamp"].endswith("Z")
    assert "request_id" not in outside


def test_secrets_in_messages_and_exceptions_are_redacted(json_logger):
    logger, stream = json_logger
    logger.info("calling with Authorization: Bearer %s", SECRET)
    try:
        raise ValueError(f"provider said: bad key {SECRET}")
    except ValueError:
        logger.exception("upstream failed for key=%s", SECRET)

    text = stream.getvalue()
    assert SECRET not in text
    message, failure = lines(stream)
    assert "[redacted]" in message["event"]
    assert "ValueError" in failure["exception"] and "[redacted]" in failure["exception"]


def test_console_format_is_one_readable_line():
    record = logging.LogRecord("x.y", logging.INFO, __file__, 1, "hello %s", ("there",), None)
    with bound_contextvars(request_id="req-1"):
        line = formatter("console").format(record)
    assert "hello there" in line and "request_id=req-1" in line and "\n" not in line


def test_an_unknown_log_format_is_refused():
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        formatter("xml")


@pytest.mark.django_db
def test_django_answers_carry_their_request_id(client):
    first = client.get("/models")
    second = client.get("/models")
    assert first["X-Request-Id"].startswith("req-")
    assert first["X-Request-Id"] != second["X-Request-Id"]
