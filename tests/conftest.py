"""Shared fixtures: registries on SQLite and (when configured) PostgreSQL, workspaces, files.

Set ``PATRIMOINE_TEST_DATABASE_URL`` (CI does) to run every ``registry_url`` test on PostgreSQL
too; with ``PATRIMOINE_REQUIRE_POSTGRES=1`` an unreachable server fails the run instead of
skipping those tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from asset_model.models import Base

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SHARED_IFC = SHARED / "ifc"
PG_URL = os.environ.get("PATRIMOINE_TEST_DATABASE_URL")
REQUIRE_PG = os.environ.get("PATRIMOINE_REQUIRE_POSTGRES") == "1"

os.environ.setdefault("OMP_WAIT_POLICY", "passive")


@pytest.fixture(scope="session")
def _pg_database() -> Iterator[str | None]:
    """A throw-away PostgreSQL database for this test session (dropped at the end)."""
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("PATRIMOINE_REQUIRE_POSTGRES=1 but PATRIMOINE_TEST_DATABASE_URL is unset")
        yield None
        return
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"patrimoine_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as err:
        admin.dispose()
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL at {PG_URL} is required but unreachable: {err}")
        yield None
        return
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = :n AND pid <> pg_backend_pid()"
            ),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty registry database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'registry.sqlite'}"
        return
    url = request.getfixturevalue("_pg_database")
    if url is None:
        pytest.skip("PostgreSQL not configured (set PATRIMOINE_TEST_DATABASE_URL)")
    yield url
    _truncate_all(url)


@pytest.fixture
def workspace(registry_url: str, tmp_path: Path):  # noqa: ANN201
    """An empty workspace (in ``tmp_path``) on each registry backend."""
    from patrimoine import open_workspace
    from patrimoine.settings import Settings

    db_url = None if registry_url.startswith("sqlite") else registry_url
    ws = open_workspace(Settings(workspace=tmp_path / "ws", db_url=db_url))
    yield ws
    ws.close()


@pytest.fixture
def sqlite_workspace(tmp_path: Path):  # noqa: ANN201
    """An empty workspace on SQLite only, for tests that do not concern the backend."""
    from patrimoine import open_workspace

    ws = open_workspace(tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def shared_ifc() -> Path:
    if not SHARED_IFC.is_dir():
        pytest.skip(f"{SHARED_IFC} not present")
    return SHARED_IFC
