"""The catalog: TalkTrack's relational store (SQLite in the workspace, PostgreSQL by URL)."""

from talktrack.core.catalog.store import Catalog, open_catalog

__all__ = ["Catalog", "open_catalog"]
