"""Engine factory and schema migrations. No global session: callers own their sessions.

Examples
--------
>>> engine = open_registry("sqlite:///:memory:")
>>> from sqlalchemy.orm import Session
>>> with Session(engine) as session, session.begin():
...     pass
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from asset_model.errors import RegistryError

MIGRATIONS = Path(__file__).parent / "migrations"


def sqlite_url(path: Path) -> str:
    """URL of the embedded SQLite registry at ``path``."""
    return f"sqlite:///{path}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_registry_engine(url: str) -> Engine:
    """An engine for ``url`` with the SQLite pragmas the registry relies on (FKs, WAL)."""
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite") and (":memory:" in url or url.rstrip("/") == "sqlite:"):
        kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    try:
        engine = create_engine(url, **kwargs)
    except (SQLAlchemyError, ImportError, ValueError) as err:
        raise RegistryError(f"registry URL {url!r} is not usable: {err}") from err
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return cfg


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the registry is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the registry's schema to ``revision``; existing data is migrated, never rebuilt."""
    cfg = alembic_config(engine)
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except SQLAlchemyError as err:
        raise RegistryError(f"cannot migrate the registry at {engine.url!r}: {err}") from err


def open_registry(url: str, *, migrate: bool = True) -> Engine:
    """Open (and by default create or upgrade) the registry at ``url``.

    SQLite is the embedded default; PostgreSQL is reached with ``postgresql+psycopg://…``.
    """
    engine = create_registry_engine(url)
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as err:
        raise RegistryError(
            f"cannot connect to the registry at {url!r}: {err.orig or err}"
        ) from err
    if migrate:
        upgrade(engine)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session
