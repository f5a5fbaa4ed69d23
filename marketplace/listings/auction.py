"""The sponsored-slot auction: quality gates, quality score, ad rank, generalized second price.

Pure: no Django, no I/O. `serving.py` gathers the bids and the measured telemetry
(`quality.py`) and calls `run_auction`; tests call it with fixed telemetry. Money is integer
nanos; the arithmetic in between is exact (`Fraction`), rounded once, half up, at the nano.

Effective bid (eCPM, nanos per thousand impressions): a per-thousand (CPM) bid is its bid; a
per-click (CPC) bid is bid x expected click rate x 1000, the click rate smoothed towards a 1%
prior so a new campaign neither wins on no data nor starves:
    CTR = (clicks + PRIOR_CLICKS) / (impressions + PRIOR_IMPRESSIONS)

Ad rank = eCPM x quality. Slots go by rank (ties: the lower campaign id), at most one per
model. The winner of slot i pays the least eCPM that still ranks it above the next bidder:
    price_i = rank_(i+1) / quality_i + 1 nano, at most its own eCPM, at least the reserve
(`reserve_cpm_nanos`, the SPONSORED_RESERVE_CPM_NANOS setting: also what a lone or last bidder
pays). A CPM winner is charged price_i / 1000 per impression, a CPC winner
price_i / (CTR x 1000) per click, each rounded half up to a nano and at least one nano.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

CPM = "cpm"
CPC = "cpc"
# The click-rate prior: 1 click in 100 impressions.
PRIOR_CLICKS = 1
PRIOR_IMPRESSIONS = 100

# Quality gates: below any of them a model is not shown, whatever its bid.
MIN_UPTIME_BPS = 9_900  # 99% uptime over the last day
MAX_LATENCY_FACTOR = Fraction(2)  # p50 latency at most twice the category's median
MAX_ERROR_RATE = Fraction(5, 100)  # at most 5% of requests failed at the model's providers
# Each quality component is at least this, so the score stays above zero (a gated model is
# already out; the floor only keeps a poor but passing model rankable).
COMPONENT_FLOOR = Fraction(1, 20)
# Weights of the quality components (uptime, latency, errors, price), summing to WEIGHT_SUM.
WEIGHTS = (2, 1, 2, 1)
WEIGHT_SUM = sum(WEIGHTS)


@dataclass(frozen=True, slots=True)
class Telemetry:
    """What was measured of one model (None: not measured).

    The error rate stands in for the refusal rate too: refusal rates come with the semantic
    issues later (issue 14), and until then the provider's refusals count among the errors.
    """

    uptime_bps: int | None
    p50_latency_ms: int | None
    error_rate: Fraction | None
    blended_price_nanos_per_m: int | None

    @property
    def measured(self) -> bool:
        return self.uptime_bps is not None and self.p50_latency_ms is not None


@dataclass(frozen=True, slots=True)
class Category:
    """The medians of the models that serve the same capabilities (None: none measured)."""

    median_latency_ms: int | None
    median_price_nanos_per_m: int | None


def gate_reasons(telemetry: Telemetry | None, category: Category) -> list[str]:
    """Why the model may not be shown (empty: it passes every gate).

    An unmeasured model is never shown: quality is the promise a sponsored slot makes, and a
    model with no uptime or latency measured in the last day has nothing to back it.
    """
    if telemetry is None or not telemetry.measured:
        return ["unmeasured"]
    reasons = []
    assert telemetry.uptime_bps is not None and telemetry.p50_latency_ms is not None
    if telemetry.uptime_bps < MIN_UPTIME_BPS:
        reasons.append("uptime")
    median = category.median_latency_ms
    if median is not None and telemetry.p50_latency_ms > median * MAX_LATENCY_FACTOR:
        reasons.append("latency")
    if telemetry.error_rate is not None and telemetry.error_rate > MAX_ERROR_RATE:
        reasons.append("error_rate")
    return reasons


def _ratio(better: int | None, worse: int | None) -> Fraction:
    """min(1, better / worse): 1 at or better than the reference, falling as it gets worse."""
    if better is None or worse is None or worse <= better:
        return Fraction(1)
    if better <= 0:
        return COMPONENT_FLOOR
    return Fraction(better, worse)


def quality_score(telemetry: Telemetry, category: Category) -> Fraction:
    """Quality in (0, 1] of a model that passed the gates; a weighted mean of four parts:

    - uptime: 1 - 10 x downtime (100% -> 1, the 99% gate -> 0.9), weight 2;
    - latency: category median p50 / the model's p50, at most 1 (half as fast -> 0.5), weight 1;
    - errors: 1 - 10 x error rate (none -> 1, the 5% gate -> 0.5), weight 2; the error rate
      stands in for the refusal rate, which is not measured yet;
    - price: category median blended price / the model's, at most 1 (cheaper than the median
      -> 1, twice the median -> 0.5), weight 1.
    Each part is at least COMPONENT_FLOOR; an unmeasured part (no category median, no error
    count) counts as 1, since the gates already required uptime and latency.
    """
    uptime = Fraction(telemetry.uptime_bps or 0, 10_000)
    parts = (
        1 - 10 * (1 - uptime),
        _ratio(category.median_latency_ms, telemetry.p50_latency_ms),
        1 - 10 * telemetry.error_rate if telemetry.error_rate is not None else Fraction(1),
        _ratio(category.median_price_nanos_per_m, telemetry.blended_price_nanos_per_m),
    )
    floored = [min(Fraction(1), max(COMPONENT_FLOOR, part)) for part in parts]
    return sum((w * p for w, p in zip(WEIGHTS, floored, strict=True)), Fraction(0)) / WEIGHT_SUM


def expected_ctr(clicks: int, impressions: int) -> Fraction:
    return Fraction(clicks + PRIOR_CLICKS, impressions + PRIOR_IMPRESSIONS)


def ecpm(pricing: str, bid_nanos: int, clicks: int = 0, impressions: int = 0) -> Fraction:
    """The bid as nanos per thousand impressions."""
    if pricing == CPM:
        return Fraction(bid_nanos)
    if pricing == CPC:
        return bid_nanos * expected_ctr(clicks, impressions) * 1000
    raise ValueError(f"unknown pricing {pricing!r}")


def round_half_up(value: Fraction) -> int:
    """A non-negative exact amount to whole nanos, half up."""
    return (2 * value.numerator + value.denominator) // (2 * value.denominator)


@dataclass(frozen=True, slots=True)
class Bid:
    campaign_id: int
    model_slug: str
    pricing: str  # CPM or CPC
    bid_nanos: int  # per thousand impressions (CPM) or per click (CPC)
    quality: Fraction  # quality_score() of a model that passed the gates
    clicks: int = 0
    impressions: int = 0
    # What the campaign may still spend (the least of its total and today's budget left and
    # its vendor's wallet); None: unlimited (tests). A winner that cannot pay one charge at its
    # price is dropped and the auction runs again without it.
    can_spend_nanos: int | None = None

    @property
    def ctr(self) -> Fraction:
        return expected_ctr(self.clicks, self.impressions)

    @property
    def ecpm(self) -> Fraction:
        return ecpm(self.pricing, self.bid_nanos, self.clicks, self.impressions)

    @property
    def rank(self) -> Fraction:
        return self.ecpm * self.quality


@dataclass(frozen=True, slots=True)
class Award:
    bid: Bid
    slot: int  # 1-based, top first
    rank: Fraction
    price_ecpm: Fraction  # the second price, nanos per thousand impressions
    impression_price_nanos: int  # charged per billable impression (CPM), else 0
    click_price_nanos: int  # charged per billable click (CPC), else 0

    @property
    def charge_nanos(self) -> int:
        """One billable event's charge."""
        return self.impression_price_nanos or self.click_price_nanos


def ranked(bids: Iterable[Bid], reserve_cpm_nanos: int) -> list[Bid]:
    """Bids that can meet the reserve, best ad rank first (ties: lower campaign id), keeping
    each model's best bid only: one model never fills two slots, nor sets its own price."""
    eligible = sorted((b for b in bids if b.quality > 0 and b.ecpm >= reserve_cpm_nanos),
                      key=lambda b: (-b.rank, b.campaign_id))
    seen: set[str] = set()
    out = []
    for bid in eligible:
        if bid.model_slug not in seen:
            seen.add(bid.model_slug)
            out.append(bid)
    return out


def _price(bid: Bid, next_bid: Bid | None, reserve_cpm_nanos: int) -> Fraction:
    price = Fraction(reserve_cpm_nanos)
    if next_bid is not None:
        price = max(price, next_bid.rank / bid.quality + 1)
    return min(price, bid.ecpm)


def _award(bid: Bid, slot: int, price: Fraction) -> Award:
    if bid.pricing == CPM:
        impression, click = max(1, round_half_up(price / 1000)), 0
    else:
        impression = 0
        click = min(bid.bid_nanos, max(1, round_half_up(price / (bid.ctr * 1000))))
    return Award(bid=bid, slot=slot, rank=bid.rank, price_ecpm=price,
                 impression_price_nanos=impression, click_price_nanos=click)


def run_auction(bids: Sequence[Bid], *, slots: int, reserve_cpm_nanos: int) -> list[Award]:
    """The winners of up to `slots` slots, top first, each with its second price."""
    pool = ranked(bids, reserve_cpm_nanos)
    while True:
        awards = []
        for i, bid in enumerate(pool[:slots]):
            next_bid = pool[i + 1] if i + 1 < len(pool) else None
            awards.append(_award(bid, i + 1, _price(bid, next_bid, reserve_cpm_nanos)))
        broke = {a.bid.campaign_id for a in awards
                 if a.bid.can_spend_nanos is not None and a.bid.can_spend_nanos < a.charge_nanos}
        if not broke:
            return awards
        pool = [b for b in pool if b.campaign_id not in broke]
