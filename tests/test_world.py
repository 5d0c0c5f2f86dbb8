"""The seeded sales-world generator: determinism, the import format, and that the
planted truth is really in the generated data.

Two worlds are built once per session: the demo world (seed 7 by default, the CLI's
defaults, 2 calls rendered to audio when espeak-ng is present) and a 2,000-deal world
for the statistics. Set TT_TEST_SEED to run everything on another seed; the
bounds below were chosen from measurements of the 2,000-deal world over seeds 0-29
(see each test) and hold with a wide margin for any seed.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import json
import math
import os
import re
import shutil
import string
import subprocess
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.stats import spearmanr

from talktrack.evaluation.world import EspeakMissingError, Taxonomy, WorldSpec, generate_world
from talktrack.evaluation.world import audio as world_audio
from talktrack.evaluation.world import causal, phrases_en, phrases_zh
from talktrack.evaluation.world.compose import expand
from talktrack.evaluation.world.variety import distinct_share

SEED = int(os.environ.get("TT_TEST_SEED", "7"))
HAS_ESPEAK = shutil.which("espeak-ng") is not None
DEMO = {"reps": 12, "customers": 40, "deals": 60, "calls": 120, "languages": ("en", "zh")}
BIG = {"reps": 60, "customers": 800, "deals": 2000, "calls": 6000, "languages": ("en", "zh"), "audio": 0}

REQUIRED = {
    "teams": ("team_id", "name"),
    "reps": ("rep_id", "name", "team_id"),
    "customers": ("customer_id", "name"),
    "deals": ("deal_id", "customer_id", "rep_id", "created_at", "stage"),
    "stage_events": ("deal_id", "stage", "entered_at"),
    "calls": ("call_id", "rep_id", "started_at"),
    "surveys": ("rep_id", "period", "dimension", "source", "score"),
    "courses": ("course_id", "title", "dimension"),
}
EVIDENCE_KINDS = {"calendar", "recording", "meeting_notes", "call_summary", "pain_point_list", "competitor_comparison",
                  "proposal", "roi_calculation", "quote", "contract", "other"}


# ---------------------------------------------------------------- fixtures and readers


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return Taxonomy.default()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory, taxonomy) -> Path:
    out = tmp_path_factory.mktemp("world-demo")
    generate_world(WorldSpec(seed=SEED, audio=2 if HAS_ESPEAK else 0, **DEMO), out, taxonomy)
    return out


@pytest.fixture(scope="session")
def big_dir(tmp_path_factory, taxonomy) -> Path:
    out = tmp_path_factory.mktemp("world-big")
    started = time.perf_counter()
    summary = generate_world(WorldSpec(seed=SEED, **BIG), out, taxonomy)
    print(f"\n2,000-deal world ({summary.counts['calls']} calls, no audio) in {time.perf_counter() - started:.1f} s")
    return out


@pytest.fixture(scope="session")
def big(big_dir) -> dict:
    return load(big_dir)


@pytest.fixture(scope="session")
def demo(demo_dir) -> dict:
    return load(demo_dir)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load(folder: Path) -> dict:
    data = {name: read_csv(folder / f"{name}.csv") for name in REQUIRED}
    data["evidence"] = [json.loads(line) for line in (folder / "evidence.jsonl").read_text(encoding="utf-8").splitlines()]
    data["truth"] = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    data["folder"] = folder
    return data


def by_id(rows: list[dict], key: str) -> dict[str, dict]:
    return {row[key]: row for row in rows}


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def has_number(text: str, token: str) -> bool:
    """``token`` occurs as a whole number (not inside 2025 or 16)."""
    return re.search(rf"(?<![0-9]){re.escape(token)}(?![0-9])", text) is not None


def logistic_fit(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unpenalised logistic regression by Newton-Raphson; (coefficients, standard errors)."""
    beta = np.zeros(X.shape[1])
    for _ in range(30):
        p = 1.0 / (1.0 + np.exp(-X @ beta))
        hessian = X.T @ (X * (p * (1 - p))[:, None])
        step = np.linalg.solve(hessian, X.T @ (y - p))
        beta += step
        if np.abs(step).max() < 1e-10:
            break
    return beta, np.sqrt(np.diag(np.linalg.inv(hessian)))


# ---------------------------------------------------------------- determinism


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path, demo_dir, taxonomy):
    """Byte identity over every file, audio included when espeak-ng is installed."""
    audio = 2 if HAS_ESPEAK else 0
    generate_world(WorldSpec(seed=SEED, audio=audio, **DEMO), tmp_path / "again", taxonomy)
    generate_world(WorldSpec(seed=SEED + 1, audio=audio, **DEMO), tmp_path / "other", taxonomy)
    first, again, other = digests(demo_dir), digests(tmp_path / "again"), digests(tmp_path / "other")
    assert first == again
    assert any(name.endswith(".wav") for name in first) == HAS_ESPEAK
    shared = set(first) & set(other)
    assert [name for name in shared if first[name] != other[name]], "another seed changed nothing"


def test_regenerating_into_the_same_folder_replaces_the_world(tmp_path, taxonomy):
    spec = WorldSpec(seed=SEED, deals=8, calls=6, audio=0)
    generate_world(WorldSpec(seed=SEED, deals=8, calls=30, audio=0), tmp_path, taxonomy)
    generate_world(spec, tmp_path, taxonomy)
    assert len(list((tmp_path / "transcripts").iterdir())) == 6


def test_refuses_a_folder_that_is_not_a_generated_world(tmp_path, taxonomy):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="no truth.json"):
        generate_world(WorldSpec(seed=SEED, deals=3, calls=2, audio=0), tmp_path, taxonomy)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_spec_is_validated_at_the_boundary():
    assert WorldSpec(languages="en, zh").languages == ("en", "zh")
    with pytest.raises(ValueError, match="audio"):
        WorldSpec(calls=1, audio=2)
    with pytest.raises(ValueError):
        WorldSpec(languages="en,fr")


def test_missing_espeak_is_a_clear_error_before_anything_is_written(tmp_path, taxonomy, monkeypatch):
    monkeypatch.setattr(world_audio.shutil, "which", lambda name: None)
    with pytest.raises(EspeakMissingError, match=r"apt-get install espeak-ng \(or run without --audio\)"):
        generate_world(WorldSpec(seed=SEED, deals=3, calls=2, audio=1), tmp_path / "w", taxonomy)
    assert not (tmp_path / "w").exists()


# ---------------------------------------------------------------- the import format


def test_every_file_has_the_required_columns_and_unique_ids(demo):
    for name, columns in REQUIRED.items():
        assert demo[name], f"{name}.csv is empty"
        assert set(columns) <= set(demo[name][0]), f"{name}.csv lacks {set(columns) - set(demo[name][0])}"
        assert all(row[c] != "" for row in demo[name] for c in columns), f"empty required cell in {name}.csv"
    for name, key in (("teams", "team_id"), ("reps", "rep_id"), ("customers", "customer_id"), ("deals", "deal_id"),
                      ("calls", "call_id"), ("evidence", "evidence_id"), ("courses", "course_id")):
        ids = [row[key] for row in demo[name]]
        assert len(ids) == len(set(ids)), f"duplicate {key} in {name}"
    keys = [(r["deal_id"], r["stage"], r["entered_at"]) for r in demo["stage_events"]]
    assert len(keys) == len(set(keys))


def test_ids_and_references_resolve(demo):
    teams, reps = by_id(demo["teams"], "team_id"), by_id(demo["reps"], "rep_id")
    customers, deals = by_id(demo["customers"], "customer_id"), by_id(demo["deals"], "deal_id")
    assert re.fullmatch(r"TEAM-\d{2}", next(iter(teams))) and re.fullmatch(r"REP-\d{3}", next(iter(reps)))
    assert all(team["manager_id"] in reps and reps[team["manager_id"]]["role"] == "manager" for team in teams.values())
    assert all(rep["team_id"] in teams for rep in reps.values())
    assert all(d["customer_id"] in customers and d["rep_id"] in reps for d in deals.values())
    assert all(e["deal_id"] in deals for e in demo["stage_events"] + demo["evidence"])
    for call in demo["calls"]:
        deal = deals[call["deal_id"]]
        assert (call["rep_id"], call["customer_id"]) == (deal["rep_id"], deal["customer_id"])
        assert call["language"] == customers[call["customer_id"]]["language"]
    assert all(s["rep_id"] in reps for s in demo["surveys"])
    assert sum(r["role"] == "manager" for r in reps.values()) == len(teams)


def test_values_are_valid_keys_dates_and_ranges(demo, taxonomy):
    stages, dims = set(taxonomy.stage_keys), set(taxonomy.capabilities)
    for deal in demo["deals"]:
        assert deal["stage"] in stages and deal["status"] in ("open", "won", "lost")
        assert (deal["closed_at"] != "") == (deal["status"] != "open")
        assert deal["progress_level"] in ("",) + taxonomy.progress_levels
        assert 0 <= float(deal["discount_pct"]) <= 100 and deal["standard_contract"] in ("true", "false")
        assert re.fullmatch(r"[A-Z]{3}", deal["currency"]) and float(deal["amount"]) >= 0
        datetime.fromisoformat(deal["created_at"])
    for customer in demo["customers"]:
        assert -1 <= float(customer["sentiment"]) <= 1 and int(customer["employees"]) >= 0
        assert int(customer["open_positions"]) >= 0 and float(customer["purchase_frequency"]) >= 0
        assert customer["language"] in ("en", "zh")
        date.fromisoformat(customer["created_at"])
    for survey in demo["surveys"]:
        assert survey["dimension"] in dims and survey["source"] in ("customer", "manager", "peer", "self")
        assert 1 <= float(survey["score"]) <= 5 and 1 <= int(survey["respondents"]) <= 8
        assert re.fullmatch(r"\d{4}-\d{2}", survey["period"])
    for item in demo["evidence"]:
        assert item["kind"] in EVIDENCE_KINDS and item["progress_level"] in taxonomy.progress_levels
        datetime.fromisoformat(item["submitted_at"])
    assert {c["dimension"] for c in demo["courses"]} == dims
    assert {c["language"] for c in demo["courses"]} == {"en", "zh"}


def test_stage_histories_walk_the_pipeline(demo, taxonomy):
    """One row per stage entered, in order, starting with lead at created_at; won deals end
    in contract_delivery at closed_at."""
    events: dict[str, list[dict]] = {}
    for row in demo["stage_events"]:
        events.setdefault(row["deal_id"], []).append(row)
    order = list(taxonomy.stage_keys)
    for deal in demo["deals"]:
        rows = events[deal["deal_id"]]
        assert [r["stage"] for r in rows] == order[:len(rows)]
        assert rows[0]["entered_at"] == deal["created_at"] and rows[-1]["stage"] == deal["stage"]
        assert [r["entered_at"] for r in rows] == sorted(r["entered_at"] for r in rows)
        if deal["status"] == "won":
            assert rows[-1]["entered_at"] == deal["closed_at"] and deal["stage"] == "contract_delivery"
        if deal["status"] == "lost":
            assert deal["stage"] == "negotiation"


def test_open_deals_include_some_overdue_in_their_stage(demo, taxonomy):
    """Several open deals sit past their stage's threshold at the world's end (for alerts)."""
    end = datetime.fromisoformat(demo["truth"]["world_end"])
    entered = {(r["deal_id"], r["stage"]): datetime.fromisoformat(r["entered_at"]) for r in demo["stage_events"]}
    overdue = [d for d in demo["deals"] if d["status"] == "open"
               and end - entered[(d["deal_id"], d["stage"])] > timedelta(days=taxonomy.stage(d["stage"]).threshold_days)]
    assert len(overdue) >= 3


def test_calls_sit_inside_their_stage_and_transcripts_match(demo, taxonomy):
    folder, truth = demo["folder"], demo["truth"]
    entered = {(r["deal_id"], r["stage"]): datetime.fromisoformat(r["entered_at"]) for r in demo["stage_events"]}
    call_stages = {"qualification", "needs_diagnosis", "solution_presentation", "negotiation"}
    for call in demo["calls"]:
        assert call["stage"] in call_stages and call["channel"] in ("phone", "video", "visit")
        assert entered[(call["deal_id"], call["stage"])] <= datetime.fromisoformat(call["started_at"])
        doc = json.loads((folder / call["transcript_path"]).read_text(encoding="utf-8"))
        assert doc["schema"] == "talktrack.transcript/1" and doc["call_id"] == call["call_id"]
        assert doc["source"] == {"kind": "generated", "seed": SEED}
        assert math.isclose(doc["duration_s"], float(call["duration_s"]))
        speakers = {s["speaker"]: s["role"] for s in doc["speakers"]}
        assert sorted(speakers.values()).count("rep") == 1 and set(speakers.values()) <= {"rep", "customer"}
        utterances = doc["utterances"]
        assert 12 <= len(utterances) <= 40
        assert all(u["speaker"] in speakers and u["role"] == speakers[u["speaker"]] for u in utterances)
        assert all(0 <= u["start"] < u["end"] <= doc["duration_s"] for u in utterances)
        assert [u["start"] for u in utterances] == sorted(u["start"] for u in utterances)
        assert len(truth["calls"][call["call_id"]]["utterances"]) == len(utterances)


def test_truth_uses_exactly_the_taxonomy_keys(demo, taxonomy):
    truth = demo["truth"]
    objections, moves = set(), set()
    for call in truth["calls"].values():
        for episode in call["objections"]:
            objections.add(episode["objection_type"])
            moves.update(episode["moves"])
            assert 1 <= len(episode["moves"]) <= 4 and episode["reaction"] in causal.REACTIONS
        assert set(call["key_questions"]["covered"]) <= set(taxonomy.stage(call["stage"]).key_questions)
    assert objections <= set(taxonomy.objection_types) and moves <= set(taxonomy.moves)
    assert {t["objection_type"] for t in truth["planted_tracks"] if not t["decoy"]} >= {"price", "competitor",
                                                                                          "timing", "delivery"}
    assert any(t["decoy"] for t in truth["planted_tracks"])
    assert set(truth["dimensions"]) == set(taxonomy.capabilities)


# ---------------------------------------------------------------- language


def test_every_act_has_at_least_six_phrasings_and_every_slot_fills():
    for lex in (phrases_en, phrases_zh):
        banks = dict(lex.PHRASES)
        banks.update({f"kq.{k}.q": v["open"] + v["closed"] for k, v in lex.KEY_QUESTIONS.items()})
        banks.update({f"kq.{k}.a": v["answer"] for k, v in lex.KEY_QUESTIONS.items()})
        thin = {key: len(options) for key, options in banks.items() if len(set(options)) < 6}
        assert not thin, f"{lex.LANGUAGE}: fewer than 6 phrasings: {thin}"
        assert sum(len(v) for v in lex.PAINS.values()) >= 6 and lex.PAINS.keys() == lex.PAIN_NOTES.keys()
        slots = {name for options in banks.values() for text in options
                 for _, name, _, _ in string.Formatter().parse(text) if name}
        assert slots <= SLOT_NAMES, f"{lex.LANGUAGE}: unknown slots {slots - SLOT_NAMES}"
    assert phrases_en.PHRASES.keys() == phrases_zh.PHRASES.keys()


SLOT_NAMES = {"rep_first", "vendor", "product", "customer", "contact_first", "contact2", "competitor", "budget",
              "amount", "deadline", "users", "decision_maker", "committee", "open_positions", "city", "case_customer",
              "payment_terms", "date", "installments", "pilot_weeks", "guarantee_days", "weeks", "discount",
              "case_pct", "next_action", "concern", "pain_note"}


def test_calls_are_varied_and_carry_this_customers_specifics(demo):
    """No customer utterance repeats across much of the corpus; every call states at least
    one of its customer's pain-point numbers; Mandarin calls are written in Chinese."""
    truth, folder = demo["truth"], demo["folder"]
    texts: dict[str, int] = {}
    for call in demo["calls"]:
        doc = json.loads((folder / call["transcript_path"]).read_text(encoding="utf-8"))
        spoken = " ".join(u["text"] for u in doc["utterances"] if u["role"] == "customer")
        tokens = [t for pain in truth["customers"][call["customer_id"]]["pains"] for t in pain["tokens"]]
        assert any(has_number(spoken, token) for token in tokens), call["call_id"]
        if call["language"] == "zh":
            cjk = sum("\u4e00" <= ch <= "\u9fff" for u in doc["utterances"] for ch in u["text"])
            assert cjk > 50
        for u in doc["utterances"]:
            texts[u["text"]] = texts.get(u["text"], 0) + 1
    long_repeats = [t for t, n in texts.items() if len(t) > 40 and n > len(demo["calls"]) // 4]
    assert not long_repeats
    fillers = sum(any(f.strip(" ,，") in t for f in phrases_en.FILLERS + phrases_zh.FILLERS) for t in texts)
    assert fillers > 0.05 * len(texts)



def test_most_utterances_of_a_large_world_are_distinct(big):
    """Composed phrasings (choices, openers, tags, fillers, code-switching): in the 6,000-call
    world (148k utterances) 70.8 % of utterances are distinct texts (objection and move lines
    88-93 %); with fixed sentences it was 29 % at 1,800 calls. Bounds a few points below."""
    shares = distinct_share(big["folder"])
    assert shares["all"]["share"] >= 0.66, shares["all"]
    for language in ("en", "zh"):
        for kind in ("objection", "move"):
            assert shares["by_language"][language][kind]["share"] >= 0.85, (language, kind, shares["by_language"])


def test_objections_and_moves_carry_their_phrasing_family(big):
    """Each objection utterance names one of its type's families (all four in use for every
    type); each answer names one family per move, so an evaluation can hold families out."""
    seen: dict[str, set[str]] = {}
    move_families: set[str] = set()
    for call in big["truth"]["calls"].values():
        for labels in call["utterances"]:
            if labels["act"] == "objection":
                kind = labels["objection_type"]
                assert labels["family"] in phrases_en.objection_families(kind)
                seen.setdefault(kind, set()).add(labels["family"])
            elif labels["act"] == "move":
                assert len(labels["families"]) == len(labels["moves"])
                move_families.update(labels["families"])
    assert all(families == {"direct", "indirect", "hedged", "question"} for families in seen.values()), seen
    assert move_families == {"plain", "spoken"}


def test_every_family_and_composed_choice_fills_in_both_languages():
    rng = np.random.default_rng(0)
    slots = {name: "X" for name in SLOT_NAMES}
    for lex in (phrases_en, phrases_zh):
        assert lex.OBJECTION_VARIANTS.keys() == phrases_en.OBJECTION_VARIANTS.keys()
        assert lex.MOVE_VARIANTS.keys() == {k[5:] for k in lex.PHRASES if k.startswith("move.")}
        banks = [t for kind in lex.OBJECTION_VARIANTS for f in lex.objection_families(kind).values() for t in f]
        banks += [t for move in lex.MOVE_VARIANTS for f in lex.move_families(move).values() for t in f]
        banks += [t for options in (*lex.OPENERS.values(), *lex.PREAMBLES.values(), *lex.AFTERWORDS.values())
                  for t in options]
        for template in banks:
            for _ in range(3):
                text = expand(template, rng).format_map(slots)
                assert not set("[]|{}") & set(text), (lex.LANGUAGE, template, text)


# ---------------------------------------------------------------- the planted truth in the data


def test_planted_tracks_lift_the_raw_win_rate_and_the_decoy_does_not(big):
    """Among closed deals that faced the objection type, deals whose calls used the track
    win more often (raw, confounded by skill, as real data is). The decoy (same moves,
    reverse order) is compared with deals that used neither.

    Measured over seeds 0-29: real-track lifts +0.125 to +0.43 (176-426 deals used each
    track; the smallest was about 2.7 standard errors, timing, planted +0.7 logit); decoy
    lifts -0.10 to +0.18 with 73-125 decoy deals (one standard error is about 0.065; the
    largest was 2.8). Bounds: a real lift above 0.05 and 2 standard errors; a decoy lift
    within 3.5 standard errors of zero.
    """
    status = {d["deal_id"]: d["status"] for d in big["deals"]}
    truth = big["truth"]
    faced: dict[str, set] = {deal_id: set() for deal_id in status}
    for call in truth["calls"].values():
        faced[call["deal_id"]].update(o["objection_type"] for o in call["objections"])
    real = {t["objection_type"]: t["track_id"] for t in truth["planted_tracks"] if not t["decoy"]}
    for track in truth["planted_tracks"]:
        closed = [k for k, s in status.items() if s != "open" and track["objection_type"] in faced[k]]
        if track["decoy"]:
            closed = [k for k in closed if real[track["objection_type"]] not in truth["deals"][k]["tracks_used"]]
        used = np.array([status[k] == "won" for k in closed if track["track_id"] in truth["deals"][k]["tracks_used"]])
        other = np.array([status[k] == "won" for k in closed if track["track_id"] not in truth["deals"][k]["tracks_used"]])
        lift = used.mean() - other.mean()
        se = math.sqrt(used.mean() * (1 - used.mean()) / len(used) + other.mean() * (1 - other.mean()) / len(other))
        print(f"{track['track_id']:55s} used {len(used):4d} win {used.mean():.3f} vs {len(other):4d} "
              f"win {other.mean():.3f}: lift {lift:+.3f} (se {se:.3f})")
        if track["decoy"]:
            assert abs(lift) < 3.5 * se
        else:
            assert lift > max(0.05, 2 * se)


def test_logistic_regression_on_the_true_features_recovers_the_planted_coefficients(big):
    """Fit outcome ~ true features on all 2,000 deals (open ones by outcome_if_closed).

    Every estimate must lie within 4 standard errors (from the Fisher information) of the
    planted value. Measured over seeds 0-29: the largest |z| among the 11 coefficients was
    1.1-3.3 per seed, mean z per coefficient within +-0.45 (sd 0.7-1.1); with 11
    coefficients P(any |z| > 4) is about 7e-4 for a correct generator.
    """
    truth = big["truth"]
    names = list(truth["outcome_model"]["coefficients"])
    deals = [truth["deals"][k] for k in sorted(truth["deals"])]
    X = np.array([[1.0] + [d["features"][n] for n in names] for d in deals])
    y = np.array([d["outcome_if_closed"] == "won" for d in deals], dtype=float)
    beta, se = logistic_fit(X, y)
    planted = np.array([truth["outcome_model"]["intercept"]] + [truth["outcome_model"]["coefficients"][n] for n in names])
    for name, b, s, t in zip(["intercept"] + names, beta, se, planted, strict=True):
        print(f"{name:60s} planted {t:+.2f} estimated {b:+.3f} (se {s:.3f}, z {(b - t) / s:+.2f})")
    assert np.all(np.abs(beta - planted) <= 4 * se)
    decoy = ["track:" + t["track_id"] for t in truth["planted_tracks"] if t["decoy"]]
    assert all(abs(beta[1 + names.index(name)]) <= 4 * se[1 + names.index(name)] for name in decoy)


def test_p_win_is_the_documented_function_of_the_features(big):
    model = big["truth"]["outcome_model"]
    for deal in list(big["truth"]["deals"].values())[:200]:
        logit = model["intercept"] + sum(model["coefficients"][n] * v for n, v in deal["features"].items())
        assert math.isclose(deal["p_win"], 1 / (1 + math.exp(-logit)), abs_tol=2e-6)
        assert deal["outcome"] in (None, deal["outcome_if_closed"])


def test_surveys_follow_the_hidden_levels(big):
    """Spearman(score, hidden level) per source. Measured over seeds 0-29: customer
    0.79-0.87, manager 0.82-0.89, peer 0.86-0.92, self 0.76-0.86. Bound: 0.65."""
    levels = {rep: r["levels"] for rep, r in big["truth"]["reps"].items()}
    pairs: dict[str, list] = {}
    for row in big["surveys"]:
        pairs.setdefault(row["source"], []).append((float(row["score"]), levels[row["rep_id"]][row["period"]][row["dimension"]]))
    for source, values in sorted(pairs.items()):
        rho = spearmanr(*np.array(values).T).statistic
        print(f"survey {source:8s} spearman {rho:.3f} over {len(values)} scores")
        assert rho > 0.65
    self_minus_manager = np.mean([s for s, _ in pairs["self"]]) - np.mean([s for s, _ in pairs["manager"]])
    assert self_minus_manager > 0  # self ratings are biased upwards


def test_better_reps_use_the_planted_tracks_more(big):
    """Per rep: share of answers to planted-track objection types that used the track, vs
    the rep's general ability. Measured Spearman over 50 reps, seeds 0-29: 0.79-0.95. Bound: 0.6."""
    truth = big["truth"]
    real = {t["objection_type"]: t["track_id"] for t in truth["planted_tracks"] if not t["decoy"]}
    owner = {d["deal_id"]: d["rep_id"] for d in big["deals"]}
    uses: dict[str, list[bool]] = {}
    for call in truth["calls"].values():
        for episode in call["objections"]:
            if episode["objection_type"] in real:
                uses.setdefault(owner[call["deal_id"]], []).append(real[episode["objection_type"]] in episode["tracks_used"])
    reps = sorted(uses)
    rho = spearmanr([truth["reps"][r]["general"] for r in reps], [np.mean(uses[r]) for r in reps]).statistic
    print(f"track use vs general ability: spearman {rho:.3f} over {len(reps)} reps")
    assert rho > 0.6


# ---------------------------------------------------------------- fake progress


def test_fake_progress_notes_are_detectable_from_their_content(big):
    """Authentic notes hold this customer's pain-point numbers; template notes hold none;
    copies are near-duplicates of their source once customer names are masked.

    Measured copy-to-source similarity (difflib ratio, names masked): minimum 0.815-0.843
    per seed over seeds 0-4 (210-320 copies each, median 0.96), against 0.70 at the 99th
    percentile of random same-language note pairs (seed 7). Bound: 0.75.
    Fake-progress share of deals over seeds 0-29: 0.102-0.164 (mean 0.134). Bounds: 0.06-0.22.
    """
    truth = big["truth"]
    deals, customers = by_id(big["deals"], "deal_id"), by_id(big["customers"], "customer_id")
    notes = by_id(big["evidence"], "evidence_id")
    tokens = {cid: [t for p in c["pains"] for t in p["tokens"]] for cid, c in truth["customers"].items()}

    def masked(evidence_id: str) -> str:
        customer = customers[deals[notes[evidence_id]["deal_id"]]["customer_id"]]
        return notes[evidence_id]["text"].replace(customer["name"], "<CUSTOMER>")

    ratios, kinds = [], {"authentic": 0, "template": 0, "copied": 0}
    for evidence_id, label in truth["evidence"].items():
        if label["kind"] not in ("meeting_notes", "call_summary", "proposal"):
            continue
        kinds[label["authenticity"]] += 1
        text, own = notes[evidence_id]["text"], tokens[deals[label["deal_id"]]["customer_id"]]
        if label["authenticity"] == "authentic":
            assert any(has_number(text, t) for t in own), evidence_id
        elif label["authenticity"] == "template":
            assert not any(has_number(text, t) for t in own), evidence_id
            assert truth["deals"][label["deal_id"]]["fake_progress"]
        else:
            source = label["source_evidence_id"]
            assert truth["evidence"][source]["authenticity"] == "authentic"
            assert deals[notes[source]["deal_id"]]["customer_id"] != deals[label["deal_id"]]["customer_id"]
            ratios.append(difflib.SequenceMatcher(None, masked(evidence_id), masked(source), autojunk=False).ratio())
    print(f"notes by authenticity {kinds}; copy-to-source similarity min {min(ratios):.3f} median {np.median(ratios):.3f}")
    assert kinds["template"] > 0 and kinds["copied"] > 0 and min(ratios) > 0.75
    share = np.mean([d["fake_progress"] for d in truth["deals"].values()])
    assert 0.06 < share < 0.22


def test_weak_follow_up_reps_fake_more(big):
    """Fake share among deals of the bottom third of reps by follow_up+closing vs the top third."""
    truth = big["truth"]
    first = big["truth"]["spec"]["start"][:7]
    level = {r: (v["levels"][first]["follow_up"] + v["levels"][first]["closing"]) / 2 for r, v in truth["reps"].items()}
    owner = {d["deal_id"]: d["rep_id"] for d in big["deals"]}
    ranked = sorted({owner[k] for k in truth["deals"]}, key=level.__getitem__)
    third = len(ranked) // 3
    weak, strong = set(ranked[:third]), set(ranked[-third:])
    share = {name: np.mean([d["fake_progress"] for k, d in truth["deals"].items() if owner[k] in group])
             for name, group in (("weak", weak), ("strong", strong))}
    print(f"fake-progress share: weak reps {share['weak']:.3f}, strong reps {share['strong']:.3f}")
    assert share["weak"] > share["strong"]


# ---------------------------------------------------------------- audio


@pytest.mark.skipif(not HAS_ESPEAK, reason="espeak-ng not installed")
def test_rendered_audio_matches_transcripts_rttm_and_calls(demo):
    folder = demo["folder"]
    rendered = [c for c in demo["calls"] if c["audio_path"]]
    assert len(rendered) == 2 and {c["language"] for c in rendered} == {"en", "zh"}
    for call in rendered:
        samples, rate = sf.read(folder / call["audio_path"], dtype="int16")
        assert rate == 16000 and samples.ndim == 1 and sf.info(folder / call["audio_path"]).subtype == "PCM_16"
        doc = json.loads((folder / call["transcript_path"]).read_text(encoding="utf-8"))
        assert math.isclose(len(samples) / rate, doc["duration_s"], abs_tol=1e-3)
        assert math.isclose(float(call["duration_s"]), doc["duration_s"])
        stem = folder / call["audio_path"][:-4]
        segments = [line.split() for line in Path(f"{stem}.rttm").read_text().splitlines()]
        assert len(segments) == len(doc["utterances"])
        for fields, u in zip(segments, doc["utterances"], strict=True):
            assert fields[0] == "SPEAKER" and fields[1] == call["call_id"] and fields[7] == u["speaker"]
            assert math.isclose(float(fields[3]), u["start"], abs_tol=1e-3)
            assert math.isclose(float(fields[3]) + float(fields[4]), u["end"], abs_tol=2e-3)
            loud = np.abs(samples[int(u["start"] * rate):int(u["end"] * rate)].astype(float)).max()
            assert loud > 300  # there is speech where the transcript says so
        reference = Path(f"{stem}.txt").read_text(encoding="utf-8").splitlines()
        assert reference == [f"{u['speaker']}\t{u['text']}" for u in doc["utterances"]]
        assert demo["truth"]["calls"][call["call_id"]]["audio_rendered"]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_rendered_speech_keeps_espeaks_own_duration(tmp_path):
    """Resampling 22.05 kHz → 16 kHz must not change how long the speech lasts (no chipmunk voices)."""
    from talktrack.evaluation.world.audio import Voice, synthesize

    text = "Today I would like to go deeper into the problems you mentioned last time."
    wav = tmp_path / "direct.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-p", "40", "-s", "160", "-w", str(wav), text], check=True)
    info = sf.info(wav)
    rendered = synthesize(shutil.which("espeak-ng"), text, Voice("en-us", 40, 160))
    ratio = (len(rendered) / 16000) / (info.frames / info.samplerate)
    assert 0.8 < ratio <= 1.0  # trimmed edges only; a wrong resampling ratio gave 0.5
