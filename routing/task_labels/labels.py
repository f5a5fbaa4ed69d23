"""The task labels a request can carry: the slugs are defined once in `core.task_labels`
(the listings app, which may not import routing, targets campaigns by them); re-exported here
for the classifier and its callers."""

from __future__ import annotations

from core.task_labels import (
    AGENTIC,
    CHAT,
    CLASSIFICATION,
    CODING,
    CREATIVE_WRITING,
    DEFAULT_LABEL,
    DOCUMENT_QA,
    EXTRACTION,
    LABELS,
    MATH_REASONING,
    SUMMARIZATION,
    TRANSLATION,
)

__all__ = [
    "AGENTIC",
    "CHAT",
    "CLASSIFICATION",
    "CODING",
    "CREATIVE_WRITING",
    "DEFAULT_LABEL",
    "DOCUMENT_QA",
    "EXTRACTION",
    "LABELS",
    "MATH_REASONING",
    "SUMMARIZATION",
    "TRANSLATION",
]
