"""`label_task`: one request body in, one task label out."""

from __future__ import annotations

from typing import Any

from .labels import AGENTIC, DEFAULT_LABEL, LABELS
from .model import text_model
from .request_view import view_request
from .signals import signal_bonuses


def label_task(body: Any) -> str:
    """The task label (one of `LABELS`) of an OpenAI- or Anthropic-shaped request body.

    Never raises on odd input (wrong types, empty messages, images only, huge text): what
    cannot be read is skipped, and a request with no text at all is `DEFAULT_LABEL`. Returns
    only the label; nothing of the body is kept.
    """
    view = view_request(body)
    # Tools offered (and not switched off by `tool_choice: "none"`) or tool turns in the
    # conversation: whatever the words ask, the model is acting through tools.
    if view.has_tools:
        return AGENTIC
    bonus = signal_bonuses(view)
    if not view.text:
        best = max(range(len(LABELS)), key=bonus.__getitem__)
        return LABELS[best] if bonus[best] > 0 else DEFAULT_LABEL
    # Bonuses are in log-probability units; the logits differ from the log-probabilities by
    # one constant per text, so the best label is the same.
    scores = [score + extra for score, extra in zip(text_model().scores(view.text), bonus,
                                                    strict=True)]
    return LABELS[max(range(len(LABELS)), key=scores.__getitem__)]
