"""The snapshot names, once when it is built, a routable alternative for each model none of
whose endpoints is routable here; the policy's 503 for such a model says so and names it."""

import dataclasses
import random

import pytest

from catalog.snapshot import RoutingSnapshot
from core.errors import NoEndpointAvailable
from routing.policy import select_candidates
from tests.routing.builders import chat, endpoint, provider, snapshot


class _Healthy:
    def breaker_allows(self, endpoint_id): return True
    def recent_outage(self, endpoint_id): return False
    def latency_s(self, endpoint_id): return None
    def throughput(self, endpoint_id): return None


def _with_inputs(snap: RoutingSnapshot, slug: str, inputs: set[str]) -> RoutingSnapshot:
    models = dict(snap.models)
    models[slug] = dataclasses.replace(models[slug], input_modalities=frozenset(inputs))
    return RoutingSnapshot(version=snap.version, models=models, endpoints=snap.endpoints)


@pytest.fixture
def snap():
    here, there = provider("sandbox-a"), provider("real", available=False)
    return snapshot(
        endpoint("acme/big", there, input_usd_m="5", output_usd_m="15"),
        endpoint("acme/mid", here, input_usd_m="1", output_usd_m="4"),
        endpoint("acme/small", here, input_usd_m="0.5", output_usd_m="2"),
        endpoint("acme/small", there, input_usd_m="0.1", output_usd_m="0.1"),
        endpoint("other/cheap", here, input_usd_m="0.1", output_usd_m="0.2"),
        endpoint("lonely/model", there),
        endpoint("acme/off", here, enabled=False),
    )


def test_same_authors_cheapest_routable_model_at_routable_prices(snap):
    # acme/small's unroutable endpoint is cheaper, but only routable endpoints count.
    assert snap.unroutable["acme/big"] == "acme/small"
    assert snap.unroutable["acme/off"] == "acme/small"  # a disabled endpoint is not routable
    assert "acme/small" not in snap.unroutable and "other/cheap" not in snap.unroutable


def test_otherwise_the_cheapest_model_covering_its_modalities(snap):
    assert snap.unroutable["lonely/model"] == "other/cheap"
    # Audio in: no routable model takes it, so there is no alternative to name.
    audio = _with_inputs(snap, "lonely/model", {"text", "audio"})
    assert audio.unroutable["lonely/model"] is None


def test_same_author_covering_its_inputs_beats_a_cheaper_one_that_does_not(snap):
    text_only = _with_inputs(snap, "acme/small", {"text"})
    assert text_only.unroutable["acme/big"] == "acme/mid"


def test_the_503_says_the_model_is_not_routable_and_names_the_alternative(snap):
    with pytest.raises(NoEndpointAvailable) as caught:
        select_candidates(snap, chat("acme/big"), health=_Healthy(), rng=random.Random(1))
    assert "'acme/big' has no routable endpoint here" in caught.value.message
    assert "a routable alternative is 'acme/small'" in caught.value.message
    assert caught.value.metadata["routable_alternative"] == "acme/small"
    with pytest.raises(NoEndpointAvailable) as caught:
        select_candidates(_with_inputs(snap, "lonely/model", {"audio"}), chat("lonely/model"),
                          health=_Healthy(), rng=random.Random(1))
    assert "no routable model replaces it" in caught.value.message
