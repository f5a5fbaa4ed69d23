"""Token counts for streams that ended without the provider's usage.

We cannot run every provider's tokenizer, so we use the sandbox's deterministic rule (a run of
word characters, or a run of other non-space characters, is one token): it tracks BPE counts
closely on prose and exactly on the sandbox, so tests can predict it. Usage counted this way is
always flagged `estimated=True`, and it can never exceed what the admission hold covered: the
prompt bound is the byte count, and no rule here counts more tokens than bytes.
"""

from __future__ import annotations

from routing.sandbox.tokens import count_text


def count_text_tokens(text: str) -> int:
    return count_text(text)
