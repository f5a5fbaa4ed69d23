"""The deterministic token rule the sandbox and the gateway's stream metering share."""

from hypothesis import given
from hypothesis import strategies as st

from routing.sandbox.engine import DEFAULT_REPLY_TOKENS, reply_text
from routing.sandbox.tokens import MEDIA_TOKENS, count_media, count_text, pieces, truncate


def test_words_and_punctuation_runs_are_tokens():
    assert count_text("Hello, world!") == 4
    assert count_text("  spaces   are   free  ") == 3
    assert count_text('{"a":1}') == 5  # {"  a  ":  1  }
    assert count_text("don't") == 3
    assert count_text("") == 0
    assert count_media(2) == 2 * MEDIA_TOKENS


@given(st.text(), st.integers(min_value=0, max_value=50))
def test_truncate_keeps_exactly_the_first_tokens(text, n):
    cut = truncate(text, n)
    assert text.startswith(cut)
    assert count_text(cut) == min(n, count_text(text))


@given(st.text(), st.integers(min_value=1, max_value=5))
def test_stream_pieces_rebuild_the_text_and_its_count(text, size):
    parts = pieces(text, size)
    assert "".join(parts) == text
    assert sum(count_text(p) for p in parts) == count_text(text)


def test_reply_length_default_and_directive():
    assert count_text(reply_text("anything at all")) == DEFAULT_REPLY_TOKENS
    assert count_text(reply_text("x sandbox:tokens=77")) == 77
    assert count_text(reply_text("a b c d e f g h i j k l sandbox:tokens=3")) == 3
    assert reply_text("same prompt") == reply_text("same prompt")
