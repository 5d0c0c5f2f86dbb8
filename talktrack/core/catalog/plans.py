"""What a piece of code asks the catalog, and how SQLite plans it: the check behind "no full scans".

A query that is fast on a test catalog can read every row of a table; it only shows at 100k
calls. The plan shows it at any size (SQLite plans without statistics unless ANALYZE ran), so
:func:`captured_statements` records the SELECTs a callable runs and :func:`full_scans` lists
the plan steps that read a whole table or index.

Example::

    with captured_statements(catalog.engine) as statements:
        list_calls(catalog, CallFilter(team="TEAM-01"), limit=50, offset=0)
    assert not full_scans(catalog.engine, statements, tables={"calls"})
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: Any


@dataclass(frozen=True)
class Scan:
    """One plan step that reads all of ``table`` (through an index or not)."""

    table: str
    detail: str
    sql: str


@contextmanager
def captured_statements(engine: Engine) -> Iterator[list[Statement]]:
    """The SELECT statements run on ``engine`` inside the block, with their parameters."""
    found: list[Statement] = []

    def record(_conn, _cursor, statement, parameters, _context, executemany):
        if not executemany and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            found.append(Statement(statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", record)


def query_plan(engine: Engine, statement: Statement) -> list[str]:
    """SQLite's ``EXPLAIN QUERY PLAN`` steps of one statement (their detail text)."""
    if engine.dialect.name != "sqlite":
        raise ValueError(f"query plans are read on SQLite only, not {engine.dialect.name}")
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement.sql, statement.parameters).all()
    return [row[-1] for row in rows]


def full_scans(engine: Engine, statements: Iterable[Statement], tables: Iterable[str]) -> list[Scan]:
    """The steps that read every row of one of ``tables``: ``SCAN t`` and ``SCAN t USING [COVERING]
    INDEX i`` (an index read end to end is still a read of every row), and a bare ``SEARCH t`` (what
    SQLite 3.40 prints for MAX(column) of an unindexed column); ``SEARCH t USING ...`` steps are the
    good ones. A statement with a LIMIT and neither WHERE nor ORDER BY stops at its first rows."""
    wanted = set(tables)
    scans = []
    for statement in statements:
        if _stops_early(statement.sql):
            continue
        for detail in query_plan(engine, statement):
            words = detail.split()
            if len(words) < 2 or words[1] not in wanted:
                continue
            if words[0] == "SCAN" or (words[0] == "SEARCH" and len(words) == 2):
                scans.append(Scan(words[1], detail, statement.sql))
    return scans


def _stops_early(sql: str) -> bool:
    text = " ".join(sql.upper().split())
    return " LIMIT " in text and " WHERE " not in text and " ORDER BY " not in text and " JOIN " not in text
