"""Layer 3: a classifier the operator trains on their own data (``safeguard conversations
train``): logistic regression on hashed word and word-pair frequencies, in numpy.

scikit-learn is not a core dependency, and this model needs little: the features of one
author's side of a conversation are the frequencies (count / total) of the normalised words and
word pairs they wrote, hashed into 2^18 slots. Because the score is linear in frequencies,
``bias + Σ weight(feature) / n_features`` can be kept per pair in two numbers as messages arrive,
so the streaming watcher stays constant in time and memory. Training is full-batch gradient
descent (Adam) with L2 and balanced class weights (PAN 2012: 142 predators among ~100,000
authors-in-conversations).

The model is saved as JSON (the non-zero weights, the bias, the threshold, how it was trained),
never pickled: loading a model file cannot run code.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from safeguard.conversations.normalize import Normalizer, default_normalizer
from safeguard.errors import InvalidInput

FORMAT = "safeguard-conversations-classifier"
VERSION = 1
DIM_BITS = 18
MAX_MODEL_BYTES = 64 * 1024 * 1024


def features(tokens: Sequence[str]) -> list[str]:
    """Words and adjacent word pairs."""
    out = list(tokens)
    out.extend(f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))
    return out


def slot(feature: str, bits: int = DIM_BITS) -> int:
    return zlib.crc32(feature.encode("utf-8")) & ((1 << bits) - 1)


@dataclass
class Document:
    """One author's side of one conversation, while it is read: hashed feature counts."""

    counts: dict[int, float] = field(default_factory=dict)
    total: int = 0

    def add_text(self, tokens: Sequence[str], bits: int = DIM_BITS) -> None:
        for f in features(tokens):
            k = slot(f, bits)
            self.counts[k] = self.counts.get(k, 0.0) + 1.0
            self.total += 1

    def freeze(self) -> SparseDoc:
        idx = np.fromiter(self.counts.keys(), np.int32, len(self.counts))
        val = np.fromiter(self.counts.values(), np.float32, len(self.counts))
        return SparseDoc(idx, val / max(self.total, 1))


@dataclass(frozen=True, slots=True)
class SparseDoc:
    """A finished document, compact: slot indices and feature frequencies (sum to 1)."""

    indices: np.ndarray
    values: np.ndarray


@dataclass
class TrainingReport:
    documents: int
    positives: int
    epochs: int
    loss: float
    threshold: float
    train_precision: float
    train_recall: float


@dataclass
class Classifier:
    weights: np.ndarray  # float32, 2^bits
    bias: float
    threshold: float = 0.5
    bits: int = DIM_BITS
    meta: dict[str, Any] = field(default_factory=dict)
    name: str = "classifier"

    # ------------------------------------------------------------------ scoring
    def contribution(self, tokens: Sequence[str]) -> tuple[float, int, list[tuple[str, float]]]:
        """(Σ weights, number of features, the features with their weights) for one message's
        tokens: what the watcher adds to a pair's running sums."""
        feats = features(tokens)
        w = self.weights
        mask = (1 << self.bits) - 1
        items = [(f, float(w[zlib.crc32(f.encode("utf-8")) & mask])) for f in feats]
        return sum(v for _, v in items), len(items), items

    def probability(self, weight_sum: float, n_features: int) -> float:
        if n_features <= 0:
            return 0.0
        z = self.bias + weight_sum / n_features
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def score_document(self, doc: SparseDoc) -> float:
        if not doc.indices.size:
            return 0.0
        z = self.bias + float(np.dot(self.weights[doc.indices], doc.values))
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    # ------------------------------------------------------------------ files
    def save(self, path: Path) -> None:
        nz = np.flatnonzero(self.weights)
        body = {"format": FORMAT, "version": VERSION, "bits": self.bits,
                "features": "normalised words and word pairs, crc32-hashed, frequencies",
                "bias": self.bias, "threshold": self.threshold, "meta": self.meta,
                "index": nz.tolist(),
                "weight": [float(f"{v:.6g}") for v in self.weights[nz].tolist()]}
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(body), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Classifier:
        try:
            size = path.stat().st_size
            if size > MAX_MODEL_BYTES:
                raise InvalidInput(f"{path}: model file larger than {MAX_MODEL_BYTES:,} bytes")
            body = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise InvalidInput(f"cannot read model {path}: {exc}") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{path}: not a JSON model file: {exc}") from exc
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise InvalidInput(f"{path}: not a {FORMAT} file")
        if body.get("version") != VERSION:
            raise InvalidInput(f"{path}: model version {body.get('version')!r}, expected "
                               f"{VERSION}")
        bits = body.get("bits")
        if not isinstance(bits, int) or not 8 <= bits <= 24:
            raise InvalidInput(f"{path}: bits must be 8..24")
        idx, val = body.get("index"), body.get("weight")
        bias, threshold = body.get("bias"), body.get("threshold")
        if not isinstance(idx, list) or not isinstance(val, list) or len(idx) != len(val):
            raise InvalidInput(f"{path}: index and weight must be lists of equal length")
        if not isinstance(bias, int | float) or not isinstance(threshold, int | float) \
                or not 0 < threshold < 1:
            raise InvalidInput(f"{path}: bias must be a number and threshold in (0, 1)")
        try:
            ix = np.asarray(idx, dtype=np.int64)
            vx = np.asarray(val, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{path}: index/weight hold non-numbers") from exc
        if ix.size and (ix.min() < 0 or ix.max() >= 1 << bits):
            raise InvalidInput(f"{path}: index out of range for {bits} bits")
        if not np.all(np.isfinite(vx)):
            raise InvalidInput(f"{path}: weights must be finite")
        weights = np.zeros(1 << bits, np.float32)
        weights[ix] = vx
        raw_meta = body.get("meta")
        meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
        return cls(weights, float(bias), float(threshold), bits, meta,
                   f"classifier:{path.name}")


# ---------------------------------------------------------------------- training
def documents_from(conversations: Iterable[Any], labels: frozenset[str],
                   normalizer: Normalizer | None = None, bits: int = DIM_BITS,
                   progress: Callable[[int], None] | None = None
                   ) -> tuple[list[SparseDoc], np.ndarray, list[tuple[str, str]]]:
    """One document per (conversation, author); label 1 when the author is in `labels`."""
    norm = normalizer or default_normalizer()
    docs: list[SparseDoc] = []
    ys: list[int] = []
    keys: list[tuple[str, str]] = []
    for conv in conversations:
        per: dict[str, Document] = {}
        for msg in conv.messages:
            doc = per.setdefault(msg.author, Document())
            doc.add_text(norm.normalize(msg.text).tokens, bits)
        for author, doc in per.items():
            if doc.total:
                docs.append(doc.freeze())
                ys.append(1 if author in labels else 0)
                keys.append((conv.id, author))
        if progress:
            progress(1)
    return docs, np.asarray(ys, np.float32), keys


def _csr(docs: Sequence[SparseDoc]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    indptr = np.zeros(len(docs) + 1, np.int64)
    np.cumsum([d.indices.size for d in docs], out=indptr[1:])
    indices = np.concatenate([d.indices for d in docs]).astype(np.int64)
    data = np.concatenate([d.values for d in docs]).astype(np.float64)
    return indptr, indices, data


def train(docs: Sequence[SparseDoc], y: np.ndarray, *, bits: int = DIM_BITS,
          epochs: int = 300, lr: float = 0.5, l2: float = 1e-4,
          progress: Callable[[int], None] | None = None) -> tuple[Classifier, TrainingReport]:
    """Logistic regression (balanced class weights, L2, Adam, full batch)."""
    n = len(docs)
    pos = int(y.sum())
    if n == 0:
        raise InvalidInput("no training documents (no messages with words)")
    if pos == 0 or pos == n:
        raise InvalidInput(f"training needs both classes: {pos} positive of {n} documents "
                           "(check that the id list names authors in the data)")
    indptr, indices, data = _csr(docs)
    rows = np.repeat(np.arange(n), np.diff(indptr))
    sample_w = np.where(y > 0, n / (2.0 * pos), n / (2.0 * (n - pos))).astype(np.float64)
    dim = 1 << bits
    w = np.zeros(dim, np.float64)
    b = 0.0
    m_w, v_w = np.zeros(dim), np.zeros(dim)
    m_b = v_b = 0.0
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    loss = 0.0
    for t in range(1, epochs + 1):
        z = np.bincount(rows, weights=data * w[indices], minlength=n) + b
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))
        r = sample_w * (p - y) / n
        g_w = np.bincount(indices, weights=data * r[rows], minlength=dim) + l2 * w
        g_b = float(r.sum())
        m_w = beta1 * m_w + (1 - beta1) * g_w
        v_w = beta2 * v_w + (1 - beta2) * g_w * g_w
        m_b = beta1 * m_b + (1 - beta1) * g_b
        v_b = beta2 * v_b + (1 - beta2) * g_b * g_b
        c1, c2 = 1 - beta1 ** t, 1 - beta2 ** t
        w -= lr * (m_w / c1) / (np.sqrt(v_w / c2) + eps)
        b -= lr * (m_b / c1) / (math.sqrt(v_b / c2) + eps)
        if progress:
            progress(1)
    z = np.bincount(rows, weights=data * w[indices], minlength=n) + b
    p = 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))
    eps_p = 1e-12
    loss = float(np.mean(sample_w * -(y * np.log(p + eps_p) + (1 - y) * np.log(1 - p + eps_p))))
    pred = p >= 0.5
    tp = float(np.sum(pred & (y > 0)))
    precision = tp / max(float(pred.sum()), 1.0)
    recall = tp / pos
    # only features seen in training can have a weight; rounding tiny L2 residue to zero keeps
    # the saved file small
    w[np.abs(w) < 1e-6] = 0.0
    model = Classifier(w.astype(np.float32), float(b), 0.5, bits, {
        "trained": datetime.now(UTC).isoformat(timespec="seconds"),
        "documents": n, "positives": pos, "epochs": epochs, "l2": l2})
    return model, TrainingReport(n, pos, epochs, loss, 0.5, precision, recall)
