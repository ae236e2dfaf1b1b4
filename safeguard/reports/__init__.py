"""Reports: one store for every source (child portal, platforms, partners); hashes only,
never media."""
