"""Structural signals of a request, added to the text model's log-probabilities (in nats).

The text model only sees words; these see what the words cannot: tools offered or tool turns
in the conversation, a JSON output contract, a pasted document with a question about it, code.
Tools are decisive (`classify.label_task` answers `agentic` before scoring); these lean, so the
text can still overrule them (a JSON-formatted classification stays a classification when its
words say so).
"""

from __future__ import annotations

from .labels import (
    CHAT,
    CODING,
    DOCUMENT_QA,
    EXTRACTION,
    LABELS,
)
from .request_view import RequestView

JSON_BONUS = 2.0
DOCUMENT_QUESTION_BONUS = 2.0
CODE_BONUS = 1.0
DOCUMENT_NOT_CHAT = 1.0
CONVERSATION_BONUS = 0.5

_INDEX = {label: i for i, label in enumerate(LABELS)}


def signal_bonuses(view: RequestView) -> list[float]:
    bonus = [0.0] * len(LABELS)
    if view.wants_json:
        bonus[_INDEX[EXTRACTION]] += JSON_BONUS
    if view.has_document:
        if view.asks_question:
            bonus[_INDEX[DOCUMENT_QA]] += DOCUMENT_QUESTION_BONUS
        # A pasted document is worked on, not chatted about.
        bonus[_INDEX[CHAT]] -= DOCUMENT_NOT_CHAT
    if view.has_code:
        bonus[_INDEX[CODING]] += CODE_BONUS
    if view.user_turns >= 3 and not view.has_document:
        bonus[_INDEX[CHAT]] += CONVERSATION_BONUS
    return bonus
