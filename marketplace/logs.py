"""Log lines as structlog renders them: one JSON object a line, or a readable line for people.

settings.LOGGING's handler uses `formatter(LOG_FORMAT)`, a `structlog.stdlib.ProcessorFormatter`,
so every existing `logging.getLogger(...)` call renders through structlog unchanged: timestamp
(UTC, ISO 8601), level, logger, event, whatever is bound in the context (`request_id`, bound
per request by the gateway and by `marketplace.request_ids.RequestIdMiddleware`) and the
exception. Redaction stays on the handler (core.redaction.RedactingFilter, which also redacts
the traceback text); the formatter renders that redacted text rather than formatting the
traceback again, and redacts every string it renders once more, so a secret bound in the
context or passed to a structlog logger is caught too.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import structlog

from core.redaction import LIVE_SECRETS, redact_log

LOG_FORMATS = ("json", "console")


def _redacted_exception(_logger: Any, _name: str,
                        event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Use the record's traceback text as the RedactingFilter left it, when it did."""
    record = event.get("_record")
    exc_text = getattr(record, "exc_text", None)
    if exc_text and "exc_info" in event:
        del event["exc_info"]
        event["exception"] = exc_text
    return event


def _redact_strings(_logger: Any, _name: str,
                    event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    secrets = LIVE_SECRETS.values()
    for key, value in event.items():
        if isinstance(value, str) and not key.startswith("_"):
            event[key] = redact_log(value, secrets)
    return event


def _shared() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redacted_exception,
    ]


def formatter(log_format: str = "console") -> structlog.stdlib.ProcessorFormatter:
    """The logging formatter for LOG_FORMAT (`json` or `console`); settings.LOGGING builds it."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {LOG_FORMATS}, not {log_format!r}")
    _configure_structlog()
    renderer: Any = (
        structlog.processors.JSONRenderer() if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False,
                                           exception_formatter=structlog.dev.plain_traceback))
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared(),
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, _redact_strings, renderer],
    )


def _configure_structlog() -> None:
    """structlog's own loggers (`structlog.get_logger()`) hand their events to logging too."""
    structlog.configure(
        processors=[*_shared()[:-1], structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )

