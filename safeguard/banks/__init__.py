"""Hash banks: named lists of known hashes with provenance, import/export and a change feed."""
