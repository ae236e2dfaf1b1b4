"""Which layers score a conversation, from the settings: indicators always; exemplar affinity
with the configured embedding model (WordLlama by default) and the shipped plus the operator's
reference examples; the tactic model (the shipped one, or the operator's); the operator's trained
classifier when one is configured.

A layer that cannot be loaded is left out and the reports say why (``notes``): the service
keeps working on what it has, never crashes and never returns a silent zero. Built once per
process and per configuration (the model takes about a second to load).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from safeguard.config import Settings
from safeguard.conversations.affinity import (
    AffinityLike,
    Embedder,
    UnavailableAffinity,
    load_affinity,
    load_exemplars,
)
from safeguard.conversations.classifier import Classifier
from safeguard.conversations.embedders import EMBEDDERS
from safeguard.conversations.normalize import normalize
from safeguard.conversations.tactics import SHIPPED_MODEL, TacticModel
from safeguard.errors import InvalidInput

T = TypeVar("T")


@dataclass(frozen=True)
class Layers:
    affinity: AffinityLike
    classifier: Classifier | None
    notes: tuple[str, ...] = ()
    tactics: TacticModel | None = None


def _prepare(text: str) -> str:
    return normalize(text).text


def build_layers(embedding: str = "wordllama", exemplars: Path | None = None,
                 model: Path | None = None, tactics: Path | None = SHIPPED_MODEL) -> Layers:
    """``tactics=None`` switches the tactic model off."""
    notes: list[str] = []
    factory = EMBEDDERS.get(embedding)
    affinity: AffinityLike
    if factory is None:
        affinity = UnavailableAffinity(f"embedding {embedding!r} switched off or unknown")
    else:
        try:
            items = load_exemplars(exemplars)
        except InvalidInput as exc:
            affinity = UnavailableAffinity(f"exemplars: {exc}")
        else:
            affinity = load_affinity(_as_factory(factory), items, _prepare)
    classifier = _optional(Classifier.load, model, "classifier", notes)
    tactic_model = _optional(TacticModel.load, tactics, "tactic model", notes)
    return Layers(affinity, classifier, tuple(notes), tactic_model)


def _optional(load: Callable[[Path], T], path: Path | None, what: str,
              notes: list[str]) -> T | None:
    """A model file's layer, or None with a note saying why it could not be loaded."""
    if path is None:
        return None
    try:
        return load(path)
    except InvalidInput as exc:
        notes.append(f"{what} unavailable: {exc}")
        return None


def _as_factory(cls: type) -> Callable[[], Embedder]:
    return lambda: cls()


_lock = threading.Lock()
_cache: dict[tuple[object, ...], Layers] = {}


def _stamp(path: Path | None) -> tuple[str, float] | None:
    if path is None:
        return None
    try:
        return str(path), path.stat().st_mtime
    except OSError:
        return str(path), -1.0


def layers_for(settings: Settings) -> Layers:
    """The process-wide layers for these settings (rebuilt when a configured file changes)."""
    tactics = _tactics_path(settings)
    key = (settings.conversations_embedding, _stamp(settings.conversations_exemplars),
           _stamp(settings.conversations_model), _stamp(tactics))
    with _lock:
        layers = _cache.get(key)
        if layers is None:
            layers = build_layers(settings.conversations_embedding,
                                  settings.conversations_exemplars,
                                  settings.conversations_model, tactics)
            _cache.clear()  # one configuration per process; do not keep stale models
            _cache[key] = layers
        return layers


def _tactics_path(settings: Settings) -> Path | None:
    if not settings.conversations_tactics:
        return None
    return settings.conversations_tactics_model or SHIPPED_MODEL
