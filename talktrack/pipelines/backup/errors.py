"""The errors of backup and restore; each message names the file, member or table at fault."""

from __future__ import annotations


class BackupError(RuntimeError):
    """A backup that cannot be made (bad output path, unsupported catalog, missing tool)."""


class RestoreError(RuntimeError):
    """An archive or a target refused by restore, or a restore whose result does not match its manifest."""
