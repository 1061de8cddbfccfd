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
import time
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from asset_model import open_registry, transaction
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


def _extract_worker(path: str, taxonomy: Taxonomy) -> tuple[ModelRecords | IngestError, float]:
    start = time.perf_counter()
    try:
        return extract_file(path, taxonomy=taxonomy), time.perf_counter() - start
    except IngestError as err:
        return err, time.perf_counter() - start


def ingest_files(
    registry_url: str,
    paths: Sequence[Path | str],
    *,
    processes: int = 2,
    taxonomy: Taxonomy | Path | str | None = None,
    progress: Callable[[str, IngestReport | IngestError], None] | None = None,
) -> list[IngestReport | IngestError]:
    """Ingest several files: worker processes extract, this process writes one file at a time.

    Each file is one transaction; a refused file is returned as its :class:`IngestError` and
    the others still go in. Results come back in the order of ``paths``. Writes are serialised
    in the parent (SQLite allows one writer; PostgreSQL gains little from concurrent upserts).
    """
    tax = _taxonomy(taxonomy)
    engine = open_registry(registry_url)
    results: dict[int, IngestReport | IngestError] = {}

    def handle(i: int, outcome: ModelRecords | IngestError, seconds: float) -> None:
        if isinstance(outcome, IngestError):
            result: IngestReport | IngestError = outcome
        else:
            start = time.perf_counter()
            try:
                result = write_records(engine, outcome)
                result.seconds = round(seconds + time.perf_counter() - start, 3)
            except IngestError as err:
                result = err
        results[i] = result
        if progress is not None:
            progress(str(paths[i]), result)

    try:
        if processes <= 1 or len(paths) <= 1:
            for i, p in enumerate(paths):
                handle(i, *_extract_worker(str(p), tax))
        else:
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(
                max_workers=min(processes, len(paths)), mp_context=ctx
            ) as pool:
                futures = {
                    pool.submit(_extract_worker, str(p), tax): i for i, p in enumerate(paths)
                }
                for fut in as_completed(futures):
                    handle(futures[fut], *fut.result())
    finally:
        engine.dispose()
    return [results[i] for i in range(len(paths))]
