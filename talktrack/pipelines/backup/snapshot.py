"""Consistent copies of the databases of a workspace, taken while they are in use.

SQLite files (the catalog, MLflow's tracking store, the embedding caches) go through the
online backup API in a single step, so each copy is its database as of one read transaction;
in WAL mode that never blocks a writer. A PostgreSQL catalog goes through
``pg_dump --format=custom`` on a snapshot exported from a REPEATABLE READ transaction, so the
counts taken in that transaction are the counts of the dump; ``pg_restore`` loads it back.

Example::

    sqlite_snapshot(Path("ws/catalog.db"), Path("/tmp/catalog.db"))
    with sqlite_engine(Path("/tmp/catalog.db")) as engine, engine.connect() as connection:
        table_counts(connection)   # {"calls": 500, "deals": 200, ...}
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, func, inspect, select, table, text
from sqlalchemy.engine import make_url

from talktrack.pipelines.backup.errors import BackupError, RestoreError

SQLITE_HEADER = b"SQLite format 3\x00"
SQLITE_SIDECARS = ("-wal", "-shm", "-journal")
PG_TOOLS_HINT = ("install the PostgreSQL client tools of the server's major version "
                 "(Debian: apt-get install postgresql-client)")
T = TypeVar("T")


def is_sqlite(path: Path) -> bool:
    """Whether ``path`` starts with the SQLite file header."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def sqlite_snapshot(source: Path, target: Path) -> None:
    """Copy the live database ``source`` into the new file ``target`` as of one read transaction."""
    if not source.is_file():
        raise BackupError(f"{source}: no such SQLite database")
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # pages=-1: one step, one snapshot; a stepwise copy restarts on every write
    except sqlite3.Error as exc:
        raise BackupError(f"{source}: the SQLite online backup failed ({exc})") from None
    finally:
        dst.close()
        src.close()


@contextmanager
def sqlite_engine(path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()


def table_counts(connection: Connection) -> dict[str, int]:
    """Rows per table of the connection's default schema, by table name."""
    names = sorted(inspect(connection).get_table_names())
    return {name: int(connection.execute(select(func.count()).select_from(table(name))).scalar_one())
            for name in names}


def sqlite_counts(path: Path) -> dict[str, int]:
    with sqlite_engine(path) as engine, engine.connect() as connection:
        return table_counts(connection)


def url_kind(url: str) -> str:
    """``sqlite`` or ``postgresql`` (the backend of a SQLAlchemy URL; other backends as named)."""
    return make_url(url).get_backend_name()


def sqlite_file(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"catalog {url}: an in-memory SQLite catalog has nothing to back up")
    return Path(database).expanduser().resolve()


def redacted(url: str | None) -> str | None:
    """The URL with its password hidden (for manifests and messages)."""
    if url is None:
        return None
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - not a SQLAlchemy URL (an MLflow http URI): shown as given
        return url


def require_tool(name: str, error: type[Exception]) -> str:
    found = shutil.which(name)
    if found is None:
        raise error(f"{name} not found on PATH; a PostgreSQL catalog is backed up and restored with "
                    f"pg_dump/pg_restore: {PG_TOOLS_HINT}")
    return found


def pg_dump_snapshot(url: str, target: Path, survey: Callable[[Connection], T]) -> T:
    """``pg_dump --format=custom`` of the database at ``url`` into ``target``; returns what
    ``survey(connection)`` found in the very snapshot that was dumped."""
    pg_dump = require_tool("pg_dump", BackupError)
    engine = create_engine(url, isolation_level="REPEATABLE READ")
    try:
        with engine.connect() as connection:
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            found = survey(connection)
            # the exporting transaction must stay open while pg_dump attaches to its snapshot
            _run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={target}"], url, BackupError)
            connection.rollback()
    finally:
        engine.dispose()
    return found


def pg_restore(url: str, dump: Path) -> None:
    """Load a custom-format dump into the database at ``url``, replacing the objects it holds."""
    tool = require_tool("pg_restore", RestoreError)
    _run([tool, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--exit-on-error",
          "--single-transaction", f"--dbname={make_url(url).database}", str(dump)], url, RestoreError)


def _run(command: list[str], url: str, error: type[Exception]) -> None:
    done = subprocess.run(command, env=_pg_environment(url), capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise error(f"{Path(command[0]).name} failed (exit {done.returncode}) on {redacted(url)}: "
                    + " | ".join(detail))


def _pg_environment(url: str) -> dict[str, str]:
    """The libpq variables for ``url``: the password travels in the environment, not in argv."""
    parsed = make_url(url)
    env = dict(os.environ)
    for name, value in (("PGHOST", parsed.host), ("PGPORT", parsed.port), ("PGUSER", parsed.username),
                        ("PGPASSWORD", parsed.password), ("PGDATABASE", parsed.database),
                        ("PGSSLMODE", parsed.query.get("sslmode"))):
        if value is not None:
            env[name] = str(value)
    return env
