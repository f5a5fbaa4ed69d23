"""Through a real gateway, one conversation holds the same on both inbound routes.

The parser-level property is tests/routing/test_inbound_prompt_size.py; this checks that what
the two routes hand to admission lands as the same billing hold.
"""

import httpx
import pytest

from billing.models import Hold
from routing.inbound.prompt_size import IMAGE_UPPER_BYTES, MESSAGE_OVERHEAD_BYTES

IMAGE = "https://example.com/cat.png"
SYSTEM = "Answer in one word."
QUESTION = "What animal is this?"
CHAT = {
    "model": "openai/gpt-4o-mini", "max_tokens": 64,
    "messages": [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": [{"type": "text", "text": QUESTION},
                                     {"type": "image_url", "image_url": {"url": IMAGE}}]},
    ],
}
MESSAGES = {
    "model": "openai/gpt-4o-mini", "max_tokens": 64, "system": SYSTEM,
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": QUESTION},
                                     {"type": "image", "source": {"type": "url", "url": IMAGE}}]},
    ],
}


@pytest.mark.postgres
def test_an_image_prompt_holds_the_same_on_chat_completions_and_messages(
        sandbox_catalog, funded_key, start_gateway, sandbox):
    gateway = start_gateway()
    with httpx.Client(base_url=gateway.url, timeout=30,
                      headers={"Authorization": f"Bearer {funded_key.plaintext}"}) as client:
        chat = client.post("/v1/chat/completions", json=CHAT)
        messages = client.post("/v1/messages", json=MESSAGES)
    assert chat.status_code == 200, chat.text
    assert messages.status_code == 200, messages.text
    assert messages.json()["type"] == "message"

    chat_hold = Hold.objects.get(request_id=chat.headers["x-request-id"])
    messages_hold = Hold.objects.get(request_id=messages.headers["x-request-id"])
    prompt = 2 * MESSAGE_OVERHEAD_BYTES + len(SYSTEM) + len(QUESTION) + IMAGE_UPPER_BYTES
    assert chat_hold.prompt_upper_bytes == messages_hold.prompt_upper_bytes == prompt
    assert chat_hold.output_allowance_tokens == messages_hold.output_allowance_tokens == 64
    assert chat_hold.amount_nanos == messages_hold.amount_nanos > 0
