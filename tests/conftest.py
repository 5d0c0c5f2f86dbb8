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
    """A fresh, migrated catalog: SQLite in tmp_path, or the server in TT_TEST_CATALOG_URL.

    With ``TT_TEST_CATALOG_URL=postgresql+psycopg://...`` the same tests run against
    PostgreSQL; that database is emptied before each test.
    """
    url = os.environ.get("TT_TEST_CATALOG_URL")
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


@pytest.fixture(scope="session")
def call_audio(tmp_path_factory):
    """A generated two-speaker English call rendered with espeak-ng (about 60 s), and its words."""
    from talktrack.evaluation.world import WorldSpec, generate_world

    out = tmp_path_factory.mktemp("calls-world")
    generate_world(WorldSpec(seed=3, reps=2, customers=4, deals=4, calls=4, audio=1, languages=("en",)), out)
    wav = next((out / "audio").glob("*.wav"))
    reference = wav.with_suffix(".txt").read_text(encoding="utf-8")
    words = {w.strip(".,?!'").lower() for line in reference.splitlines() for w in line.split("\t")[1].split()}
    return wav, words


# -- the served world: one workspace and one live server shared by the service tests ----------------
@pytest.fixture(scope="session")
def world_workspace(tmp_path_factory, semantic_workspace, semantic_world):
    """A private copy of the semantic workspace made ready to serve: moments written from truth,
    talk tracks mined, the utterance index built, a moment detector trained on another seed's
    labels (for new text: drills, voice notes, uploads), a customer scorer and the capability
    model trained and registered. Service tests share it; a test that changes data makes its own rows."""
    import shutil

    from talktrack.evaluation.semantic.oracle import write_truth_moments
    from talktrack.evaluation.world.labels import labels_from_new_world
    from talktrack.pipelines.semantic.moments import train_detector
    from talktrack.pipelines.mining import mine_talk_tracks, options_from_settings
    from talktrack.pipelines.semantic.index import build_utterance_index
    from talktrack.training.capability import register_capability, train_capability
    from talktrack.training.customer import train_customer

    settings, source, _ = semantic_workspace
    root = tmp_path_factory.mktemp("serving") / "ws"
    shutil.copytree(source.root, root)
    settings, workspace, catalog = _open_workspace(root, settings)
    write_truth_moments(semantic_world, catalog)
    mine_talk_tracks(catalog, settings, workspace,
                     options=options_from_settings(settings, min_support_deals=8, confidence=0.8))
    build_utterance_index(catalog, settings, workspace)
    labels = labels_from_new_world(
        tmp_path_factory.mktemp("serving-labels"), 9, {"reps": 8, "customers": 40, "deals": 80, "calls": 160, "audio": 0}
    )
    train_detector(catalog, settings, workspace, labels_file=labels)
    train_customer(catalog, settings, workspace)
    register_capability(settings, workspace, train_capability(catalog, settings, workspace))
    yield settings, workspace, catalog
    catalog.dispose()


@pytest.fixture(scope="session")
def server(world_workspace):
    """A real uvicorn server on localhost over ``world_workspace``.

    Its per-key quotas are lifted: many tests share its keys within a minute, and the quotas are
    tested on private servers (tests/test_serving_limits.py)."""
    from talktrack.core.config import QuotaSettings
    from talktrack.serving.app import create_app
    from tests.serving_support import LiveServer

    settings, _, _ = world_workspace
    unlimited = QuotaSettings(uploads_per_minute=100_000, drills_per_minute=100_000)
    settings = settings.model_copy(update={"serving": settings.serving.model_copy(update={"quotas": unlimited})})
    with LiveServer(create_app(settings)) as live:
        yield live


@pytest.fixture(scope="session")
def keys(world_workspace):
    """One key per role; the rep and manager keys are scoped to a rep with calls and their team;
    ``other_rep`` is a rep of another team (for scoping checks)."""
    from sqlalchemy import select

    from talktrack.core.catalog.schema import Call, Rep, Team
    from talktrack.serving.keys import create_key

    _, _, catalog = world_workspace
    with catalog.session() as session:
        rep, team = session.execute(
            select(Rep.external_id, Team.external_id)
            .join(Team, Rep.team_id == Team.id)
            .join(Call, Call.rep_id == Rep.id)
            .limit(1)
        ).first()
        other_rep = session.scalar(
            select(Rep.external_id).join(Team, Rep.team_id == Team.id).where(Team.external_id != team).limit(1)
        )
    made = {
        role: create_key(catalog, role, name=f"{role}-tester")[0] for role in ("admin", "coach", "ml", "crm")
    }
    made["rep"] = create_key(catalog, "rep", rep=rep, name="rep-tester")[0]
    made["other_rep"] = create_key(catalog, "rep", rep=other_rep, name="other-rep-tester")[0]
    made["manager"] = create_key(catalog, "manager", team=team, name="manager-tester")[0]
    return made | {"rep_id": rep, "team_id": team, "other_rep_id": other_rep}
