"""``talktrack backup``: a consistent snapshot of a workspace in one ``.tar.gz``.

Step by step:

1. **catalog** — SQLite through the online backup API, PostgreSQL through ``pg_dump`` on an
   exported snapshot; counts per table and the paths the catalog holds are read from that
   same snapshot (:mod:`~talktrack.pipelines.backup.snapshot`).
2. **databases** — every other SQLite file of the workspace (MLflow's ``mlflow/mlflow.db``,
   the embedding caches under ``models/``) the same way, with its counts.
3. **index** — ``index/`` is copied aside until two listings of it, before and after the
   copy, agree (an ``index build`` that saves meanwhile would otherwise pair a new FAISS file
   with an old manifest).
4. **files** — the rest of the workspace: transcripts, MLflow artefacts and registered models,
   ``models/``, worlds, pictures, and audio. Audio (``audio/`` and files with an audio suffix)
   is included unless ``audio=False``; then it is listed in the manifest instead. Recordings
   the catalog names *outside* the workspace are never copied: they are listed as references.
   Symbolic links are not followed (listed under ``skipped``); temporary files are left out.
5. **manifest.json** last, with every member's size and SHA-256
   (:mod:`~talktrack.pipelines.backup.manifest`).

Databases are copied before files, so every file a database row names was there to be copied.
The archive is written under a temporary name and renamed when complete.

Example::

    report = create_backup(settings, workspace, Path("/backups"), progress=hook)
    report.archive   # /backups/talktrack-ws-20250101T120000Z.tar.gz
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from alembic.runtime.migration import MigrationContext

from talktrack.core.config import Settings
from talktrack.core.progress import Progress
from talktrack.core.workspace import Workspace
from talktrack.pipelines.backup.archive import MANIFEST, MIB, ArchiveWriter, FileEntry
from talktrack.pipelines.backup.errors import BackupError
from talktrack.pipelines.backup.manifest import CATALOG_MEMBERS, FORMAT, FORMAT_VERSION, encode
from talktrack.pipelines.backup.paths import JOB_AUDIO, PathRef, classify, path_refs, survey
from talktrack.pipelines.backup.snapshot import (
    SQLITE_SIDECARS,
    is_sqlite,
    pg_dump_snapshot,
    redacted,
    sqlite_counts,
    sqlite_engine,
    sqlite_file,
    sqlite_snapshot,
    table_counts,
    url_kind,
)
from talktrack.pipelines.ingest.manifest import AUDIO_SUFFIXES

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
INDEX_COPY_ATTEMPTS = 3


@dataclass
class BackupReport:
    """What :func:`create_backup` wrote."""

    archive: Path
    archive_bytes: int
    files: int
    bytes: int
    catalog_kind: str
    catalog_rows: int
    audio: dict
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self) | {"archive": str(self.archive)}


@dataclass
class CatalogSnapshot:
    kind: str
    file: Path
    counts: dict[str, int]
    revision: str | None
    refs: list[PathRef]
    live_files: frozenset[Path]


@dataclass
class Plan:
    """The workspace's files sorted by how they are copied."""

    databases: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    audio_left_out: list[Path] = field(default_factory=list)
    links: list[Path] = field(default_factory=list)


def create_backup(settings: Settings, workspace: Workspace, out: Path, *, audio: bool = True,
                  progress: Progress | None = None) -> BackupReport:
    """Write a backup of ``workspace`` to ``out`` (a ``.tar.gz`` name, or a directory to put one in)."""
    started = time.perf_counter()
    root = workspace.root
    target = archive_path(out, root)
    url = settings.catalog.url or workspace.catalog_url
    with tempfile.TemporaryDirectory(prefix=".talktrack-backup-", dir=target.parent) as tmp, \
            ArchiveWriter(target) as archive:
        staging = Path(tmp)
        catalog = snapshot_catalog(url, staging)
        plan = plan_files(workspace, skip=catalog.live_files, audio=audio)
        databases = snapshot_databases(root, plan.databases, staging / "db", progress)
        index = stage_index(workspace, staging / "index", skip=catalog.live_files)
        members = [(catalog.file, CATALOG_MEMBERS[catalog.kind]), *databases, *index,
                   *((path, member_name(root, path)) for path in plan.files)]
        entries = add_members(archive, members, progress)
        manifest = build_manifest(settings, root, url, catalog, databases, plan, entries, audio)
        archive.add_bytes(MANIFEST, encode(manifest))
    return BackupReport(
        archive=target, archive_bytes=target.stat().st_size, files=len(entries),
        bytes=manifest["totals"]["bytes"], catalog_kind=catalog.kind,
        catalog_rows=sum(catalog.counts.values()), audio=_audio_summary(manifest["audio"]),
        warnings=warnings(manifest), seconds=round(time.perf_counter() - started, 2))


def archive_path(out: Path, root: Path) -> Path:
    """The archive to write: ``out`` itself, or a dated name inside the directory ``out``."""
    out = Path(out).expanduser().resolve()
    if out.is_dir():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out = out / f"talktrack-{root.name}-{stamp}.tar.gz"
    elif not out.name.endswith(ARCHIVE_SUFFIXES):
        raise BackupError(f"{out}: name the archive *.tar.gz (or give an existing directory to write one into)")
    if out.exists():
        raise BackupError(f"{out} already exists; a backup never overwrites a file: choose another name")
    if not out.parent.is_dir():
        raise BackupError(f"{out.parent}: no such directory")
    if out.is_relative_to(root):
        raise BackupError(f"{out} is inside the workspace {root}: write the backup elsewhere "
                          "(else the next backup would hold this one)")
    return out


def snapshot_catalog(url: str, staging: Path) -> CatalogSnapshot:
    """A consistent copy of the catalog in ``staging``, with its counts, revision and paths."""
    kind = url_kind(url)
    if kind == "sqlite":
        live = sqlite_file(url)
        file = staging / "catalog.db"
        sqlite_snapshot(live, file)
        with sqlite_engine(file) as engine, engine.connect() as connection:
            counts, revision, refs = _survey_catalog(connection)
        return CatalogSnapshot(kind, file, counts, revision, refs, _with_sidecars(live))
    if kind == "postgresql":
        file = staging / "catalog.pgdump"
        counts, revision, refs = pg_dump_snapshot(url, file, _survey_catalog)
        return CatalogSnapshot(kind, file, counts, revision, refs, frozenset())
    raise BackupError(f"catalog {redacted(url)}: backup knows SQLite and PostgreSQL catalogs, not {kind!r}")


def _survey_catalog(connection) -> tuple[dict[str, int], str | None, list[PathRef]]:
    revision = MigrationContext.configure(connection).get_current_revision()
    return table_counts(connection), revision, path_refs(connection)


def plan_files(workspace: Workspace, *, skip: frozenset[Path], audio: bool) -> Plan:
    """Sort the workspace's files: SQLite databases, plain files, audio left out, links (index/ aside)."""
    plan = Plan()
    for path in walk(workspace.root, skip, plan.links):
        if path.is_relative_to(workspace.index_dir):
            continue
        if not audio and is_audio(path, workspace):
            plan.audio_left_out.append(path)
        elif path.suffix in SQLITE_SUFFIXES and is_sqlite(path):
            plan.databases.append(path)
        else:
            plan.files.append(path)
    return plan


def walk(directory: Path, skip: frozenset[Path], links: list[Path]) -> Iterator[Path]:
    """Regular files under ``directory`` in name order, without temporaries, SQLite sidecars and ``skip``;
    symbolic links are appended to ``links`` and not followed."""
    for top, dirs, names in os.walk(directory):
        here = Path(top)
        dirs.sort()
        links += [here / name for name in dirs if (here / name).is_symlink()]
        for name in sorted(names):
            path = here / name
            if path.is_symlink():
                links.append(path)
            elif path.is_file() and path not in skip and not _temporary(name) and not _sidecar(path):
                yield path


def is_audio(path: Path, workspace: Workspace) -> bool:
    return path.is_relative_to(workspace.audio_dir) or path.suffix.lower() in AUDIO_SUFFIXES


def snapshot_databases(root: Path, databases: list[Path], staging: Path,
                       progress: Progress | None) -> list[tuple[Path, str]]:
    """Each SQLite file copied through the backup API into ``staging``; (copy, member) pairs."""
    staged = []
    for done, path in enumerate(databases, start=1):
        member = member_name(root, path)
        copy = staging / member
        copy.parent.mkdir(parents=True, exist_ok=True)
        sqlite_snapshot(path, copy)
        staged.append((copy, member))
        if progress:
            progress("databases", done, len(databases))
    return staged


def stage_index(workspace: Workspace, staging: Path, *, skip: frozenset[Path]) -> list[tuple[Path, str]]:
    """``index/`` copied into ``staging`` while no file of it changes; (copy, member) pairs."""
    root = workspace.root
    for _ in range(INDEX_COPY_ATTEMPTS):
        shutil.rmtree(staging, ignore_errors=True)
        before = _signatures(workspace.index_dir, skip)
        staged = []
        try:
            for path in before:
                copy = staging / member_name(root, path)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, copy)
                staged.append((copy, member_name(root, path)))
        except FileNotFoundError:
            continue  # replaced while copying: try again
        if _signatures(workspace.index_dir, skip) == before:
            return staged
    raise BackupError(f"{workspace.index_dir} changed during each of {INDEX_COPY_ATTEMPTS} copies; run the "
                      "backup again when no `talktrack index build` is running")


def _signatures(directory: Path, skip: frozenset[Path]) -> dict[Path, tuple[int, int, int]]:
    found = {}
    for path in walk(directory, skip, []):
        stat = path.stat()
        found[path] = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    return found


def add_members(archive: ArchiveWriter, members: list[tuple[Path, str]],
                progress: Progress | None) -> list[FileEntry]:
    """Add each (file, member) to the archive, reporting MiB archived."""
    total = max(1, -(-sum(path.stat().st_size for path, _ in members) // MIB))
    done = [0, -1]  # bytes, last MiB shown

    def advance(count: int) -> None:
        done[0] += count
        if progress and done[0] // MIB != done[1]:
            done[1] = done[0] // MIB
            progress("archive MiB", min(done[1], total), total)

    entries = [archive.add_file(path, member, advance) for path, member in members]
    if progress:
        progress("archive MiB", total, total)
    return entries


def build_manifest(settings: Settings, root: Path, url: str, catalog: CatalogSnapshot,
                   databases: list[tuple[Path, str]], plan: Plan, entries: list[FileEntry], audio: bool) -> dict:
    archived = {entry.path.removeprefix("workspace/") for entry in entries if entry.path.startswith("workspace/")}
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "talktrack_version": _talktrack_version(),
        "workspace_root": str(root),
        "catalog": {"kind": catalog.kind, "member": CATALOG_MEMBERS[catalog.kind], "url": redacted(url),
                    "revision": catalog.revision, "counts": catalog.counts},
        "databases": {member: {"counts": sqlite_counts(copy)} for copy, member in databases},
        "mlflow": {"tracking_uri": redacted(settings.mlflow.tracking_uri),
                   "in_backup": settings.mlflow.tracking_uri is None},
        "audio": _audio_section(root, plan, entries, catalog.refs, audio, archived),
        "paths": survey(catalog.refs, str(root), archived),
        "files": [entry.to_dict() for entry in entries],
        "totals": {"files": len(entries), "bytes": sum(entry.size for entry in entries)},
        "skipped": {"links": [member_name(root, path) for path in plan.links]},
        "settings": _settings_without_secrets(settings),
    }


def _audio_section(root: Path, plan: Plan, entries: list[FileEntry], refs: list[PathRef], audio: bool,
                   archived: set[str]) -> dict:
    audio_members = [entry for entry in entries if entry.path.startswith("workspace/")
                     and (entry.path.startswith("workspace/audio/")
                          or Path(entry.path).suffix.lower() in AUDIO_SUFFIXES)]
    outside = [{"column": ref.column, "row": ref.key, "path": ref.path} for ref in refs
               if ref.column in ("calls.audio_path", JOB_AUDIO)
               and classify(ref.path, str(root), archived) == "outside"]
    return {
        "included": audio,
        "files": len(audio_members),
        "bytes": sum(entry.size for entry in audio_members),
        "left_out": [{"path": member_name(root, path), "size": path.stat().st_size}
                     for path in plan.audio_left_out],
        "outside_workspace": outside,
    }


def _audio_summary(section: dict) -> dict:
    return {"included": section["included"], "files": section["files"], "bytes": section["bytes"],
            "left_out": len(section["left_out"]), "outside_workspace": len(section["outside_workspace"])}


def warnings(manifest: dict) -> list[str]:
    """What an operator should know about what the archive does not hold."""
    found = []
    audio = manifest["audio"]
    if audio["left_out"]:
        found.append(f"{len(audio['left_out'])} audio files in the workspace were left out (--no-audio); "
                     "the manifest lists them")
    if audio["outside_workspace"]:
        found.append(f"{len(audio['outside_workspace'])} recordings the catalog names are outside the workspace: "
                     "recorded as references in the manifest, not copied")
    if not manifest["mlflow"]["in_backup"]:
        found.append(f"MLflow tracks to {manifest['mlflow']['tracking_uri']}: that server is not in this backup")
    if manifest["skipped"]["links"]:
        found.append(f"{len(manifest['skipped']['links'])} symbolic links in the workspace were not followed")
    return found


def member_name(root: Path, path: Path) -> str:
    return "workspace/" + path.relative_to(root).as_posix()


def _with_sidecars(path: Path) -> frozenset[Path]:
    return frozenset({path, *(path.with_name(path.name + suffix) for suffix in SQLITE_SIDECARS)})


def _temporary(name: str) -> bool:
    """Files our writers create before an atomic rename (``.x.tmp``, ``x.tmp.npz``, ``.upload-*``)."""
    return name.startswith(".upload-") or ".tmp" in Path(name).suffixes or ".partial-" in name


def _sidecar(path: Path) -> bool:
    for suffix in SQLITE_SIDECARS:
        if path.name.endswith(suffix) and path.with_name(path.name.removesuffix(suffix)).is_file():
            return True
    return False


def _settings_without_secrets(settings: Settings) -> dict:
    data = settings.model_dump(mode="json", by_alias=True)
    data["catalog"]["url"] = redacted(settings.catalog.url)
    data["mlflow"]["tracking_uri"] = redacted(settings.mlflow.tracking_uri)
    return data


def _talktrack_version() -> str:
    try:
        return version("talktrack")
    except PackageNotFoundError:
        return "unknown"
