"""Append-only, hash-chained audit log of every write and every sensitive read."""

from safeguard.audit.service import Actor, record, verify_chain

__all__ = ["Actor", "record", "verify_chain"]
