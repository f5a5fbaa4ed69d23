"""The text model: wordllama's 256-d embeddings and a softmax regression fitted on the examples.

Loaded once per process, lazily, on first use (about 120 MB; a fraction of a second to load the
weights from the wheel and fit). The weights are read from the wordllama package's own folder
with downloads disabled: labelling never touches the network.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import wordllama
from tokenizers import Tokenizer
from wordllama import WordLlama

from .examples import training_examples
from .labels import LABELS

Matrix = npt.NDArray[np.float32]

# Fitting: full-batch gradient descent on a 300 x 256 problem converges in well under a second.
_STEPS = 400
_LEARNING_RATE = 2.0
_L2 = 1e-3
# Embeddings are unit vectors with small coordinates: scaling them lets the logits spread.
_SCALE = 8.0


def _log_softmax(logits: Matrix) -> Matrix:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    result: Matrix = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return result


class TextModel:
    def __init__(self) -> None:
        self._embedder: Any = WordLlama.load(
            cache_dir=Path(wordllama.__file__).resolve().parent, disable_download=True
        )
        texts, labels = zip(*training_examples(), strict=True)
        x = self.embed(list(texts))
        y = np.zeros((len(labels), len(LABELS)), dtype=np.float32)
        y[np.arange(len(labels)), [LABELS.index(label) for label in labels]] = 1.0
        self._weights, self._bias = self._fit(x, y)
        # For one text at a time (every request): wordllama's own embed() pads, masks and
        # pools a batch; for one text that is the sum of its token vectors, normalised. A copy
        # of its tokenizer without padding encodes one text in half the time.
        self._tokenizer: Any = Tokenizer.from_str(self._embedder.tokenizer.to_str())
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self._vectors: Matrix = self._embedder.embedding

    @staticmethod
    def _fit(x: Matrix, y: Matrix) -> tuple[Matrix, Matrix]:
        weights = np.zeros((x.shape[1], y.shape[1]), dtype=np.float32)
        bias = np.zeros(y.shape[1], dtype=np.float32)
        n = np.float32(len(x))
        for _ in range(_STEPS):
            probs = np.exp(_log_softmax(x @ weights + bias))
            error = (probs - y) / n
            weights -= _LEARNING_RATE * (x.T @ error + _L2 * weights)
            bias -= _LEARNING_RATE * error.sum(axis=0)
        return weights, bias

    def embed(self, texts: list[str]) -> Matrix:
        vectors = np.asarray(self._embedder.embed(texts, norm=True), dtype=np.float32)
        return vectors * np.float32(_SCALE)

    def scores(self, text: str) -> list[float]:
        """Each label's score in `LABELS` order for one text: the logits, whose softmax is
        `log_probs` (the same order, so the best label is the same, at less cost).

        The same numbers as `embed([text])` would give (a test compares them), computed
        directly: the mean of the token vectors, normalised, is their sum normalised.
        """
        # Ten numbers: plain floats from here cost less than numpy's per-call overhead.
        ids = np.asarray(self._tokenizer.encode(text, add_special_tokens=False).ids,
                         dtype=np.int64)
        if ids.size == 0:
            return self._bias.tolist()  # type: ignore[no-any-return]
        if ids.max() >= len(self._vectors):
            np.clip(ids, 0, len(self._vectors) - 1, out=ids)
        total = self._vectors[ids].sum(axis=0, dtype=np.float32)
        length = float(np.sqrt(total @ total))
        if length == 0.0:
            return self._bias.tolist()  # type: ignore[no-any-return]
        logits: Matrix = (total @ self._weights) * np.float32(_SCALE / length) + self._bias
        return logits.tolist()  # type: ignore[no-any-return]

    def log_probs(self, text: str) -> Matrix:
        """Log-probability of each label in `LABELS` order for one text."""
        return _log_softmax(np.asarray(self.scores(text), dtype=np.float32))

    def log_probs_batched(self, text: str) -> Matrix:
        """`log_probs` through wordllama's own batch embedding (the reference it must match)."""
        return _log_softmax(self.embed([text])[0] @ self._weights + self._bias)


_lock = threading.Lock()
_model: TextModel | None = None


def text_model() -> TextModel:
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                _model = TextModel()
    return _model
