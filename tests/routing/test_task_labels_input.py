"""Odd request bodies never raise, only a label comes out, and the model loads once."""

from __future__ import annotations

import gc
import threading
import time
import uuid

import pytest

import routing.task_labels.model as model_module
from routing.task_labels import DEFAULT_LABEL, LABELS, label_task

ODD_BODIES = [
    None,
    "not a dict",
    42,
    [],
    {},
    {"messages": None},
    {"messages": "hello"},
    {"messages": []},
    {"messages": [None, 3, "text", ["nested"]]},
    {"messages": [{"role": "user"}]},
    {"messages": [{"role": "user", "content": None}]},
    {"messages": [{"role": "user", "content": 12}]},
    {"messages": [{"role": "user", "content": ""}]},
    {"messages": [{"role": "user", "content": "   \n\n  "}]},
    {"messages": [{"role": "user", "content": [None, 5, {"type": "text"}, {"text": 7}]}]},
    {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]},
    {"messages": [{"role": "user", "content": [{"type": "image", "source": {"data": "AAAA"}}]}]},
    {"messages": [{"role": {"x": 1}, "content": "hi"}]},
    {"messages": [{"role": "user", "content": "hi"}], "tools": "yes", "response_format": "json"},
    {"messages": [{"role": "user", "content": "hi"}], "tools": [], "functions": None},
    {"system": 5, "messages": [{"role": "user", "content": "hi"}]},
    {"messages": [{"role": "user", "content": "\x00\ud800 emoji 🙂 " * 10}]},
]


@pytest.mark.parametrize("body", ODD_BODIES, ids=range(len(ODD_BODIES)))
def test_odd_bodies_get_a_label_and_never_raise(body):
    assert label_task(body) in LABELS


def test_no_text_at_all_is_the_default_label():
    images_only = {
        "messages": [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,"}}]}
        ]
    }
    assert label_task(images_only) == DEFAULT_LABEL
    assert label_task({"messages": []}) == DEFAULT_LABEL
    assert label_task({}) == DEFAULT_LABEL


def test_text_beside_images_is_read():
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": "data:,"}},
                    {"type": "text", "text": "Translate the sign in this photo into English."},
                ],
            }
        ]
    }
    assert label_task(body) == "translation"


def test_huge_text_costs_no_more_than_a_short_prompt():
    short = {"messages": [{"role": "user", "content": "Translate into Spanish: good evening."}]}
    huge_line = {"messages": [{"role": "user", "content": "word " * 400_000}]}
    huge_lines = {"messages": [{"role": "user", "content": "a line of a log\n" * 100_000}]}
    for body in (short, huge_line, huge_lines):
        assert label_task(body) in LABELS
    started = time.process_time()
    for _ in range(20):
        label_task(huge_line)
        label_task(huge_lines)
    per_call_ms = (time.process_time() - started) * 1000 / 40
    # Reading the body is linear in its size (splitting lines), the model is not: a 2 MB body
    # stays within a few milliseconds.
    assert per_call_ms < 30, per_call_ms


def test_only_a_label_comes_out_and_nothing_of_the_content_is_kept():
    secret = f"confidential-{uuid.uuid4().hex}"
    body = {
        "messages": [
            {"role": "system", "content": f"Internal codename {secret}."},
            {"role": "user", "content": f"Summarize the memo about {secret} in one line."},
        ]
    }
    label = label_task(body)
    assert type(label) is str and label in LABELS
    del body
    gc.collect()
    holders = [
        obj
        for obj in gc.get_objects()
        # Exact types, of the containers and their items: isinstance() asks a weakref.proxy
        # for its referent's class and raises ReferenceError once that referent is gone.
        if type(obj) in (dict, list, tuple, set)
        and obj is not locals()
        and any(type(item) is str and secret in item for item in _items(obj))
    ]
    assert holders == []


def _items(obj):
    if isinstance(obj, dict):
        return list(obj.values()) + list(obj.keys())
    return list(obj)


def test_the_model_loads_once_even_when_threads_race_for_it(monkeypatch):
    monkeypatch.setattr(model_module, "_model", None)
    got = []
    threads = [
        threading.Thread(target=lambda: got.append(model_module.text_model())) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 4
    assert all(m is got[0] for m in got)
