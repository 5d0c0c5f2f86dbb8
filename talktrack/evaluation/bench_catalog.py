"""Catalog queries at scale: the reads behind the call list's filters, the dashboard and scoring,
timed on a large catalog (a kept ``bench mining --workdir`` world of 100k calls) in SQLite and,
copied row for row, in PostgreSQL.

The queries are the service's own (``serving/key_queries.py``, handed in by the CLI: this layer
does not import the service). Each is run once to warm caches, then ``repeats`` times; p50 and
p99 in ms. When the catalog is older than the code's migrations, the bench times it as found,
then migrated (on a copy), so the indexes' effect is measured in the same run.

Example::

    figures = run_catalog_bench(Path("/tmp/w/workspace/catalog.db"), settings, queries_for,
                                postgres_url="postgresql+psycopg://u:p@localhost/talktrack_bench")
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, func, insert, inspect, make_url, select, text

from talktrack.core.catalog import Catalog, open_catalog
from talktrack.core.catalog.schema import Base, Call
from talktrack.core.catalog.store import head_revision

TARGET_MS = 50.0
COPY_ROWS = 20_000
QueriesFor = Callable[[Catalog, object], dict[str, Callable[[], object]]]


def time_queries(queries: dict[str, Callable[[], object]], repeats: int) -> dict[str, dict]:
    """Per query: one warm-up run, then ``repeats`` timed runs: wall p50, p99, max in ms, and the
    p50 of this process's CPU ms (on a loaded machine the wall time is mostly waiting for a core;
    with PostgreSQL the server's CPU is not in it)."""
    out = {}
    for name, run in queries.items():
        run()
        wall, cpu = [], []
        for _ in range(repeats):
            started, started_cpu = time.perf_counter(), time.process_time()
            run()
            wall.append((time.perf_counter() - started) * 1000.0)
            cpu.append((time.process_time() - started_cpu) * 1000.0)
        out[name] = {"p50_ms": round(float(np.percentile(wall, 50)), 2),
                     "p99_ms": round(float(np.percentile(wall, 99)), 2), "max_ms": round(max(wall), 2),
                     "cpu_p50_ms": round(float(np.percentile(cpu, 50)), 2), "runs": repeats}
    return out


def run_catalog_bench(source: Path, settings, queries_for: QueriesFor, *, postgres_url: str | None = None,
                      repeats: int = 50, progress=print) -> dict:
    """Time the key queries on a copy of the SQLite catalog ``source`` (as found, when it predates the
    migrations, then at head) and on PostgreSQL (a fresh database filled from it)."""
    source = Path(source)
    if not source.is_file():
        raise FileNotFoundError(f"catalog {source}: not found (keep one with `talktrack bench mining --workdir DIR`)")
    figures: dict = {"source": str(source), "repeats": repeats, "target_p99_ms": TARGET_MS}
    with tempfile.TemporaryDirectory(prefix="talktrack-catalog-") as folder:
        copy = Path(folder) / "catalog.db"
        shutil.copy(source, copy)
        url = f"sqlite:///{copy}"
        found_at = _revision(url)
        if found_at != head_revision():
            progress(f"catalog at revision {found_at}: timing it as found, then migrated to {head_revision()}")
            figures["sqlite_before_migration"] = _timed(open_catalog(url, upgrade=False), settings, queries_for,
                                                        repeats) | {"revision": found_at}
        catalog = open_catalog(url)
        figures["size"] = _size(catalog)
        progress(f"sqlite: {figures['size']}")
        figures["sqlite"] = _timed(catalog, settings, queries_for, repeats) | {"revision": head_revision()}
        if postgres_url:
            pg = fresh_postgres(postgres_url)
            started = time.perf_counter()
            copied = copy_catalog(catalog, pg, progress=progress)
            figures["postgres_copy"] = {"rows": copied, "seconds": round(time.perf_counter() - started, 1)}
            figures["postgresql"] = _timed(pg, settings, queries_for, repeats) | {"revision": head_revision()}
            pg.dispose()
        catalog.dispose()
    figures["target_met"] = all(q["p99_ms"] <= TARGET_MS for db in ("sqlite", "postgresql") if db in figures
                                for q in figures[db]["queries"].values())
    return figures


def _timed(catalog: Catalog, settings, queries_for: QueriesFor, repeats: int) -> dict:
    try:
        return {"queries": time_queries(queries_for(catalog, settings), repeats)}
    finally:
        catalog.dispose()


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.scalar(text("SELECT version_num FROM alembic_version"))
    finally:
        engine.dispose()


def _size(catalog: Catalog) -> dict[str, int]:
    with catalog.session() as session:
        return {table: session.scalar(select(func.count()).select_from(Base.metadata.tables[table]))
                for table in ("calls", "utterances", "moments", "deals", "stage_events", "reps")} | {
            "calls_with_moments": session.scalar(select(func.count(Call.id)).where(Call.moments_model.is_not(None)))}


def fresh_postgres(url: str) -> Catalog:
    """An empty database named in ``url`` (dropped and created again; the role needs CREATEDB),
    migrated to head."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target.database}"'))
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()
    return open_catalog(url)


def copy_catalog(source: Catalog, target: Catalog, progress=print) -> int:
    """Every row of every table, parents first, in ``COPY_ROWS`` batches; then the id sequences are
    moved past the copied ids and the tables analysed (what an operator does after a bulk load)."""
    total = 0
    with source.engine.connect() as reading, target.engine.begin() as writing:
        for table in Base.metadata.sorted_tables:
            result = reading.execution_options(stream_results=True).execute(select(table))
            while batch := result.fetchmany(COPY_ROWS):
                writing.execute(insert(table), [row._asdict() for row in batch])
                total += len(batch)
            progress(f"copied {table.name}")
            if "id" in table.c and table.c.id.autoincrement and list(table.primary_key.columns) == [table.c.id]:
                writing.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                     f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))
    with target.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    return total
