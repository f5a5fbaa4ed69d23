"""The auction with fixed telemetry: gates, quality, ad rank, second price, the slot cap."""

from __future__ import annotations

from fractions import Fraction

import pytest

from marketplace.listings import auction
from marketplace.listings.auction import CPC, CPM, Bid, Category, Telemetry
from marketplace.listings.serving import MAX_SLOTS_PER_PAGE

RESERVE = 500_000_000  # $0.50 per thousand impressions
DOLLAR = 1_000_000_000
CATEGORY = Category(median_latency_ms=400, median_price_nanos_per_m=2 * DOLLAR)


def telemetry(**overrides) -> Telemetry:
    values = dict(uptime_bps=10_000, p50_latency_ms=300, error_rate=Fraction(0),
                  blended_price_nanos_per_m=DOLLAR)
    values.update(overrides)
    return Telemetry(**values)


def bid(campaign_id: int, bid_nanos: int, *, pricing: str = CPM, quality=Fraction(1),
        model: str | None = None, **fields) -> Bid:
    return Bid(campaign_id=campaign_id, model_slug=model or f"vendor/model-{campaign_id}",
               pricing=pricing, bid_nanos=bid_nanos, quality=quality, **fields)


# --- quality gates ------------------------------------------------------------------------

def test_a_model_that_passes_every_gate_has_no_reason():
    assert auction.gate_reasons(telemetry(), CATEGORY) == []


@pytest.mark.parametrize("overrides, reason", [
    ({"uptime_bps": 9_899}, "uptime"),
    ({"p50_latency_ms": 801}, "latency"),  # the median is 400: the gate is 2x
    ({"error_rate": Fraction(51, 1000)}, "error_rate"),
])
def test_each_gate_excludes_just_past_its_limit(overrides, reason):
    assert auction.gate_reasons(telemetry(**overrides), CATEGORY) == [reason]


def test_the_gates_limits_themselves_pass():
    at_limits = telemetry(uptime_bps=9_900, p50_latency_ms=800, error_rate=Fraction(5, 100))
    assert auction.gate_reasons(at_limits, CATEGORY) == []


def test_an_unmeasured_model_is_never_shown():
    assert auction.gate_reasons(None, CATEGORY) == ["unmeasured"]
    assert auction.gate_reasons(telemetry(uptime_bps=None), CATEGORY) == ["unmeasured"]
    assert auction.gate_reasons(telemetry(p50_latency_ms=None), CATEGORY) == ["unmeasured"]


def test_every_failed_gate_is_named():
    bad = telemetry(uptime_bps=9_000, p50_latency_ms=5_000, error_rate=Fraction(1, 2))
    assert auction.gate_reasons(bad, CATEGORY) == ["uptime", "latency", "error_rate"]


# --- quality score ------------------------------------------------------------------------

def test_a_perfect_model_scores_one():
    assert auction.quality_score(telemetry(), CATEGORY) == 1


def test_quality_is_the_documented_weighted_mean():
    # uptime 99.5% -> 0.95 (w2); latency 800 vs median 400 -> 0.5 (w1);
    # 2% errors -> 0.8 (w2); price 4 vs median 2 -> 0.5 (w1).
    t = telemetry(uptime_bps=9_950, p50_latency_ms=800, error_rate=Fraction(2, 100),
                  blended_price_nanos_per_m=4 * DOLLAR)
    expected = (2 * Fraction(95, 100) + Fraction(1, 2) + 2 * Fraction(8, 10)
                + Fraction(1, 2)) / 6
    assert auction.quality_score(t, CATEGORY) == expected


def test_quality_stays_within_zero_and_one():
    worst = telemetry(uptime_bps=0, p50_latency_ms=10**9, error_rate=Fraction(1),
                      blended_price_nanos_per_m=10**18)
    score = auction.quality_score(worst, CATEGORY)
    assert 0 < score < Fraction(1, 10)
    free = telemetry(blended_price_nanos_per_m=0)
    assert auction.quality_score(free, CATEGORY) == 1


def test_faster_and_cheaper_than_the_median_gains_nothing_past_one():
    t = telemetry(p50_latency_ms=10, blended_price_nanos_per_m=1)
    assert auction.quality_score(t, CATEGORY) == 1


# --- eCPM and ad rank ---------------------------------------------------------------------

def test_cpm_bids_are_their_ecpm_and_cpc_bids_go_through_the_smoothed_click_rate():
    assert auction.ecpm(CPM, 3 * DOLLAR) == 3 * DOLLAR
    # No history: the 1% prior. $0.10 a click x 1% x 1000 = $1 per thousand.
    assert auction.ecpm(CPC, DOLLAR // 10) == DOLLAR
    # 19 clicks in 900 impressions: (19+1)/(900+100) = 2%.
    assert auction.ecpm(CPC, DOLLAR // 10, clicks=19, impressions=900) == 2 * DOLLAR


def test_ad_rank_is_ecpm_times_quality():
    cheap_good = bid(1, 2 * DOLLAR, quality=Fraction(1))
    rich_poor = bid(2, 3 * DOLLAR, quality=Fraction(1, 2))
    assert cheap_good.rank == 2 * DOLLAR
    assert rich_poor.rank == Fraction(3, 2) * DOLLAR
    awards = auction.run_auction([rich_poor, cheap_good], slots=2, reserve_cpm_nanos=RESERVE)
    assert [a.bid.campaign_id for a in awards] == [1, 2]


def test_a_per_click_bid_competes_through_its_click_rate():
    # $0.10 a click at 5% CTR is $5 per thousand: above a $4 CPM bid.
    clicky = bid(1, DOLLAR // 10, pricing=CPC, clicks=49, impressions=900)
    flat = bid(2, 4 * DOLLAR)
    awards = auction.run_auction([flat, clicky], slots=2, reserve_cpm_nanos=RESERVE)
    assert [a.bid.campaign_id for a in awards] == [1, 2]


def test_ties_go_to_the_lower_campaign_id():
    awards = auction.run_auction([bid(9, DOLLAR), bid(4, DOLLAR), bid(7, DOLLAR)], slots=2,
                                 reserve_cpm_nanos=RESERVE)
    assert [a.bid.campaign_id for a in awards] == [4, 7]


# --- second price ---------------------------------------------------------------------------

def test_each_winner_pays_just_enough_to_keep_its_rank_above_the_next():
    first = bid(1, 5 * DOLLAR, quality=Fraction(1))
    second = bid(2, 4 * DOLLAR, quality=Fraction(1, 2))  # rank $2
    third = bid(3, DOLLAR, quality=Fraction(1))  # rank $1
    a1, a2 = auction.run_auction([third, second, first], slots=2, reserve_cpm_nanos=RESERVE)
    # Slot 1: rank_2 / q_1 + 1 nano = $2 + 1 nano per thousand.
    assert a1.price_ecpm == 2 * DOLLAR + 1
    assert a1.impression_price_nanos == 2_000_000  # (2e9 + 1) / 1000, half up
    assert a1.click_price_nanos == 0
    # Slot 2: rank_3 / q_2 + 1 nano = $2 + 1 nano, below its $4 bid.
    assert a2.price_ecpm == 2 * DOLLAR + 1
    assert a2.impression_price_nanos == 2_000_000
    # Never more than a bid: each pays at most its own eCPM.
    assert a1.price_ecpm <= first.ecpm and a2.price_ecpm <= second.ecpm


def test_the_last_winner_with_nobody_below_pays_the_reserve():
    (only,) = auction.run_auction([bid(1, 7 * DOLLAR)], slots=2, reserve_cpm_nanos=RESERVE)
    assert only.price_ecpm == RESERVE
    assert only.impression_price_nanos == RESERVE // 1000


def test_the_price_never_exceeds_the_bid():
    # The next bidder ranks equal: the +1 nano would push past the bid, so the bid caps it.
    a1, _ = auction.run_auction([bid(1, DOLLAR), bid(2, DOLLAR)], slots=2,
                                reserve_cpm_nanos=RESERVE)
    assert a1.price_ecpm == DOLLAR


def test_a_bid_below_the_reserve_cannot_win_or_set_a_price():
    awards = auction.run_auction([bid(1, 2 * DOLLAR), bid(2, RESERVE - 1)], slots=2,
                                 reserve_cpm_nanos=RESERVE)
    assert [a.bid.campaign_id for a in awards] == [1]
    assert awards[0].price_ecpm == RESERVE


def test_a_per_click_winner_is_charged_per_click_at_the_second_price():
    winner = bid(1, DOLLAR // 10, pricing=CPC, clicks=49, impressions=900)  # eCPM $5
    runner = bid(2, 3 * DOLLAR)
    a1, _ = auction.run_auction([winner, runner], slots=2, reserve_cpm_nanos=RESERVE)
    assert a1.impression_price_nanos == 0
    # ($3 + 1 nano) per thousand / (5% x 1000) = $0.06 a click (+ 1/50 nano, rounded away).
    assert a1.click_price_nanos == 60_000_000
    assert a1.click_price_nanos <= winner.bid_nanos


def test_charges_round_half_up_and_an_impression_costs_at_least_a_nano():
    assert auction.round_half_up(Fraction(3, 2)) == 2
    assert auction.round_half_up(Fraction(5, 4)) == 1
    (tiny,) = auction.run_auction([bid(1, 400)], slots=1, reserve_cpm_nanos=100)
    assert tiny.price_ecpm == 100
    assert tiny.impression_price_nanos == 1  # 0.1 nano rounds to 0; a nano is the least


# --- the slot cap and one slot per model --------------------------------------------------

def test_never_more_than_the_slots_asked_for():
    bids = [bid(i, (10 - i) * DOLLAR) for i in range(1, 8)]
    awards = auction.run_auction(bids, slots=MAX_SLOTS_PER_PAGE, reserve_cpm_nanos=RESERVE)
    assert MAX_SLOTS_PER_PAGE == 2
    assert [a.slot for a in awards] == [1, 2]
    assert [a.bid.campaign_id for a in awards] == [1, 2]
    # The first loser still sets slot 2's price.
    assert awards[1].price_ecpm == 7 * DOLLAR + 1


def test_one_model_never_fills_two_slots_nor_sets_its_own_price():
    same_a = bid(1, 6 * DOLLAR, model="acme/one")
    same_b = bid(2, 5 * DOLLAR, model="acme/one")
    other = bid(3, 2 * DOLLAR, model="beta/two")
    a1, a2 = auction.run_auction([same_a, same_b, other], slots=2, reserve_cpm_nanos=RESERVE)
    assert (a1.bid.campaign_id, a2.bid.campaign_id) == (1, 3)
    assert a1.price_ecpm == 2 * DOLLAR + 1  # priced against the other model, not its twin


def test_a_winner_that_cannot_pay_one_charge_drops_out_and_the_rest_move_up():
    broke = bid(1, 9 * DOLLAR, can_spend_nanos=4_000_000)  # would pay $5/1000 = 5,000,000
    second = bid(2, 5 * DOLLAR, can_spend_nanos=10 * DOLLAR)
    third = bid(3, 2 * DOLLAR, can_spend_nanos=10 * DOLLAR)
    a1, a2 = auction.run_auction([broke, second, third], slots=2, reserve_cpm_nanos=RESERVE)
    assert (a1.bid.campaign_id, a2.bid.campaign_id) == (2, 3)
    assert a1.price_ecpm == 2 * DOLLAR + 1
    # Exactly one charge left is enough.
    exact = bid(1, 9 * DOLLAR, can_spend_nanos=5_000_000)
    top = auction.run_auction([exact, second], slots=1, reserve_cpm_nanos=RESERVE)[0]
    assert top.bid.campaign_id == 1 and top.impression_price_nanos == 5_000_000


def test_the_auction_imports_nothing_of_django():
    import ast
    from pathlib import Path

    tree = ast.parse(Path(auction.__file__).read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}
    names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(n.split(".")[0] in ("django", "marketplace", "catalog") for n in names if n
                   != "marketplace.listings")
