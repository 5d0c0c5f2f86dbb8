"""The backup archive on disk: a ``.tar.gz`` written atomically, and read back member by member
with every name checked before anything is written.

Writing: the archive grows under a hidden temporary name next to its destination and is
renamed into place (after an fsync) only when complete, so an interrupted backup never leaves
a file that looks like a backup. Each member's SHA-256 is computed from the very bytes that go
into the archive.

Reading: only regular files named ``manifest.json``, ``catalog/...`` or ``workspace/...`` are
accepted; an absolute name, a ``..`` part, a link, a directory or a device member is refused
(tar path traversal). A stream that fails to decompress names the member it was reading.

Example::

    with ArchiveWriter(Path("/backups/ws.tar.gz")) as archive:
        entry = archive.add_file(Path("ws/transcripts/a.json"), "workspace/transcripts/a.json")
        archive.add_bytes("manifest.json", b"{}")
    read_archive(Path("/backups/ws.tar.gz"), lambda member, stream: print(member, len(stream.read())))
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from talktrack.core.progress import Progress
from talktrack.pipelines.backup.errors import BackupError, RestoreError

MANIFEST = "manifest.json"
TOP_LEVEL = ("catalog", "workspace")
CHUNK = 1 << 20
MIB = 1 << 20
_READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError)


@dataclass(frozen=True)
class FileEntry:
    """One archived file as the manifest lists it."""

    path: str
    size: int
    sha256: str

    def to_dict(self) -> dict:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


class ArchiveWriter:
    """A ``.tar.gz`` at ``path``, visible only once the ``with`` block ends without error."""

    def __init__(self, path: Path, *, compresslevel: int = 6) -> None:
        self.path = path
        self.compresslevel = compresslevel

    def __enter__(self) -> ArchiveWriter:
        self._partial = self.path.with_name(f".{self.path.name}.partial-{os.getpid()}")
        self._file = open(self._partial, "xb")
        self._tar = tarfile.open(name=str(self.path), fileobj=self._file, mode="w:gz",
                                 compresslevel=self.compresslevel, format=tarfile.PAX_FORMAT)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self._tar.close()
            if exc_type is None:
                self._file.flush()
                os.fsync(self._file.fileno())
        finally:
            self._file.close()
            if exc_type is None:
                os.replace(self._partial, self.path)
                _fsync_directory(self.path.parent)
            else:
                self._partial.unlink(missing_ok=True)

    def add_file(self, source: Path, member: str, progress: Callable[[int], None] | None = None) -> FileEntry:
        """Archive ``source`` as ``member``; ``progress(bytes)`` is called as it is read."""
        with open(source, "rb") as handle:
            stat = os.fstat(handle.fileno())
            reader = _HashingReader(handle, progress)
            try:
                self._tar.addfile(_info(member, stat.st_size, stat.st_mtime), reader)
            except OSError as exc:
                raise BackupError(f"{source}: changed while being backed up ({exc}); "
                                  "run the backup again") from None
        return FileEntry(member, stat.st_size, reader.digest.hexdigest())

    def add_bytes(self, member: str, data: bytes) -> FileEntry:
        self._tar.addfile(_info(member, len(data), time.time()), io.BytesIO(data))
        return FileEntry(member, len(data), hashlib.sha256(data).hexdigest())


def read_archive(archive: Path, visit: Callable[[str, IO[bytes]], None], progress: Progress | None = None,
                 step: str = "read") -> None:
    """Call ``visit(member, stream)`` for each member in archive order, after checking its name and type.

    ``progress(step, MiB read, MiB total)`` follows the compressed bytes. A member that is not
    safe to write, or bytes that do not decompress, raise :class:`RestoreError`.
    """
    if not archive.is_file():
        raise RestoreError(f"{archive}: no such archive")
    total = max(1, -(-archive.stat().st_size // MIB))
    with open(archive, "rb") as raw:
        counted = _CountingReader(raw, lambda done: progress(step, done // MIB, total) if progress else None)
        last = None
        try:
            with tarfile.open(fileobj=counted, mode="r|gz") as tar:
                for info in tar:
                    check_member(info)
                    last = info.name
                    try:
                        visit(info.name, _GuardedStream(tar.extractfile(info), archive, info.name))
                    except OSError as exc:  # reads fail as RestoreError (_GuardedStream): this is a write
                        raise RestoreError(f"{info.name}: could not be written ({exc})") from exc
        except RestoreError:
            raise
        except _READ_ERRORS as exc:
            where = f"after member {last!r}" if last else "at its start"
            raise RestoreError(f"{archive}: unreadable {where} ({exc}): the archive is corrupt, truncated "
                               "or not a .tar.gz") from None
    if progress:
        progress(step, total, total)


def check_member(info: tarfile.TarInfo) -> PurePosixPath:
    """The member's relative path; :class:`RestoreError` for anything but a regular file that stays inside."""
    name = info.name
    if not info.isreg():
        raise RestoreError(f"archive member {name!r} is a {_kind(info)}: refused (a TalkTrack backup holds "
                           "only regular files)")
    path = PurePosixPath(name)
    if path.is_absolute() or name.startswith("/") or "\\" in name or "\x00" in name:
        raise RestoreError(f"archive member {name!r} has an absolute or non-POSIX name: refused")
    if any(part in ("", ".", "..") for part in name.split("/")):
        raise RestoreError(f"archive member {name!r} would leave the target directory: refused")
    if name != MANIFEST and (len(path.parts) < 2 or path.parts[0] not in TOP_LEVEL):
        raise RestoreError(f"archive member {name!r} is not part of a TalkTrack backup (expected "
                           f"{MANIFEST}, catalog/... or workspace/...): refused")
    return path


def inside(root: Path, relative: PurePosixPath) -> Path:
    """``root / relative``, refused when it resolves outside ``root`` (a link already in the target)."""
    target = (root / Path(*relative.parts)).resolve()
    if not target.is_relative_to(root.resolve()):
        raise RestoreError(f"{relative}: resolves to {target}, outside {root}: refused")
    return target


def _info(member: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(member)
    info.size, info.mtime, info.mode = size, int(mtime), 0o644
    return info


def _kind(info: tarfile.TarInfo) -> str:
    if info.issym():
        return "symbolic link"
    if info.islnk():
        return "hard link"
    if info.isdir():
        return "directory"
    if info.ischr() or info.isblk():
        return "device"
    if info.isfifo():
        return "FIFO"
    return "non-regular member"


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _HashingReader:
    """Hands tarfile the bytes of a file while hashing them (and reporting how many went by)."""

    def __init__(self, raw: IO[bytes], progress: Callable[[int], None] | None) -> None:
        self.raw, self.progress, self.digest = raw, progress, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.digest.update(data)
        if self.progress and data:
            self.progress(len(data))
        return data


class _CountingReader:
    """A binary reader that reports the running byte count of what was read."""

    def __init__(self, raw: IO[bytes], report: Callable[[int], None]) -> None:
        self.raw, self.report, self.done, self._shown = raw, report, 0, -1

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.done += len(data)
        if self.done // MIB != self._shown:
            self._shown = self.done // MIB
            self.report(self.done)
        return data


class _GuardedStream:
    """A member's stream whose read errors name the member (gzip CRC, zlib, truncation)."""

    def __init__(self, raw: IO[bytes], archive: Path, member: str) -> None:
        self.raw, self.archive, self.member = raw, archive, member

    def read(self, size: int = -1) -> bytes:
        try:
            return self.raw.read(size)
        except _READ_ERRORS as exc:
            raise RestoreError(f"{self.archive}: member {self.member!r} is unreadable ({exc}): the archive is "
                               "corrupt or truncated") from None
