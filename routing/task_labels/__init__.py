"""The task classifier: labels a `/v1` request with its task (issue 13's request records).

Pure: no Django, no network, nothing stored. `label_task(body)` reads the request body's text
(bounded) and structure, scores it with a small text model over wordllama embeddings fitted on
`data/train.jsonl`, adds structural signals, and returns one of `LABELS`.
"""

from __future__ import annotations

from .classify import label_task
from .labels import DEFAULT_LABEL, LABELS

__all__ = ["DEFAULT_LABEL", "LABELS", "label_task"]
