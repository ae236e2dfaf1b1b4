"""Bulk scan on Dask: workers hash, the caller matches; corrupt files do not stop the scan."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeguard.jobs.files import hash_path, iter_files
from safeguard.jobs.scan import dask_client, scan
from tests.banks.support import benign_image

LIMITS = {"max_pixels": 50_000_000, "max_bytes": 10_000_000}


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "media"
    (folder / "a" / "b").mkdir(parents=True)
    for i in range(6):
        (folder / ("a" if i % 2 else "a/b") / f"img{i}.png").write_bytes(benign_image(100 + i))
    (folder / "truncated.png").write_bytes(benign_image(1)[:200])
    (folder / "notes.txt").write_text("plain text file")
    (folder / "huge.bin").write_bytes(b"\0" * 20)
    return folder


def test_iter_files_walks_in_stable_order(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    names = [p.relative_to(folder).as_posix() for p in iter_files(folder)]
    assert names == [p.relative_to(folder).as_posix() for p in iter_files(folder)]
    assert len(names) == 9 and names[0] == "huge.bin" and names[-1] == "a/b/img4.png"
    with pytest.raises(FileNotFoundError):
        list(iter_files(tmp_path / "missing"))


def test_hash_path_reports_errors_instead_of_raising(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    bad = hash_path(str(folder / "truncated.png"), **LIMITS)
    assert bad.error and "truncated.png" in bad.error
    text = hash_path(str(folder / "notes.txt"), **LIMITS)
    assert not text.error and {r.signal_type for r in text.results} == {"md5", "sha256"}
    big = hash_path(str(folder / "huge.bin"), max_pixels=1000, max_bytes=10)
    assert "limit" in big.error
    gone = hash_path(str(folder / "nope.png"), **LIMITS)
    assert gone.error


def test_dask_scan_hashes_every_file(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    paths = [str(p) for p in iter_files(folder)]
    progress: list[int] = []
    with dask_client(workers=2, processes=False) as client:
        results = list(scan(client, paths, files_per_task=2, in_flight=2,
                            on_done=progress.append, **LIMITS))
    assert sorted(r.path for r in results) == sorted(paths)
    assert sum(progress) == len(paths)
    by_name = {Path(r.path).name: r for r in results}
    assert by_name["truncated.png"].error
    assert all(any(h.signal_type == "pdq" for h in by_name[f"img{i}.png"].results)
               for i in range(6))
    assert any(h.variant != "original" for h in by_name["img0.png"].results)
