"""Shared fixtures: settings, a fresh catalog per test, and the shared real data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")

from talktrack.core.catalog import open_catalog  # noqa: E402
from talktrack.core.config import load_settings  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def settings():
    return load_settings(environ={})


@pytest.fixture
def catalog(tmp_path):
    """A fresh, migrated catalog: SQLite in tmp_path, or the server in TALKTRACK_TEST_CATALOG_URL.

    With ``TALKTRACK_TEST_CATALOG_URL=postgresql+psycopg://...`` the same tests run against
    PostgreSQL; that database is emptied before each test.
    """
    url = os.environ.get("TALKTRACK_TEST_CATALOG_URL")
    if url:
        _empty_database(url)
    catalog = open_catalog(url or f"sqlite:///{tmp_path / 'catalog.db'}")
    yield catalog
    catalog.dispose()


def _empty_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    from talktrack.core.catalog.schema import Base

    engine = create_engine(url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared reference data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def transcriber():
    """The bundled tiny.en transcriber, loaded once for the whole session."""
    from talktrack.core.config import TranscriberSettings
    from talktrack.models.transcription import Transcriber

    return Transcriber(TranscriberSettings())
