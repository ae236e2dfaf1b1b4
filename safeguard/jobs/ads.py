"""Entity extraction of an ad corpus on Dask. Extraction is the CPU-heavy, embarrassingly
parallel part; linking stays with the caller (it needs every ad's keys in one place).

Dask is an optional extra (`pip install 'safeguard[dask]'`); `require_dask` says so clearly
instead of failing on an import deep inside a job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from safeguard.ads.extract import Entity, extract
from safeguard.ads.records import Ad
from safeguard.errors import SafeguardError

ADS_PER_TASK = 500


class DaskMissing(SafeguardError):
    """Dask is not installed."""


def require_dask() -> None:
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        raise DaskMissing("running on Dask needs the optional extra: "
                          "pip install 'safeguard[dask]'") from None


def extract_batch(ads: Sequence[Ad]) -> list[list[Entity]]:
    return [extract(ad) for ad in ads]


def extract_on_dask(client: Any, ads: Sequence[Ad], *, ads_per_task: int = ADS_PER_TASK,
                    in_flight: int = 32, on_done: Callable[[int], None] | None = None
                    ) -> Iterator[list[Entity]]:
    """Entities of every ad, in input order. At most `in_flight` tasks are queued at once so a
    huge corpus does not sit in the scheduler's memory all at once."""
    batches = [list(ads[i:i + ads_per_task]) for i in range(0, len(ads), ads_per_task)]
    futures: list[Any] = []
    submitted = 0
    for index in range(len(batches)):
        while submitted < len(batches) and submitted < index + in_flight:
            futures.append(client.submit(extract_batch, batches[submitted], pure=False))
            submitted += 1
        result: list[list[Entity]] = futures[index].result()
        futures[index] = None  # let Dask release it
        if on_done is not None:
            on_done(len(result))
        yield from result
