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


# A small generated world for the semantic layer, generated once per session (about 2 s).
SEMANTIC_WORLD_SPEC = {"seed": 5, "reps": 12, "customers": 80, "deals": 200, "calls": 500, "audio": 0}


@pytest.fixture(scope="session")
def semantic_world(tmp_path_factory) -> Path:
    """A generated world (CRM files, transcripts, truth.json) shared read-only by the session."""
    from talktrack.evaluation.world import WorldSpec, generate_world

    out = tmp_path_factory.mktemp("semantic-world")
    generate_world(WorldSpec(**SEMANTIC_WORLD_SPEC), out)
    return out


@pytest.fixture(scope="session")
def semantic_truth(semantic_world) -> dict:
    import json

    return json.loads((semantic_world / "truth.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def semantic_workspace(tmp_path_factory, semantic_world, settings):
    """(settings, workspace, catalog) with ``semantic_world`` imported; shared by the session, so
    tests that change the catalog make their own copy (see ``fresh_semantic_workspace``)."""
    return _imported_workspace(tmp_path_factory.mktemp("semantic-ws"), semantic_world, settings)


@pytest.fixture
def fresh_semantic_workspace(tmp_path, semantic_workspace):
    """A private copy of ``semantic_workspace`` a test may change."""
    import shutil

    _, workspace, _ = semantic_workspace
    root = tmp_path / "ws"
    shutil.copytree(workspace.root, root)
    return _open_workspace(root, semantic_workspace[0])


def _imported_workspace(root: Path, world: Path, settings):
    from talktrack.pipelines.crm_import import import_directory

    settings, workspace, catalog = _open_workspace(root, settings)
    import_directory(catalog, settings, world)
    return settings, workspace, catalog


def _open_workspace(root: Path, settings):
    from talktrack.core.workspace import Workspace

    settings = settings.model_copy(update={"workspace": root})
    workspace = Workspace.at(root).ensure()
    return settings, workspace, open_catalog(workspace.catalog_url)
