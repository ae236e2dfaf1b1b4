"""Layer 2 interface: exemplar affinity and its clean "indicators only" fallback."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import pytest

from safeguard.conversations.affinity import (
    AffinityScorer,
    Embedder,
    Exemplar,
    ExemplarStore,
    UnavailableAffinity,
    load_affinity,
)
from safeguard.conversations.scoring import ChatMessage, score_conversation
from safeguard.errors import InvalidInput


class TrigramEmbedder:
    """A tiny test embedder: hashed character trigrams."""

    name = "trigram-test"
    dim = 256

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        for i, t in enumerate(texts):
            t = f"  {t}  "
            for j in range(len(t) - 2):
                out[i, zlib.crc32(t[j:j + 3].encode()) % self.dim] += 1
        return out


EXEMPLARS = [
    Exemplar("h1", "harmful", "dont tell your parents about us"),
    Exemplar("h2", "harmful", "add me on snap its more private"),
    Exemplar("o1", "ordinary", "good game see you tomorrow"),
    Exemplar("o2", "ordinary", "did you finish the homework"),
]


def test_embedder_protocol_and_sentinel_style_score() -> None:
    assert isinstance(TrigramEmbedder(), Embedder)
    store = ExemplarStore(TrigramEmbedder())
    store.add(EXEMPLARS)
    scorer = AffinityScorer(store, k=1)
    harmful = scorer.score("dont tell ur parents about us ok")
    ordinary = scorer.score("see you tomorrow, good game")
    assert harmful.available and harmful.score is not None and ordinary.score is not None
    assert harmful.score > 0 > ordinary.score
    assert harmful.nearest[0].exemplar_id == "h1"


def test_model_that_fails_to_load_degrades_to_indicators_only() -> None:
    def broken() -> Embedder:
        raise OSError("weights not found")

    layer = load_affinity(broken, EXEMPLARS)
    assert isinstance(layer, UnavailableAffinity)
    report = score_conversation([ChatMessage("A", "how old are you")], affinity=layer)
    assert report.layers == ("indicators",)
    assert any("indicators only (OSError: weights not found)" in n
               for n in (report.messages[0].affinity.note,))
    assert report.messages[0].affinity.score is None  # never a silent zero
    assert isinstance(load_affinity(None, EXEMPLARS), UnavailableAffinity)


def test_working_layer_is_reported_and_used() -> None:
    layer = load_affinity(TrigramEmbedder, EXEMPLARS)
    report = score_conversation([ChatMessage("A", "add me on snap")], affinity=layer)
    assert report.layers == ("indicators", "affinity:trigram-test")
    assert report.messages[0].affinity.nearest[0].exemplar_id == "h2"


def test_exemplar_store_validates() -> None:
    store = ExemplarStore(TrigramEmbedder())
    with pytest.raises(InvalidInput):
        store.add([Exemplar("x", "bad", "text")])  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="at least one harmful and one ordinary"):
        AffinityScorer(store)
