"""The DDSketch: every quantile within its stated relative error of the exact one (by rank:
the element at floor(q * (n - 1)) of the sorted values), and merging is exactly the sketch of
the union, so hour sketches can be merged into days and ranges."""

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.sketch import DDSketch

QUANTILES = (0.0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)
values = st.lists(
    st.one_of(st.integers(min_value=0, max_value=600_000),
              st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False)),
    min_size=1, max_size=300)
weighted = st.lists(st.tuples(st.integers(min_value=0, max_value=120_000),
                              st.integers(min_value=1, max_value=50)), min_size=1, max_size=100)


def exact_quantile(sorted_values: list[float], q: float) -> float:
    return sorted_values[math.floor(q * (len(sorted_values) - 1))]


def assert_within(sketch: DDSketch, expanded: list[float]) -> None:
    expanded = sorted(expanded)
    assert sketch.count == len(expanded)
    for q in QUANTILES:
        exact = exact_quantile(expanded, q)
        estimate = sketch.quantile(q)
        if exact < 1e-9:
            assert estimate == 0
        else:
            # The bound, plus a hair for floating point at a bucket's edge.
            assert abs(estimate - exact) <= sketch.alpha * exact * (1 + 1e-9), (q, exact, estimate)


@settings(max_examples=150, deadline=None)
@given(values, st.sampled_from([0.01, 0.02, 0.05]))
def test_quantiles_are_within_the_stated_relative_error(data, alpha):
    sketch = DDSketch(alpha)
    for value in data:
        sketch.add(value)
    assert_within(sketch, data)


@settings(max_examples=100, deadline=None)
@given(weighted)
def test_counts_weigh_values(pairs):
    sketch = DDSketch()
    for value, count in pairs:
        sketch.add(value, count)
    assert_within(sketch, [value for value, count in pairs for _ in range(count)])


@settings(max_examples=100, deadline=None)
@given(values, values)
def test_merge_is_the_sketch_of_the_union(a_values, b_values):
    a, b, union = DDSketch(), DDSketch(), DDSketch()
    for value in a_values:
        a.add(value)
        union.add(value)
    for value in b_values:
        b.add(value)
        union.add(value)
    assert a.merge(b) == union
    assert_within(a, a_values + b_values)


@settings(max_examples=50, deadline=None)
@given(weighted)
def test_the_compact_form_round_trips_through_json(pairs):
    sketch = DDSketch()
    for value, count in pairs:
        sketch.add(value, count)
    again = DDSketch.from_dict(json.loads(json.dumps(sketch.to_dict())))
    assert again == sketch
    assert again.quantile(0.5) == sketch.quantile(0.5)


def test_an_empty_sketch_has_no_quantile_and_alphas_do_not_mix():
    assert DDSketch().quantile(0.5) is None
    assert DDSketch().count == 0
    with pytest.raises(ValueError):
        DDSketch(0.01).merge(DDSketch(0.02))
    with pytest.raises(ValueError):
        DDSketch().quantile(1.5)
