"""On-disk format of a `PDQIndex`: live (id, hash) pairs as raw arrays, no pickle.

Layout (little-endian):
    magic b"SGPDQIX1" | header length (u64) | JSON header | ids (i8 x n) | hashes (u8 x 32n)
    | crc32 of ids (u32) | crc32 of hashes (u32) | end magic b"SGPDQEND"
The tables are not stored: rebuilding them at load is a few seconds at 10 M rows, and a file
that holds only ids and hashes cannot carry an offset that sends a kernel out of bounds.
"""

from __future__ import annotations

import io
import json
import os
import struct
import tempfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from safeguard.matching._index_segment import HASH_WORDS, allocate

MAGIC = b"SGPDQIX1"
END_MAGIC = b"SGPDQEND"
FORMAT_VERSION = 1
_MAX_HEADER_BYTES = 64 * 1024
# Copy in slices so saving a 10 M index does not need a second full copy in memory.
_CHUNK_ROWS = 1 << 18


class IndexFileError(ValueError):
    """The file is not a PDQ index written by this version, or it is truncated or corrupt."""


Part = tuple[np.ndarray, np.ndarray, np.ndarray]


def write_index(path: Path, parts: Iterable[Part], count: int) -> None:
    """Write `count` (id, hash) pairs, given as (ids int64, hashes uint64 (k, 4), keep mask) parts.

    Written to a temporary file in the same directory, flushed, then renamed over `path`, so a
    crash leaves either the old file or the new one, never half of one.
    """
    parts = list(parts)
    header = json.dumps({"format": FORMAT_VERSION, "count": count, "hash_bytes": 32}).encode()
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(MAGIC + struct.pack("<Q", len(header)) + header)
            ids_crc = _write_chunks(stream, ((ids, keep) for ids, _, keep in parts))
            hashes_crc = _write_chunks(stream, ((hashes, keep) for _, hashes, keep in parts))
            stream.write(struct.pack("<II", ids_crc, hashes_crc) + END_MAGIC)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _write_chunks(stream: BinaryIO, arrays: Iterable[tuple[np.ndarray, np.ndarray]]) -> int:
    crc = 0
    for array, keep in arrays:
        for start in range(0, len(array), _CHUNK_ROWS):
            stop = start + _CHUNK_ROWS
            chunk = array[start:stop][keep[start:stop] != 0].tobytes()
            crc = zlib.crc32(chunk, crc)
            stream.write(chunk)
    return crc


def read_index(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(ids int64 (n,), hashes uint64 (n, 4)); IndexFileError says what is wrong with the file."""
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as stream:
        prefix = stream.read(len(MAGIC) + 8)
        if len(prefix) < len(MAGIC) + 8 or prefix[: len(MAGIC)] != MAGIC:
            raise IndexFileError(f"{path}: not a Safeguard PDQ index file (bad magic)")
        (header_length,) = struct.unpack("<Q", prefix[len(MAGIC) :])
        if header_length > _MAX_HEADER_BYTES:
            raise IndexFileError(f"{path}: header length {header_length} is implausible")
        count = _parse_header(path, stream.read(header_length))
        expected = len(prefix) + header_length + count * (8 + 32) + 8 + len(END_MAGIC)
        if size != expected:
            raise IndexFileError(
                f"{path}: {size} bytes, expected {expected} for {count} hashes (truncated?)"
            )
        ids = allocate((count,), np.int64)
        hashes = allocate((count, HASH_WORDS), np.uint64)
        _read_into(stream, ids, path)
        _read_into(stream, hashes, path)
        ids_crc, hashes_crc = struct.unpack("<II", stream.read(8))
        if stream.read(len(END_MAGIC)) != END_MAGIC:
            raise IndexFileError(f"{path}: missing end marker (truncated?)")
    if zlib.crc32(ids.data) != ids_crc or zlib.crc32(hashes.data) != hashes_crc:
        raise IndexFileError(f"{path}: checksum mismatch (file is corrupt)")
    return ids, hashes


def _parse_header(path: Path, raw: bytes) -> int:
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise IndexFileError(f"{path}: unreadable header ({error})") from error
    if not isinstance(header, dict) or header.get("format") != FORMAT_VERSION:
        raise IndexFileError(f"{path}: unsupported index format {header!r}")
    count = header.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise IndexFileError(f"{path}: bad hash count {count!r} in header")
    return count


def _read_into(stream: io.BufferedReader, array: np.ndarray, path: Path) -> None:
    view = array.reshape(-1).view(np.uint8).data
    filled = 0
    while filled < len(view):
        got = stream.readinto(view[filled:])
        if not got:
            raise IndexFileError(f"{path}: file ends early (truncated)")
        filled += got
