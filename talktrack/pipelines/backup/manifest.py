"""``manifest.json``, the last member of a backup: what the archive holds and how to check it.

Keys: ``format``/``format_version``; ``created_at`` (UTC); ``talktrack_version``;
``workspace_root`` (the root it was taken from: restore rewrites paths under it);
``catalog`` (``kind`` sqlite|postgresql, ``member``, ``url`` without password, alembic
``revision``, ``counts`` per table); ``databases`` (each SQLite file of the workspace, with its
counts per table); ``mlflow`` (whether its store is in the archive); ``audio`` (included or
not, files and bytes, what was not copied, references outside the workspace); ``paths`` (the
catalog's path columns sorted by kind, see :mod:`talktrack.pipelines.backup.paths`);
``files`` (every member but this one: path, size, sha256); ``totals``; ``skipped`` (links
inside the workspace, never followed); ``settings`` (the effective settings, passwords hidden).
"""

from __future__ import annotations

import json
from pathlib import Path

from talktrack.pipelines.backup.archive import MANIFEST
from talktrack.pipelines.backup.errors import RestoreError

FORMAT = "talktrack-backup"
FORMAT_VERSION = 1
CATALOG_MEMBERS = {"sqlite": "catalog/catalog.db", "postgresql": "catalog/catalog.pgdump"}
MAX_MANIFEST_BYTES = 512 << 20


def encode(manifest: dict) -> bytes:
    return json.dumps(manifest, indent=1, ensure_ascii=False, default=str).encode("utf-8")


def parse(raw: bytes | None, archive: Path) -> dict:
    """The manifest of ``archive`` checked for the keys restore relies on."""
    if raw is None:
        raise RestoreError(f"{archive}: no {MANIFEST}: not a TalkTrack backup, or truncated before its end")
    try:
        manifest = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RestoreError(f"{archive}: {MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise RestoreError(f"{archive}: {MANIFEST} does not describe a {FORMAT} archive")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise RestoreError(f"{archive}: backup format {version!r}; this TalkTrack reads up to {FORMAT_VERSION} "
                           "(restore with the version that made it, or a newer one)")
    _check_shape(manifest, archive)
    return manifest


def _check_shape(manifest: dict, archive: Path) -> None:
    catalog = manifest.get("catalog") or {}
    kind = catalog.get("kind")
    if CATALOG_MEMBERS.get(kind) != catalog.get("member"):
        raise RestoreError(f"{archive}: {MANIFEST}: catalog kind {kind!r} with member {catalog.get('member')!r} "
                           f"(expected one of {CATALOG_MEMBERS})")
    if not isinstance(manifest.get("workspace_root"), str) or not isinstance(manifest.get("files"), list):
        raise RestoreError(f"{archive}: {MANIFEST}: workspace_root or files missing")
    for entry in manifest["files"]:
        path = entry.get("path") if isinstance(entry, dict) else None
        if not isinstance(path, str) or not (path == catalog["member"] or path.startswith("workspace/")):
            raise RestoreError(f"{archive}: {MANIFEST} lists {path!r}, which a backup never holds")
