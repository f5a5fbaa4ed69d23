"""`provider.max_price` travels as integer nanos from the one parser to the policy.

The policy used to turn `max_price` back from dollars into nanos itself, by truncation, so a cap
of 1.5 nanos per million became 1 and refused the 2-nano price the parser's half-up rounding
had admitted. Now the parser's nanos are what the policy compares, and the policy is pure: it
keeps no random generator of its own.
"""

import random

import pytest

from routing import policy
from routing.health import Health
from routing.inbound.openai_chat import chat_request_from
from routing.policy import endpoint_label, select_candidates
from routing.types import ProviderPrefs
from tests.routing.builders import chat, endpoint, provider, snapshot

MODEL = "acme/chat"


def _parsed(max_price):
    return chat_request_from({"model": MODEL, "messages": [{"role": "user", "content": "hi"}],
                              "provider": {"max_price": max_price}})


def _two_endpoints():
    at_cap = endpoint(MODEL, provider("at"), input_usd_m="0.000000002")
    above = endpoint(MODEL, provider("above"), input_usd_m="0.000000003")
    return at_cap, above


def test_max_price_is_parsed_to_integer_nanos_half_up():
    prefs = _parsed({"prompt": "0.0000000015", "completion": 2.5, "request": 0}).provider
    assert prefs.max_price == {"prompt": 2, "completion": 2_500_000_000, "request": 0}
    assert all(type(nanos) is int for nanos in prefs.max_price.values())


def test_a_half_nano_cap_admits_the_price_it_rounds_to():
    at_cap, above = _two_endpoints()
    selection = select_candidates(snapshot(at_cap, above), _parsed({"prompt": "0.0000000015"}),
                                  health=Health(), rng=random.Random(0))
    assert [e.provider.slug for e in selection.ranked] == ["at"]
    assert selection.excluded == [(endpoint_label(above), "provider.max_price.prompt")]


def test_the_policy_compares_nanos_as_given():
    at_cap, above = _two_endpoints()
    request = chat(MODEL, prefs=ProviderPrefs(max_price={"prompt": 2}))
    selection = select_candidates(snapshot(at_cap, above), request, health=Health(),
                                  rng=random.Random(0))
    assert [e.provider.slug for e in selection.ranked] == ["at"]


def test_the_caller_owns_the_random_generator():
    assert not any(isinstance(value, random.Random) for value in vars(policy).values())
    at_cap, above = _two_endpoints()
    with pytest.raises(TypeError):
        select_candidates(snapshot(at_cap, above), chat(MODEL), health=Health())
