"""The file paths a workspace's databases hold, and how they follow a restored workspace.

The catalog stores files by absolute path: ``calls.audio_path`` (an upload under ``audio/``,
or wherever ``ingest`` read the recording), ``calls.transcript_path`` (``transcripts/`` for
ingested calls, the import folder for imported ones), ``evidence_documents.path``, and the
``audio_path`` of a job's payload. A backup sorts each one into ``relative``, ``archived``
(under the workspace root and in the archive), ``not_archived`` (under the root but not in the
archive: ``--no-audio``, or a file gone) and ``outside`` (elsewhere: a reference, never copied).
A restore rewrites the ``archived`` ones to the new root and leaves the others as they were.

MLflow's tracking store keeps ``file://`` URIs of its artefacts (experiment, run, logged model,
model version); every text value under the old root is rewritten in it.

Example::

    moved("/old/ws/audio/a.wav", "/old/ws", Path("/new/ws"), {"audio/a.wav"})  # "/new/ws/audio/a.wav"
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import Connection, select, update

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, EvidenceDocument, Job

PATH_COLUMNS = {
    "calls.audio_path": (Call, Call.audio_path),
    "calls.transcript_path": (Call, Call.transcript_path),
    "evidence_documents.path": (EvidenceDocument, EvidenceDocument.path),
}
JOB_AUDIO = "jobs.payload.audio_path"
KINDS = ("archived", "not_archived", "outside", "relative")


@dataclass(frozen=True)
class PathRef:
    """One path held by the catalog: which column, which row (external id), the value."""

    column: str
    key: str
    path: str


def path_refs(connection: Connection) -> list[PathRef]:
    """Every non-empty path in the catalog's path columns and job payloads."""
    refs = []
    for column, (model, attribute) in PATH_COLUMNS.items():
        rows = connection.execute(select(model.external_id, attribute).where(attribute.is_not(None)))
        refs += [PathRef(column, key, value) for key, value in rows if value]
    for key, payload in connection.execute(select(Job.external_id, Job.payload).where(Job.payload.is_not(None))):
        if isinstance(payload, dict) and isinstance(payload.get("audio_path"), str):
            refs.append(PathRef(JOB_AUDIO, key, payload["audio_path"]))
    return refs


def classify(path: str, root: str, archived: set[str]) -> str:
    """One of :data:`KINDS` for ``path``, given the old workspace ``root`` and the archived relative paths."""
    value = PurePosixPath(path)
    if not value.is_absolute():
        return "relative"
    if not value.is_relative_to(root):
        return "outside"
    return "archived" if value.relative_to(root).as_posix() in archived else "not_archived"


def survey(refs: list[PathRef], root: str, archived: set[str]) -> dict[str, dict[str, int]]:
    """``{column: {kind: count}}`` over every path the catalog holds."""
    counts: dict[str, Counter] = {}
    for ref in refs:
        counts.setdefault(ref.column, Counter())[classify(ref.path, root, archived)] += 1
    return {column: {kind: found[kind] for kind in KINDS if found[kind]}
            for column, found in sorted(counts.items())}


def moved(path: str, old_root: str, new_root: Path, archived: set[str]) -> str | None:
    """Where an archived path lives after the restore (None: it stays as it is)."""
    if classify(path, old_root, archived) != "archived":
        return None
    return str(new_root / PurePosixPath(path).relative_to(old_root))


def rewrite_catalog_paths(catalog: Catalog, old_root: str, new_root: Path, archived: set[str]) -> dict[str, int]:
    """Point every archived path of the catalog at ``new_root``; returns rows changed per column."""
    changed = {}
    with catalog.session() as session:
        for column, (model, attribute) in PATH_COLUMNS.items():
            rows = session.execute(select(model.id, attribute).where(attribute.is_not(None)))
            updates = [{"id": pk, attribute.key: new} for pk, value in rows
                       if (new := moved(value, old_root, new_root, archived)) is not None]
            if updates:
                session.execute(update(model), updates)
            changed[column] = len(updates)
        changed[JOB_AUDIO] = 0
        for job in session.scalars(select(Job).where(Job.payload.is_not(None))):
            value = (job.payload or {}).get("audio_path")
            new = moved(value, old_root, new_root, archived) if isinstance(value, str) else None
            if new is not None:
                job.payload = {**job.payload, "audio_path": new}
                changed[JOB_AUDIO] += 1
    return changed


def rewrite_sqlite_prefixes(database: Path, old_root: str, new_root: Path) -> int:
    """In every text column of a SQLite file, ``file:///old/...`` and ``/old/...`` become the new root's.

    Returns the number of values changed. Only values that *start* with the old root followed by
    ``/`` change, so ``/old/ws2`` is left alone when the root is ``/old/ws``.
    """
    prefixes = [(PurePosixPath(old_root).as_uri() + "/", new_root.as_uri() + "/"),
                (old_root.rstrip("/") + "/", str(new_root) + "/")]
    changed = 0
    connection = sqlite3.connect(database)
    try:
        with connection:
            for table, column in _text_columns(connection):
                for old, new in prefixes:
                    changed += connection.execute(
                        f'UPDATE "{table}" SET "{column}" = ? || substr("{column}", ?) '
                        f'WHERE substr("{column}", 1, ?) = ?', (new, len(old) + 1, len(old), old)).rowcount
    finally:
        connection.close()
    return changed


def _text_columns(connection: sqlite3.Connection) -> list[tuple[str, str]]:
    """(table, column) of every column with SQLite text affinity (CHAR, CLOB or TEXT in its type)."""
    tables = [name for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    found = []
    for name in tables:
        for _, column, declared, *_ in connection.execute(f'PRAGMA table_info("{name}")'):
            if any(word in (declared or "").upper() for word in ("CHAR", "CLOB", "TEXT")):
                found.append((name, column))
    return found
