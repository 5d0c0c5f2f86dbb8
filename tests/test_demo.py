"""``talktrack demo`` end to end on the embedded defaults, twice: the second run changes nothing."""

from __future__ import annotations

import csv
import shutil

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from talktrack.cli.main import app
from talktrack.core.catalog import open_catalog
from talktrack.core.catalog.schema import Call, Deal
from talktrack.pipelines.ingest.ray_runtime import stop_ray

pytestmark = pytest.mark.timeout(900)


@pytest.fixture
def no_ray_left():
    yield
    stop_ray()


# A smaller world than `make demo`'s (600 deals), so the suite stays quick: every step still runs.
SMALL_DEMO = {"TALKTRACK_DEMO__REPS": "12", "TALKTRACK_DEMO__CUSTOMERS": "60", "TALKTRACK_DEMO__DEALS": "150",
              "TALKTRACK_DEMO__CALLS": "400"}


def test_the_demo_runs_end_to_end_and_is_idempotent(tmp_path, no_ray_left):
    runner = CliRunner()
    first = runner.invoke(app, ["--workspace", str(tmp_path), "demo", "--no-serve"], env=SMALL_DEMO)
    assert first.exit_code == 0, first.output
    assert "FAILED" not in first.output
    for step in ("train moments", "detect moments", "index", "mine talk tracks", "SOP and key questions", "evidence"):
        assert step in first.output
    assert "400 calls labelled" in first.output

    world = tmp_path / "worlds" / "demo-seed7"
    with open(world / "deals.csv", encoding="utf-8") as handle:
        deals_in_world = sum(1 for _ in csv.DictReader(handle))
    rendered = sorted(p.stem for p in (world / "audio").glob("*.wav"))
    catalog = open_catalog(f"sqlite:///{tmp_path / 'catalog.db'}")
    with catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Deal)) == deals_in_world
        if shutil.which("espeak-ng"):
            transcribed = sorted(session.scalars(select(Call.external_id).where(Call.status == "transcribed")))
            assert transcribed == rendered and len(rendered) == 2
            # the recordings' transcripts came from the speech pipeline, not the generator
            for call_id in rendered:
                assert (tmp_path / "transcripts" / f"{call_id}.json").is_file()

    second = runner.invoke(app, ["--workspace", str(tmp_path), "demo", "--no-serve"], env=SMALL_DEMO)
    assert second.exit_code == 0, second.output
    assert "0 inserted, 0 updated" in second.output
    assert "0 utterances added" in second.output  # the index is incremental
    assert "0 calls labelled" in second.output  # moments already detected with this model

    # the demo ends with a key per role and curl examples that use them; a rerun revokes the old keys
    from talktrack.serving.keys import authenticate

    first_key, second_key = (demo_key(run.output, "crm") for run in (first, second))
    assert f"Authorization: Bearer {second_key}" in second.output and "/v1/score" in second.output
    assert authenticate(catalog, first_key) is None
    assert authenticate(catalog, second_key).role == "crm"


def demo_key(output: str, role: str) -> str:
    """The key the demo printed for ``role`` (its line reads ``  crm      tt_...``)."""
    line = next(line for line in output.splitlines() if line.strip().startswith(f"{role} ") and "tt_" in line)
    return line.split()[-1]
