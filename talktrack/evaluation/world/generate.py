"""The one orchestrator: spec + taxonomy -> a world folder in the import format plus
``truth.json``. Each step below reads what earlier steps made; nothing else is shared.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from talktrack.core.progress import Progress
from talktrack.evaluation.world import audio, calendar_shots, causal, courses, deals, evidence, people, plans, schedule, surveys
from talktrack.evaluation.world import counterfactual
from talktrack.evaluation.world import dialogue
from talktrack.evaluation.world import writer as w
from talktrack.evaluation.world.brief_world import write_brief_world
from talktrack.evaluation.world.management import make_management
from talktrack.evaluation.world.readme import readme_text
from talktrack.evaluation.world.spec import Taxonomy, WorldSpec, WorldSummary
from talktrack.evaluation.world.truth import WorldRecords, build_truth


def generate_world(spec: WorldSpec, out_dir: Path, taxonomy: Taxonomy | None = None,
                   progress: Progress | None = None) -> WorldSummary:
    """Generate the world of ``spec`` into ``out_dir`` (created; a previous world there is replaced).

    >>> from tempfile import mkdtemp
    >>> summary = generate_world(WorldSpec(seed=1, deals=5, calls=4, audio=0), Path(mkdtemp()))
    >>> summary.counts["deals"]
    5
    """
    started = time.perf_counter()
    taxonomy = taxonomy or Taxonomy.default()
    _check(spec, taxonomy)
    out_dir = Path(out_dir)
    prepare_out_dir(out_dir)
    world = build_records(spec, taxonomy, out_dir, progress)
    counts = write_world(spec, taxonomy, world, out_dir)
    return WorldSummary(out_dir=out_dir, seed=spec.seed, counts=counts, seconds=round(time.perf_counter() - started, 3))


def _check(spec: WorldSpec, taxonomy: Taxonomy) -> None:
    """Fail before writing anything: a taxonomy without the modelled keys, or audio without espeak-ng."""
    causal.check_taxonomy(taxonomy.stage_keys, taxonomy.capabilities, taxonomy.objection_types, taxonomy.moves)
    if spec.audio:
        audio.require_espeak()


def build_records(spec: WorldSpec, taxonomy: Taxonomy, out_dir: Path, progress: Progress | None) -> WorldRecords:
    """All records of the world, in causal order: people, deals, calls (planned, then the
    outcomes they drive, then their words), evidence, surveys, courses, audio."""
    teams = people.make_teams(spec)
    reps = people.make_reps(spec, teams, taxonomy.capabilities)
    customers = people.make_customers(spec, reps)
    deal_list = deals.make_deals(spec, taxonomy, reps, customers)
    deals.stick_open_deals(spec, taxonomy, deal_list)
    deals.mark_fake_progress(spec, deal_list, reps, taxonomy)
    calls = schedule.schedule_calls(spec, deal_list, customers)
    plans.plan_calls(spec, taxonomy, calls, reps, customers)
    deals.settle_outcomes(spec, taxonomy, deal_list, calls, reps, customers)
    dialogue.render_calls(spec, taxonomy, calls, deal_list, reps, customers, progress)
    notes = evidence.make_evidence(spec, deal_list, calls, customers, reps)
    evidence.claim_progress(spec, deal_list, notes, taxonomy.progress_levels)
    audible = [c for c in calls if not spec.audio_languages or c.language in spec.audio_languages]
    rendered = audio.render_audio(audible, spec.audio, out_dir, spec.seed, progress) if spec.audio else []
    return WorldRecords(teams, reps, customers, deal_list, calls, notes,
                        surveys.make_surveys(spec, reps, taxonomy.capabilities),
                        courses.make_courses(spec, taxonomy.capabilities), [c.call_id for c in rendered],
                        make_management(spec, teams, reps, customers, deal_list))


def write_world(spec: WorldSpec, taxonomy: Taxonomy, world: WorldRecords, out_dir: Path) -> dict[str, int]:
    """Every file of the import format, the transcripts, screenshots, truth.json and README.md; returns counts."""
    shots = calendar_shots.write_screenshots(spec, world, out_dir)  # before evidence.jsonl: sets their paths
    counts = {
        "teams": w.write_csv(out_dir / "teams.csv", w.COLUMNS["teams"], w.team_rows(world.teams)),
        "reps": w.write_csv(out_dir / "reps.csv", w.COLUMNS["reps"], w.rep_rows(world.reps)),
        "customers": w.write_csv(out_dir / "customers.csv", w.COLUMNS["customers"], w.customer_rows(world.customers)),
        "deals": w.write_csv(out_dir / "deals.csv", w.COLUMNS["deals"], w.deal_rows(world.deals)),
        "stage_events": w.write_csv(out_dir / "stage_events.csv", w.COLUMNS["stage_events"],
                                    w.stage_event_rows(world.deals)),
        "calls": w.write_csv(out_dir / "calls.csv", w.COLUMNS["calls"], w.call_rows(world.calls)),
        "evidence": w.write_jsonl(out_dir / "evidence.jsonl", w.evidence_records(world.evidence)),
        "surveys": w.write_csv(out_dir / "surveys.csv", w.COLUMNS["surveys"], w.survey_rows(world.surveys)),
        "courses": w.write_csv(out_dir / "courses.csv", w.COLUMNS["courses"], w.course_rows(world.courses)),
        "transcripts": w.write_transcripts(out_dir, world.calls, spec.seed),
        "audio": len(world.audio_call_ids),
        "screenshots": len(shots),
    }
    for name, rows in w.management_rows(world.management).items():
        counts[name] = w.write_csv(out_dir / f"{name}.csv", w.COLUMNS[name], rows)
    counts["surprise_answers"] = write_brief_world(spec, world, out_dir)
    w.write_json(out_dir / "truth.json", build_truth(spec, taxonomy, world) | {
        "calendar_screenshots": shots, "sandbox_forward_model": counterfactual.model_card()})
    (out_dir / "README.md").write_text(readme_text(spec, counts, counts["audio"]), encoding="utf-8", newline="\n")
    return counts


def prepare_out_dir(out_dir: Path) -> None:
    """Create ``out_dir``; a previous generated world in it (it has truth.json) is removed
    first so no stale file survives. Any other non-empty folder is refused, never emptied."""
    if out_dir.exists() and any(out_dir.iterdir()):
        if not (out_dir / "truth.json").is_file():
            raise FileExistsError(f"{out_dir} is not empty and holds no generated world (no truth.json); "
                                  "choose an empty or new folder")
        for name in w.OUTPUT_FILES:
            (out_dir / name).unlink(missing_ok=True)
        for folder in ("transcripts", "audio", calendar_shots.FOLDER):
            if (out_dir / folder).is_dir():
                shutil.rmtree(out_dir / folder)
    out_dir.mkdir(parents=True, exist_ok=True)
