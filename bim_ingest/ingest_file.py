"""The use case: open → extract → classify → sync, one transaction per file.

Examples
--------
>>> engine = open_registry("sqlite:///registry.sqlite")          # doctest: +SKIP
>>> report = ingest_file(engine, "heating.ifc")                  # doctest: +SKIP
>>> report.by_category["boiler"], report.network_total           # doctest: +SKIP
(1, 197)
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context
import sys
import threading
import time
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from asset_model import open_registry, transaction
from asset_model.db import create_registry_engine
from bim_ingest.errors import IngestError
from bim_ingest.records import ModelRecords
from bim_ingest.sync import IngestReport, sync_records
from bim_ingest.taxonomy import Taxonomy, load_taxonomy

IFC_SUFFIXES = (".ifc", ".ifczip")
COBIE_SUFFIXES = (".xlsx", ".xls")


def _taxonomy(taxonomy: Taxonomy | Path | str | None) -> Taxonomy:
    if isinstance(taxonomy, Taxonomy):
        return taxonomy
    return load_taxonomy(taxonomy)


def extract_file(
    path: Path | str, *, taxonomy: Taxonomy | Path | str | None = None
) -> ModelRecords:
    """Read one file (IFC, IFCZIP or COBie xlsx) into plain records; refuse bad ones."""
    path = Path(path)
    tax = _taxonomy(taxonomy)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise IngestError(path, reason="no such file")
    if path.stat().st_size == 0:
        raise IngestError(path, reason="empty file")
    if suffix in COBIE_SUFFIXES:
        from bim_ingest.cobie import read_cobie

        return read_cobie(path, taxonomy=tax)
    if suffix == ".cobiezip":
        try:
            with zipfile.ZipFile(path) as zf:
                names = zf.namelist()
        except zipfile.BadZipFile as err:
            raise IngestError(path, reason=f"not a readable zip archive ({err})") from err
        raise IngestError(
            path,
            reason=f"a .cobiezip ({', '.join(names[:3])}) holds COBie in xBIM's "
            "COBIE_EXPRESS STEP schema, which is not supported: export the handover as a "
            "COBie 2.4 spreadsheet (.xlsx) or send the IFC model",
        )
    from bim_ingest.extract import extract_ifc

    return extract_ifc(path, taxonomy=tax)


def write_records(engine: Engine, records: ModelRecords) -> IngestReport:
    """Write one file's records in one transaction: all of it, or nothing."""
    try:
        with transaction(engine) as session:
            return sync_records(session, records)
    except IngestError:
        raise
    except SQLAlchemyError as err:
        reason = str(getattr(err, "orig", None) or err).splitlines()[0]
        raise IngestError(
            records.source.path, reason=f"registry refused the data: {reason}"
        ) from err


def ingest_file(
    engine: Engine, path: Path | str, *, taxonomy: Taxonomy | Path | str | None = None
) -> IngestReport:
    """Ingest one IFC / IFCZIP / COBie file into the registry (one transaction).

    Raises :class:`IngestError` (file, entity, reason) and leaves the registry unchanged when the
    file is refused.
    """
    start = time.perf_counter()
    records = extract_file(path, taxonomy=taxonomy)
    report = write_records(engine, records)
    report.seconds = round(time.perf_counter() - start, 3)
    return report


# --- several files: each worker extracts a file and writes it, one writer at a time -------------

_WORKER: dict[str, Any] = {}  # per worker process: the registry URL and the writers' lock


def _init_worker(registry_url: str, lock: Any) -> None:
    _WORKER.update(url=registry_url, lock=lock)


def _ingest_worker(path: str, taxonomy: Taxonomy) -> IngestReport | IngestError:
    """Extract one file (the model is released), then write it under the writers' lock."""
    start = time.perf_counter()
    try:
        records = extract_file(path, taxonomy=taxonomy)
    except IngestError as err:
        return err
    engine = create_registry_engine(_WORKER["url"])
    try:
        with _WORKER["lock"]:
            report = write_records(engine, records)
    except IngestError as err:
        return err
    finally:
        engine.dispose()
    report.seconds = round(time.perf_counter() - start, 3)
    return report


def _context() -> multiprocessing.context.BaseContext:
    """``fork`` on Linux when this process runs no other thread (workers start at once, sharing
    the imported modules), else ``spawn`` (each worker imports bim_ingest, ~1-4 s)."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def ingest_files(
    registry_url: str,
    paths: Sequence[Path | str],
    *,
    processes: int = 2,
    taxonomy: Taxonomy | Path | str | None = None,
    progress: Callable[[str, IngestReport | IngestError], None] | None = None,
) -> list[IngestReport | IngestError]:
    """Ingest several files: each worker process extracts a file, then writes it.

    Each file is one transaction; a refused file is returned as its :class:`IngestError` and
    the others still go in. Results come back in the order of ``paths``; ``progress`` is called
    in this process as each file finishes. Writes are serialised by a lock across the workers
    (SQLite has one writer; on PostgreSQL it keeps the merge and GlobalId-conflict rules those
    of files written one after the other), while the other workers keep extracting: no records
    travel between processes, and each worker holds one model at a time.
    """
    tax = _taxonomy(taxonomy)
    engine = open_registry(registry_url)  # creates or migrates the registry once, here
    results: dict[int, IngestReport | IngestError] = {}

    def done(i: int, result: IngestReport | IngestError) -> None:
        results[i] = result
        if progress is not None:
            progress(str(paths[i]), result)

    in_memory = engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")
    if processes <= 1 or len(paths) <= 1 or in_memory:  # in memory: workers would not see it
        try:
            for i, p in enumerate(paths):
                try:
                    result: IngestReport | IngestError = ingest_file(engine, p, taxonomy=tax)
                except IngestError as err:
                    result = err
                done(i, result)
        finally:
            engine.dispose()
        return [results[i] for i in range(len(paths))]
    engine.dispose()  # no connection is open when the workers start
    ctx = _context()
    with ProcessPoolExecutor(
        max_workers=min(processes, len(paths)),
        mp_context=ctx,
        initializer=_init_worker,
        initargs=(registry_url, ctx.Lock()),
    ) as pool:
        futures = {pool.submit(_ingest_worker, str(p), tax): i for i, p in enumerate(paths)}
        for fut in as_completed(futures):
            done(futures[fut], fut.result())
    return [results[i] for i in range(len(paths))]
