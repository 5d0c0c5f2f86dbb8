"""``talktrack restore``: a backup back into an empty (or new) workspace.

Step by step:

1. **target** — the workspace must hold no file (an empty, freshly created catalog does not
   count) and a PostgreSQL target catalog no row; otherwise restore refuses, unless ``force``.
2. **verify** — the whole archive is read once and nothing is written: every member must be a
   regular file with a safe name (no ``..``, absolute name or link), listed in the manifest with
   the same size and SHA-256, and every file the manifest lists must be there. The first
   problems are named in the error.
3. **compatible** — the target catalog is of the backup's kind (SQLite ↔ SQLite, PostgreSQL ↔
   PostgreSQL, with ``pg_restore`` on the PATH) and the catalog's revision is one this TalkTrack knows.
4. **replace** (``force`` only, after verification) — what the target held is moved aside into
   ``<root>/.replaced-<UTC time>/`` (a SQLite catalog outside the root: renamed beside itself);
   nothing is deleted. A PostgreSQL catalog is replaced by ``pg_restore --clean``.
5. **extract** — each file is written under a temporary name, its hash checked again, renamed;
   the catalog goes to the configured catalog (a SQLite file, or ``pg_restore``).
6. **counts** — rows per table of the catalog and of every SQLite file are compared with the manifest.
7. **paths** — the catalog is migrated to this version's schema, its paths under the old root that
   were restored are pointed at the new root, and so are the ``file://`` URIs in MLflow's store.
   ``restore-report.json`` in the new root records what was done.

Example::

    report = restore_backup(Path("/backups/ws.tar.gz"), settings, Workspace.at("/new/ws").ensure())
    report.counts["calls"], report.rewritten["calls.transcript_path"]
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import IO

from sqlalchemy import create_engine

from talktrack.core.catalog import open_catalog
from talktrack.core.config import Settings
from talktrack.core.progress import Progress
from talktrack.core.workspace import Workspace
from talktrack.pipelines.backup.archive import CHUNK, MANIFEST, inside, read_archive
from talktrack.pipelines.backup.errors import RestoreError
from talktrack.pipelines.backup.manifest import MAX_MANIFEST_BYTES, parse
from talktrack.pipelines.backup.paths import rewrite_catalog_paths, rewrite_sqlite_prefixes
from talktrack.pipelines.backup.snapshot import (
    SQLITE_SIDECARS,
    is_sqlite,
    pg_restore,
    redacted,
    require_tool,
    sqlite_counts,
    sqlite_file,
    table_counts,
    url_kind,
)

REPORT = "restore-report.json"
SHOWN_PROBLEMS = 10


@dataclass
class RestoreReport:
    """What :func:`restore_backup` did."""

    archive: Path
    root: Path
    backup_created_at: str
    source_root: str
    catalog_kind: str
    files: int
    bytes: int
    counts: dict[str, int]
    rewritten: dict[str, int]
    moved_aside: str | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self) | {"archive": str(self.archive), "root": str(self.root)}


def restore_backup(archive: Path, settings: Settings, workspace: Workspace, *, force: bool = False,
                   progress: Progress | None = None) -> RestoreReport:
    """Restore ``archive`` into ``workspace`` and its configured catalog (see the module docstring)."""
    started = time.perf_counter()
    archive = Path(archive).expanduser().resolve()
    url = settings.catalog.url or workspace.catalog_url
    occupied = occupants(workspace.root, url)
    if occupied and not force:
        raise RestoreError(f"{workspace.root} is not empty ({'; '.join(occupied)}): restore into an empty or new "
                           "workspace, or pass --force to move what it holds aside")
    manifest = verify_archive(archive, progress)
    check_compatible(manifest, url)
    moved_aside = move_aside(workspace.root, url) if occupied else _drop_empty_catalog(url)
    workspace.ensure()
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=workspace.root) as tmp:
        extract(archive, manifest, workspace.root, url, Path(tmp), progress)
    counts = compare_counts(manifest, workspace.root, url)
    rewritten = rewrite_paths(manifest, workspace, url)
    report = RestoreReport(
        archive=archive, root=workspace.root, backup_created_at=manifest.get("created_at", ""),
        source_root=manifest["workspace_root"], catalog_kind=manifest["catalog"]["kind"],
        files=len(manifest["files"]), bytes=sum(entry["size"] for entry in manifest["files"]), counts=counts,
        rewritten=rewritten, moved_aside=moved_aside, warnings=restore_warnings(manifest, settings),
        seconds=round(time.perf_counter() - started, 2))
    _write_report(workspace.root, report, manifest)
    return report


# -- 1. target ----------------------------------------------------------------------------------
def occupants(root: Path, url: str) -> list[str]:
    """What makes the target non-empty (at most a few, for the message); [] when it may be restored into."""
    found = []
    catalog = sqlite_file(url) if url_kind(url) == "sqlite" else None
    skip = {catalog, *(catalog.with_name(catalog.name + s) for s in SQLITE_SIDECARS)} if catalog else set()
    rows = _catalog_rows(url)
    if rows:
        found.append(f"its catalog holds {rows} rows")
    for top, _, names in os.walk(root):
        for name in sorted(names):
            path = Path(top) / name
            if path not in skip:
                found.append(str(path.relative_to(root)))
            if len(found) >= 4:
                return found + ["..."]
    return found


def _catalog_rows(url: str) -> int:
    """Rows in the target catalog's tables (its migration bookkeeping aside); 0 when there is none."""
    if url_kind(url) == "sqlite":
        path = sqlite_file(url)
        if not path.exists():
            return 0
        if not is_sqlite(path) and path.stat().st_size:
            raise RestoreError(f"{path}: the target catalog path holds a file that is not SQLite")
        counts = sqlite_counts(path)
    else:
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                counts = table_counts(connection)
        except Exception as exc:  # noqa: BLE001 - any driver error: the target cannot be checked
            raise RestoreError(f"cannot reach the target catalog {redacted(url)} ({exc})") from None
        finally:
            engine.dispose()
    return sum(count for name, count in counts.items() if name != "alembic_version")


# -- 2. verify ----------------------------------------------------------------------------------
def verify_archive(archive: Path, progress: Progress | None = None) -> dict:
    """The archive's manifest, once every member has been read and checked against it; writes nothing."""
    found: dict[str, tuple[int, str]] = {}
    raw: list[bytes] = []

    def visit(member: str, stream: IO[bytes]) -> None:
        if member == MANIFEST:
            raw.append(stream.read(MAX_MANIFEST_BYTES + 1))
            if len(raw[-1]) > MAX_MANIFEST_BYTES or len(raw) > 1:
                raise RestoreError(f"{archive}: {MANIFEST} is repeated or too large: refused")
        elif member in found:
            raise RestoreError(f"{archive}: member {member!r} appears twice: refused")
        else:
            found[member] = _digest(stream)

    read_archive(archive, visit, progress, "verify MiB")
    manifest = parse(raw[0] if raw else None, archive)
    problems = _problems(manifest, found)
    if problems:
        more = f" (and {len(problems) - SHOWN_PROBLEMS} more)" if len(problems) > SHOWN_PROBLEMS else ""
        shown = "; ".join(problems[:SHOWN_PROBLEMS])
        raise RestoreError(f"{archive}: refused, nothing was written: {shown}{more}")
    return manifest


def _problems(manifest: dict, found: dict[str, tuple[int, str]]) -> list[str]:
    listed = {entry["path"]: entry for entry in manifest["files"]}
    problems = []
    for path, entry in listed.items():
        if path not in found:
            problems.append(f"{path}: listed in the manifest but not in the archive")
        elif found[path][1] != entry.get("sha256"):
            problems.append(f"{path}: SHA-256 differs from the manifest ({found[path][0]} bytes, manifest "
                            f"{entry.get('size')}): the file was changed or damaged")
    problems += [f"{path}: in the archive but not in the manifest" for path in found if path not in listed]
    return problems


def _digest(stream: IO[bytes]) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


# -- 3. compatible ------------------------------------------------------------------------------
def check_compatible(manifest: dict, url: str) -> None:
    """Refuse a target catalog of another kind, a missing ``pg_restore``, a catalog revision unknown here."""
    kind, target = manifest["catalog"]["kind"], url_kind(url)
    if kind != target:
        raise RestoreError(f"the backup holds a {kind} catalog but the target catalog is {target} "
                           f"({redacted(url)}): set catalog.url to a {kind} database (restore does not move a "
                           "catalog between SQLite and PostgreSQL)")
    if kind == "postgresql":
        require_tool("pg_restore", RestoreError)
    revision = manifest["catalog"].get("revision")
    if revision is not None and not _known_revision(revision):
        raise RestoreError(f"the backup's catalog is at revision {revision!r}, which this TalkTrack does not know "
                           f"(it was made by talktrack {manifest.get('talktrack_version')}): restore with that "
                           "version or a newer one")


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    scripts = ScriptDirectory(str(resources.files("talktrack.core.catalog") / "migrations"))
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False


# -- 4. replace ---------------------------------------------------------------------------------
def move_aside(root: Path, url: str) -> str:
    """Move what ``root`` (and a SQLite catalog outside it) holds into ``root/.replaced-<time>/``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = root / f".replaced-{stamp}"
    aside.mkdir()
    for entry in sorted(root.iterdir()):
        if entry != aside:
            entry.rename(aside / entry.name)
    if url_kind(url) == "sqlite":
        catalog = sqlite_file(url)
        for path in (catalog, *(catalog.with_name(catalog.name + s) for s in SQLITE_SIDECARS)):
            if path.exists():
                path.rename(path.with_name(f"{path.name}.replaced-{stamp}"))
    return str(aside)


def _drop_empty_catalog(url: str) -> None:
    """Remove a row-less SQLite catalog (a command opened it) and its WAL, which must not meet the restored file."""
    if url_kind(url) == "sqlite":
        catalog = sqlite_file(url)
        for path in (catalog, *(catalog.with_name(catalog.name + s) for s in SQLITE_SIDECARS)):
            path.unlink(missing_ok=True)


# -- 5. extract ---------------------------------------------------------------------------------
def extract(archive: Path, manifest: dict, root: Path, url: str, tmp: Path, progress: Progress | None) -> None:
    """Write every member where it belongs, checking each hash again; load the catalog."""
    listed = {entry["path"]: entry for entry in manifest["files"]}
    catalog_member, kind = manifest["catalog"]["member"], manifest["catalog"]["kind"]
    catalog_target = sqlite_file(url) if kind == "sqlite" else tmp / "catalog.pgdump"

    def visit(member: str, stream: IO[bytes]) -> None:
        if member == MANIFEST:
            return
        if member not in listed:
            raise RestoreError(f"{archive}: member {member!r} appeared after verification: the archive changed")
        if member == catalog_member:
            target = catalog_target
        else:
            target = inside(root, PurePosixPath(member).relative_to("workspace"))
        _write_checked(stream, target, listed[member], archive)

    read_archive(archive, visit, progress, "restore MiB")
    if kind == "postgresql":
        pg_restore(url, catalog_target)


def _write_checked(stream: IO[bytes], target: Path, entry: dict, archive: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.restore-tmp")
    digest = hashlib.sha256()
    with open(partial, "wb") as out:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != entry["sha256"]:
        partial.unlink()
        raise RestoreError(f"{archive}: {entry['path']} changed since it was verified: the archive changed")
    os.replace(partial, target)


# -- 6. counts ----------------------------------------------------------------------------------
def compare_counts(manifest: dict, root: Path, url: str) -> dict[str, int]:
    """The restored catalog's counts; :class:`RestoreError` when any table (or SQLite file) differs."""
    catalog = _restored_counts(url)
    problems = _count_problems("catalog", manifest["catalog"]["counts"], catalog)
    for member, expected in manifest.get("databases", {}).items():
        path = inside(root, PurePosixPath(member).relative_to("workspace"))
        problems += _count_problems(member, expected["counts"], sqlite_counts(path))
    if problems:
        raise RestoreError("restored, but the counts differ from the manifest: " + "; ".join(problems[:20]))
    return {name: catalog[name] for name in manifest["catalog"]["counts"]}


def _restored_counts(url: str) -> dict[str, int]:
    if url_kind(url) == "sqlite":
        return sqlite_counts(sqlite_file(url))
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return table_counts(connection)
    finally:
        engine.dispose()


def _count_problems(where: str, expected: dict[str, int], found: dict[str, int]) -> list[str]:
    return [f"{where}: {name} has {found.get(name, 'no table')} rows, manifest {count}"
            for name, count in expected.items() if found.get(name) != count]


# -- 7. paths -----------------------------------------------------------------------------------
def rewrite_paths(manifest: dict, workspace: Workspace, url: str) -> dict[str, int]:
    """Migrate the catalog, then point restored paths (catalog rows, MLflow URIs) at the new root."""
    old_root = manifest["workspace_root"]
    archived = {entry["path"].removeprefix("workspace/") for entry in manifest["files"]
                if entry["path"].startswith("workspace/")}
    catalog = open_catalog(url)
    try:
        rewritten = rewrite_catalog_paths(catalog, old_root, workspace.root, archived)
    finally:
        catalog.dispose()
    for member in manifest.get("databases", {}):
        if member.startswith("workspace/mlflow/"):
            path = inside(workspace.root, PurePosixPath(member).relative_to("workspace"))
            rewritten[member.removeprefix("workspace/")] = rewrite_sqlite_prefixes(path, old_root, workspace.root)
    return rewritten


def restore_warnings(manifest: dict, settings: Settings) -> list[str]:
    """What the restored workspace still points at outside itself, or does not use."""
    found = []
    for column, kinds in manifest.get("paths", {}).items():
        if kinds.get("outside"):
            found.append(f"{kinds['outside']} {column} values point outside the backed-up workspace; "
                         "kept as they were")
        if kinds.get("not_archived"):
            found.append(f"{kinds['not_archived']} {column} values point at files the backup did not hold "
                         f"(audio left out, or gone); kept pointing at {manifest['workspace_root']}")
    if settings.mlflow.tracking_uri:
        found.append(f"the MLflow store was restored under mlflow/, but this configuration tracks to "
                     f"{redacted(settings.mlflow.tracking_uri)}")
    return found


def _write_report(root: Path, report: RestoreReport, manifest: dict) -> None:
    record = report.to_dict() | {"restored_at": datetime.now(UTC).isoformat(timespec="seconds"),
                                 "backup_talktrack_version": manifest.get("talktrack_version"),
                                 "paths": manifest.get("paths", {}), "audio": manifest.get("audio", {})}
    (root / REPORT).write_text(json.dumps(record, indent=1, ensure_ascii=False), encoding="utf-8")
