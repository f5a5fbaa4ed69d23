"""The task labels a request can carry: stable slugs, stored in request records and analytics.

They live in core so that apps which may not import routing (the listings app targets
campaigns by task) share the one list the classifier (`routing.task_labels`) labels with.
"""

from __future__ import annotations

CODING = "coding"
EXTRACTION = "extraction"
SUMMARIZATION = "summarization"
TRANSLATION = "translation"
CLASSIFICATION = "classification"
DOCUMENT_QA = "document_qa"
CHAT = "chat"
CREATIVE_WRITING = "creative_writing"
MATH_REASONING = "math_reasoning"
AGENTIC = "agentic"

LABELS: tuple[str, ...] = (
    CODING,
    EXTRACTION,
    SUMMARIZATION,
    TRANSLATION,
    CLASSIFICATION,
    DOCUMENT_QA,
    CHAT,
    CREATIVE_WRITING,
    MATH_REASONING,
    AGENTIC,
)

# What a request with no text at all (empty messages, images only) is labelled: a bare
# conversation turn is the least specific claim we can make about it.
DEFAULT_LABEL = CHAT
