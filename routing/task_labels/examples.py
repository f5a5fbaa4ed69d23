"""The labelled example sets committed beside the classifier (`data/`).

`train.jsonl`: `{"label", "text"}` lines the model is fitted on at load. `heldout.jsonl`:
`{"label", "body"}` lines (whole request bodies, different prompts) that only measure it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .labels import LABELS

DATA_DIR = Path(__file__).resolve().parent / "data"
TRAIN_PATH = DATA_DIR / "train.jsonl"
HELDOUT_PATH = DATA_DIR / "heldout.jsonl"


def _read(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as lines:
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("label") not in LABELS:
                raise ValueError(f"{path.name}:{n}: unknown label {row.get('label')!r}")
            rows.append(row)
    return rows


def training_examples() -> list[tuple[str, str]]:
    return [(row["text"], row["label"]) for row in _read(TRAIN_PATH)]


def heldout_examples() -> list[tuple[dict[str, Any], str]]:
    return [(row["body"], row["label"]) for row in _read(HELDOUT_PATH)]
