"""The task classifier measured on its held-out set (issue 13: at least 0.75)."""

from __future__ import annotations

import time

from routing.task_labels import LABELS, label_task
from routing.task_labels.examples import heldout_examples, training_examples
from routing.task_labels.model import text_model

MIN_ACCURACY = 0.75


def _user_texts(body: dict) -> set[str]:
    return {m["content"] for m in body.get("messages", []) if isinstance(m.get("content"), str)}


def test_heldout_set_is_separate_large_enough_and_covers_every_label():
    heldout = heldout_examples()
    assert len(heldout) >= 100
    assert {label for _, label in heldout} == set(LABELS)
    trained = {text for text, _ in training_examples()}
    for body, _ in heldout:
        assert not _user_texts(body) & trained


def test_training_set_covers_every_label():
    counts = {label: 0 for label in LABELS}
    for _, label in training_examples():
        counts[label] += 1
    assert min(counts.values()) >= 30, counts


def test_accuracy_on_the_heldout_set_is_at_least_0_75():
    heldout = heldout_examples()
    right = sum(label_task(body) == label for body, label in heldout)
    accuracy = right / len(heldout)
    print(f"\ntask classifier held-out accuracy: {right}/{len(heldout)} = {accuracy:.3f}")
    assert accuracy >= MIN_ACCURACY


def test_cpu_per_call_is_within_the_issue_budget():
    text_model()  # the one-off load is not a call's cost
    bodies = [body for body, _ in heldout_examples()]
    started = time.process_time()
    for body in bodies * 3:
        label_task(body)
    per_call_ms = (time.process_time() - started) * 1000 / (3 * len(bodies))
    print(f"\ntask classifier CPU per call: {per_call_ms:.3f} ms")
    assert per_call_ms < 3.0
