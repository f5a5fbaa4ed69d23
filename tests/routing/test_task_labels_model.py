"""The one-text path the gateway uses gives wordllama's own batch embedding's numbers."""

import numpy as np

from routing.task_labels.examples import heldout_examples
from routing.task_labels.model import text_model
from routing.task_labels.request_view import view_request


def test_one_text_scores_match_the_batched_embedding():
    model = text_model()
    texts = [view_request(body).text for body, _ in heldout_examples()]
    texts += ["", " ", "a", "🙂" * 3]
    for text in texts:
        fast, reference = model.log_probs(text), model.log_probs_batched(text)
        if not text.strip():
            assert np.isfinite(fast).all()
            continue
        np.testing.assert_allclose(fast, reference, atol=1e-4)
        assert fast.argmax() == reference.argmax()
