"""The Dask client, created once by the composition root and passed to the stages."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from distributed import Client, LocalCluster


@contextmanager
def dask_client(scheduler: str | None, *, n_workers: int | None = None) -> Iterator[Client]:
    """A client on ``scheduler`` (``tcp://…``) or, when None, on an in-process ``LocalCluster``.

    The local cluster uses one single-threaded worker per core and no dashboard, so LightGBM's
    OpenMP threads and Dask's do not fight over the same cores.
    """
    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    workers = n_workers or max(1, min(4, os.cpu_count() or 1))
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit="auto",
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
