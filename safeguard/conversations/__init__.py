"""Grooming and sextortion risk in conversations (issue 5).

Layer 1: text normalisation (`normalize`), interpretable indicators (`indicators`, patterns in
`data/indicators.toml`), per-message / per-pair / per-conversation scoring with a
constant-memory streaming watcher (`scoring`). Layer 2: exemplar affinity in the manner of
Sentinel (`affinity`, reference examples in `data/exemplars.toml`, WordLlama in `embedders`).
Layer 3: the operator's trained classifier (`classifier`, data from `loaders`: PAN 2012 XML,
predator lists, JSON lines). `layers` builds 2 and 3 from the settings, with a clean fallback.
Evaluation: the project's set (`evaluate`), PAN 2012 and the Vogt et al. protocol (`pan_eval`,
`metrics`).
"""
