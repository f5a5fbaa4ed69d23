"""A DDSketch: a mergeable quantile sketch with a relative-error guarantee (standard library only).

Values (latencies in milliseconds) go into logarithmic buckets: a value x > 0 falls in bucket
k = ceil(log_gamma(x)) with gamma = (1 + alpha) / (1 - alpha), so bucket k holds
gamma^(k-1) < x <= gamma^k, and the bucket stands for 2 * gamma^k / (gamma + 1), which is within
a relative error of `alpha` of every value in it. Zero (and anything below `MIN_VALUE`) is
counted apart and answers 0.

Error bound: `quantile(q)` answers a value v with |v - x| <= alpha * x, where x is the exact
q-quantile by rank: the element at index floor(q * (n - 1)) of the n values sorted ascending
(values counted `count` times each). Zero answers exactly 0. With the default alpha = 0.01 every
percentile is within 1% of the true one, whatever the distribution, and the sketch of a day of
latencies has a few hundred buckets at most (1 ms to 10 minutes is about 660 buckets).

Merging two sketches of the same alpha adds their bucket counts, so merge(a, b) is exactly the
sketch of the union of their values: hour sketches merge into days, days into ranges, with no
loss beyond the bound above.

The compact form (`to_dict` / `from_dict`) is JSON with parallel lists, buckets ascending:
{"a": alpha, "z": zero count, "k": [bucket, ...], "n": [count, ...]}.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

DEFAULT_ALPHA = 0.01
MIN_VALUE = 1e-9  # below this a value counts as zero


class DDSketch:
    __slots__ = ("alpha", "gamma", "_log_gamma", "zero_count", "buckets")

    def __init__(self, alpha: float = DEFAULT_ALPHA) -> None:
        if not 0 < alpha < 1:
            raise ValueError("alpha must be between 0 and 1")
        self.alpha = alpha
        self.gamma = (1 + alpha) / (1 - alpha)
        self._log_gamma = math.log(self.gamma)
        self.zero_count = 0
        self.buckets: dict[int, int] = {}

    # Building ---------------------------------------------------------------------------------

    def key(self, value: float) -> int | None:
        """The bucket of `value`, or None for zero (and negatives, counted as zero)."""
        if value < MIN_VALUE:
            return None
        return math.ceil(math.log(value) / self._log_gamma)

    def add_key(self, key: int | None, count: int = 1) -> None:
        """Count `count` values of bucket `key` (from `key()`; None is zero)."""
        if count <= 0:
            return
        if key is None:
            self.zero_count += count
        else:
            self.buckets[key] = self.buckets.get(key, 0) + count

    def add(self, value: float, count: int = 1) -> None:
        self.add_key(self.key(value), count)

    def merge(self, other: DDSketch) -> DDSketch:
        """Add `other`'s counts into this sketch (same alpha); returns self."""
        if other.alpha != self.alpha:
            raise ValueError("cannot merge sketches of different alpha")
        self.zero_count += other.zero_count
        buckets = self.buckets
        for key, count in other.buckets.items():
            buckets[key] = buckets.get(key, 0) + count
        return self

    def merge_dict(self, data: Mapping[str, Any] | None) -> DDSketch:
        """Merge a sketch given in its compact form (`to_dict`) without building it first."""
        if not data:
            return self
        if float(data.get("a", DEFAULT_ALPHA)) != self.alpha:
            raise ValueError("cannot merge sketches of different alpha")
        self.zero_count += int(data.get("z", 0))
        buckets = self.buckets
        get = buckets.get
        keys, counts = data.get("k") or (), data.get("n") or ()
        if len(keys) != len(counts):
            raise ValueError("a sketch's keys and counts differ in length")
        for key, count in zip(keys, counts):  # noqa: B905  (checked above; this is hot)
            buckets[key] = get(key, 0) + count
        return self

    @classmethod
    def merged(cls, sketches: Iterable[DDSketch], alpha: float = DEFAULT_ALPHA) -> DDSketch:
        result = cls(alpha)
        for sketch in sketches:
            result.merge(sketch)
        return result

    # Reading ----------------------------------------------------------------------------------

    @property
    def count(self) -> int:
        return self.zero_count + sum(self.buckets.values())

    def value_of(self, key: int) -> float:
        """The value bucket `key` stands for (within alpha of everything in it)."""
        return 2 * self.gamma ** key / (self.gamma + 1)

    def quantile(self, q: float) -> float | None:
        """The q-quantile (0 <= q <= 1) within the relative error alpha; None when empty."""
        if not 0 <= q <= 1:
            raise ValueError("q must be between 0 and 1")
        total = self.count
        if total == 0:
            return None
        rank = math.floor(q * (total - 1))
        if rank < self.zero_count:
            return 0.0
        seen = self.zero_count
        for key in sorted(self.buckets):
            seen += self.buckets[key]
            if seen > rank:
                return self.value_of(key)
        return self.value_of(max(self.buckets))  # not reached: the counts add up to total

    # The compact JSON form --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        keys = sorted(key for key, count in self.buckets.items() if count)
        return {"a": self.alpha, "z": self.zero_count, "k": keys,
                "n": [self.buckets[key] for key in keys]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> DDSketch:
        if not data:
            return cls()
        return cls(float(data.get("a", DEFAULT_ALPHA))).merge_dict(data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DDSketch):
            return NotImplemented
        return (self.alpha == other.alpha and self.zero_count == other.zero_count
                and {k: v for k, v in self.buckets.items() if v}
                == {k: v for k, v in other.buckets.items() if v})

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"DDSketch(alpha={self.alpha}, count={self.count})"
