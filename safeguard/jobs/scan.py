"""Scan many files on Dask: workers read and hash files; the caller matches the hashes
against its index (the index and database stay in one place).

On a real cluster the paths must be readable by the workers (shared storage) and the
workers need Safeguard installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from safeguard.jobs.files import FileHashes, hash_paths

DEFAULT_FILES_PER_TASK = 16


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None,
                processes: bool = True) -> Iterator[Any]:
    """A client for `scheduler`, or for a new LocalCluster (`workers` single-threaded
    workers; `processes=False` keeps them in this process, for tests)."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        client = Client(scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=processes,
                           dashboard_address=None)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def scan(client: Any, paths: Sequence[str], *, max_pixels: int, max_bytes: int,
         variants: bool = True, files_per_task: int = DEFAULT_FILES_PER_TASK,
         in_flight: int = 64, on_done: Callable[[int], None] | None = None
         ) -> Iterator[FileHashes]:
    """Hash `paths` on the cluster, yielding results as they finish. At most `in_flight`
    tasks are queued at once, so memory stays flat on huge folders."""
    from dask.distributed import as_completed

    batches = [list(paths[i:i + files_per_task]) for i in range(0, len(paths), files_per_task)]
    pending = iter(batches)
    futures = as_completed()
    for batch in pending:
        futures.add(client.submit(hash_paths, batch, max_pixels, max_bytes, variants,
                                  pure=False))
        if futures.count() >= in_flight:
            break
    for future in futures:
        results: list[FileHashes] = future.result()
        future.release()
        if on_done is not None:
            on_done(len(results))
        yield from results
        nxt = next(pending, None)
        if nxt is not None:
            futures.add(client.submit(hash_paths, nxt, max_pixels, max_bytes, variants,
                                      pure=False))
