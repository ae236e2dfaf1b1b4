"""Errors raised for media that cannot or must not be decoded.

All derive from ValueError so callers that already treat bad input as ValueError keep working;
every message starts with the file's label so an operator knows which upload failed.
"""

from __future__ import annotations


class MediaError(ValueError):
    """Media could not be decoded or hashed. ``label`` names the file."""

    def __init__(self, label: str, problem: str) -> None:
        super().__init__(f"{label}: {problem}")
        self.label = label
        self.problem = problem


class UnsupportedMedia(MediaError):
    """Not a format Safeguard can decode (or an optional decoder is missing)."""


class CorruptMedia(MediaError):
    """Empty, truncated or otherwise damaged file."""


class MediaTooLarge(MediaError):
    """Over the byte or pixel limit: possibly a decompression bomb."""
