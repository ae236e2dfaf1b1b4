"""Grooming and sextortion risk in conversations (issue 5).

Layer 1 (this package today): text normalisation (`normalize`), interpretable indicators
(`indicators`, patterns in `data/indicators.toml`), per-message / per-pair / per-conversation
scoring with a constant-memory streaming watcher (`scoring`), and the evaluation harness
(`evaluate`). Layer 2 (`affinity`) defines the exemplar-affinity interface and its
"embedding unavailable, indicators only" fallback.
"""
