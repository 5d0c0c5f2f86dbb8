"""Backup and restore of a workspace: one ``.tar.gz`` with a consistent snapshot and a manifest.

:func:`create_backup` writes it (:mod:`.create`), :func:`restore_backup` puts it back into an
empty workspace (:mod:`.restore`); :mod:`.manifest` describes what the archive holds.
"""

from talktrack.pipelines.backup.create import BackupReport, create_backup
from talktrack.pipelines.backup.errors import BackupError, RestoreError
from talktrack.pipelines.backup.restore import RestoreReport, restore_backup, verify_archive

__all__ = ["BackupError", "BackupReport", "RestoreError", "RestoreReport", "create_backup", "restore_backup",
           "verify_archive"]
