"""The hold's prompt-size bound, one rule for every inbound route.

A prompt's upper bound is the UTF-8 bytes of what goes upstream: no token is shorter than a
byte, so the hold prices these bytes as tokens at the dearest input price (ARCHITECTURE.md, the
hot path). Both routes measure the canonical (OpenAI-shaped) messages they parse into, so the
same conversation holds the same on /v1/chat/completions and /v1/messages; an image counts a
fixed bound whether it arrives as a URL or as base64 data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

# Prompt bytes charged per message for the chat template's role and separator tokens, and per
# image part: no provider bills an image above ~1,600 tokens at its largest size, and a byte
# stands for a token in this bound.
MESSAGE_OVERHEAD_BYTES = 16
IMAGE_UPPER_BYTES = 3_000
# Request parameters that reach the model as prompt text (tool schemas, the output schema).
PROMPT_PARAMS = ("tools", "response_format")
_MODALITY_OF_PART = {"image_url": "image", "file": "file", "input_file": "file",
                     "input_audio": "audio"}


def measure_prompt(messages: list[dict[str, Any]], params: Mapping[str, Any]
                   ) -> tuple[int, frozenset[str]]:
    """(upper bound in bytes, input modalities) of messages already checked for shape."""
    total = 0
    modalities = {"text"}
    for message in messages:
        total += MESSAGE_OVERHEAD_BYTES
        content = message.get("content")
        if isinstance(content, str):
            total += len(content.encode())
        elif content is not None:
            for part in content:
                kind = part["type"]
                if kind == "text":
                    total += len(part["text"].encode())
                    continue
                if kind in _MODALITY_OF_PART:
                    modalities.add(_MODALITY_OF_PART[kind])
                # Files and audio, and parts we do not know, weigh what they send.
                total += IMAGE_UPPER_BYTES if kind == "image_url" else len(orjson.dumps(part))
        tool_calls = message.get("tool_calls")
        if tool_calls is not None:
            total += len(orjson.dumps(tool_calls))
    for name in PROMPT_PARAMS:
        if name in params:
            total += len(orjson.dumps(params[name]))
    return total, frozenset(modalities)
