"""The one clock the catalog is stamped with.

Timestamps in the catalog are naive UTC (SQLite keeps no zone; PostgreSQL columns are
``timestamp without time zone``), so every writer takes "now" from here::

    >>> from talktrack.core.clock import utcnow
    >>> utcnow().tzinfo is None
    True
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, in UTC, without a zone (the form the catalog's timestamp columns hold)."""
    return datetime.now(UTC).replace(tzinfo=None)
