"""Ads domain: trafficking indicators in ads, entity extraction, linking ads into networks.

Pure domain layer (no database, no HTTP yet): `records` loads ads, `extract` finds entities
with spans, `indicators` scores ads with reasons, `linking` joins ads into networks. Results are
leads for trained reviewers, never proof.
"""
