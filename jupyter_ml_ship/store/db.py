"""Opening the store: engine, SQLite pragmas, migrations to head, sessions."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from ..errors import (
    BackendUnavailable,
    InsufficientStorage,
    no_space_message,
    space_left,
    storage_error,
)

#: The newest migration; a store at this revision is opened with no Alembic import at all.
HEAD_REVISION = "0013"
MIGRATIONS = Path(__file__).with_name("migrations")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class Store:
    """One database + the home directory; ``session()`` gives a unit of work."""

    def __init__(self, url: str, home: Path):
        self.url = url
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        parsed = make_url(url)
        self.kind = "sqlite" if parsed.get_backend_name() == "sqlite" else parsed.get_backend_name()
        kwargs: dict[str, Any] = {"future": True}
        if self.kind == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
        self.engine: Engine = create_engine(url, **kwargs)
        if self.kind == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.migrate()

    def migrate(self) -> None:
        """Bring the schema to head (cheap check first; Alembic only when needed)."""
        if self._revision() == HEAD_REVISION:
            return
        lock_path = self.home / ".migrate.lock"
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if self._revision() == HEAD_REVISION:
                    return
                from alembic import command
                from alembic.config import Config

                cfg = Config()
                cfg.set_main_option("script_location", str(MIGRATIONS))
                with self.engine.begin() as conn:
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _revision(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except (OperationalError, ProgrammingError) as exc:
            if "alembic_version" in str(exc) or "no such table" in str(exc):
                return None
            full = self._full(exc)
            if full is not None:
                raise full from None
            raise BackendUnavailable(f"store {self.safe_url}: {exc.orig}") from None

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden, for messages and /health."""
        return make_url(self.url).render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work; a full disk under the database is ``InsufficientStorage`` (nothing
        of the unit is kept: it rolled back)."""
        try:
            with self._sessions() as s:
                with s.begin():
                    yield s
        except (OperationalError, OSError) as exc:
            full = self._full(exc)
            if full is None:
                raise
            raise full from exc

    def _full(self, exc: BaseException) -> InsufficientStorage | None:
        """A full disk under the database: SQLite says "database or disk is full", or only
        "disk I/O error" when it cannot even grow its shared-memory file."""
        what = "writing the store's database"
        full = storage_error(exc, self._db_file, what)
        if full is None and self._db_file and "disk I/O error" in str(exc) \
                and space_left(self._db_file)[1] == 0:
            full = InsufficientStorage(no_space_message(self._db_file, what))
        return full

    @property
    def _db_file(self) -> str | None:
        parsed = make_url(self.url)
        if self.kind == "sqlite" and parsed.database and parsed.database != ":memory:":
            return parsed.database
        return None

    def close(self) -> None:
        self.engine.dispose()
