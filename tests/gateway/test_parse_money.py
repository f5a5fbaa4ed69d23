"""Money in request bodies becomes exact nanos with the project's one rounding rule."""

from routing.inbound.openai_chat import chat_request_from

BODY = {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def test_max_cost_is_exact_and_rounds_half_up_to_the_nano():
    assert chat_request_from({**BODY, "max_cost": 0.25}).max_cost_nanos == 250_000_000
    assert chat_request_from({**BODY, "max_cost": 3}).max_cost_nanos == 3_000_000_000
    # 1.5 nanos: half up gives 2 (truncation gave 1).
    assert chat_request_from({**BODY, "max_cost": 1.5e-9}).max_cost_nanos == 2
