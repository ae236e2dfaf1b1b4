"""Walking folders and hashing files, one file at a time, never raising for a bad file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from safeguard.media.result import HashResult


@dataclass
class FileHashes:
    """The hashes of one file, or why it could not be hashed."""

    path: str
    results: list[HashResult] = field(default_factory=list)
    error: str = ""
    note: str = ""  # hashed, but not fully (e.g. a video without the vpdq package)


def iter_files(root: Path) -> Iterator[Path]:
    """Regular files under `root` (or `root` itself), in a stable order; symlinks are not
    followed so a scan stays inside the folder it was given."""
    if root.is_file():
        yield root
        return
    if not root.is_dir():
        raise FileNotFoundError(f"no such file or folder: {root}")
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path


def hash_path(path: str, max_pixels: int, max_bytes: int, variants: bool = True) -> FileHashes:
    """Read and hash one file in memory. Errors become `FileHashes.error` so one corrupt file
    never stops a walk."""
    from safeguard.matching.service import hash_file_bytes

    try:
        size = os.path.getsize(path)
        if size > max_bytes:
            return FileHashes(path, error=f"{size} bytes is over the {max_bytes}-byte limit")
        with open(path, "rb") as handle:
            data = handle.read()
        from safeguard.media.hashers import missing_hash_note

        results = hash_file_bytes(data, label=path, max_pixels=max_pixels, max_bytes=max_bytes,
                                  variants=variants)
        note = missing_hash_note(data, [r.signal_type for r in results]) or ""
        return FileHashes(path, results, note=note)
    except (OSError, ValueError) as exc:  # MediaError is a ValueError
        return FileHashes(path, error=str(exc))


def hash_paths(paths: list[str], max_pixels: int, max_bytes: int,
               variants: bool = True) -> list[FileHashes]:
    return [hash_path(p, max_pixels, max_bytes, variants) for p in paths]
