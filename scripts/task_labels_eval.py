"""The task classifier on its held-out set: accuracy per label, the confusions, CPU per call.

    .venv/bin/python scripts/task_labels_eval.py [--repeat 20]

Reads `routing/task_labels/data/heldout.jsonl` (prompts that are not in the training set) and
labels each body with `routing.task_labels.label_task`, the function the request records use.
CPU is process time (`time.process_time`), after the model is loaded, over `--repeat` passes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from routing.task_labels import LABELS, label_task  # noqa: E402
from routing.task_labels.examples import heldout_examples  # noqa: E402
from routing.task_labels.model import text_model  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="passes over the set for CPU time")
    args = parser.parse_args()

    started = time.perf_counter()
    text_model()
    print(f"model load and fit: {time.perf_counter() - started:.2f} s")

    rows = heldout_examples()
    predicted = [label_task(body) for body, _ in rows]
    correct = sum(p == label for p, (_, label) in zip(predicted, rows, strict=True))
    print(f"held-out accuracy: {correct}/{len(rows)} = {correct / len(rows):.3f}\n")

    print(f"{'label':<18}{'n':>4}{'right':>7}{'accuracy':>10}")
    for label in LABELS:
        mine = [p for p, (_, want) in zip(predicted, rows, strict=True) if want == label]
        right = sum(p == label for p in mine)
        print(f"{label:<18}{len(mine):>4}{right:>7}{right / max(len(mine), 1):>10.2f}")

    confusions = Counter(
        (want, p) for p, (_, want) in zip(predicted, rows, strict=True) if p != want
    )
    print("\nconfusions (expected -> labelled: count)")
    for (want, got), count in confusions.most_common():
        print(f"  {want} -> {got}: {count}")

    cpu = time.process_time()
    for _ in range(args.repeat):
        for body, _ in rows:
            label_task(body)
    per_call = (time.process_time() - cpu) * 1000 / (args.repeat * len(rows))
    print(f"\nCPU per call: {per_call:.3f} ms ({args.repeat} x {len(rows)} calls)")


if __name__ == "__main__":
    main()
