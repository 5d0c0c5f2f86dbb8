"""The family split: generated labels keep each objection's and move's phrasing family, the
training set drops the held-out families (never the ``none`` sentences), and graded units
fall into seen or unseen by family. The detector's figures themselves come from
``talktrack eval semantic`` (minutes of embedding; see README)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from talktrack.evaluation.semantic.family_split import HELD_OUT, family_units, in_split, training_examples
from talktrack.evaluation.world import WorldSpec, generate_world
from talktrack.evaluation.world.labels import NONE, export_labels, load_truth


@pytest.fixture(scope="module")
def small_world(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("family-world")
    generate_world(WorldSpec(seed=11, reps=4, customers=20, deals=30, calls=60, audio=0), out)
    return out


def test_exported_labels_carry_families_and_training_drops_the_held_out_ones(small_world, tmp_path):
    labels = tmp_path / "labels.jsonl"
    export_labels(small_world, labels)
    rows = [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines()]
    positives = [r for r in rows if r["label"] != NONE]
    assert positives and all(r.get("family") for r in positives)
    assert not any(r.get("family") for r in rows if r["label"] == NONE)
    kept = training_examples(labels, HELD_OUT)
    dropped = sum(r.get("family", "") in HELD_OUT.get(r["kind"], ()) for r in rows)
    assert dropped > 0 and len(kept) == len(rows) - dropped
    assert sum(e.label == NONE for e in kept) == sum(r["label"] == NONE for r in rows)
    assert {e.label for e in kept if e.kind == "objection"} > {NONE}  # every type keeps its seen families


def test_labels_without_families_are_refused_with_a_clear_error(tmp_path):
    old = tmp_path / "old.jsonl"
    old.write_text(json.dumps({"text": "Too expensive.", "language": "en", "kind": "objection", "label": "price"}) + "\n",
                   encoding="utf-8")
    with pytest.raises(ValueError, match="no sentence has a phrasing family"):
        training_examples(old, HELD_OUT)


def test_graded_units_split_by_family_and_none_counts_in_both(small_world):
    truth = load_truth(small_world)
    units, families = family_units(small_world, truth, sorted(truth["calls"]))
    moments = [(u, f) for u, f in zip(units, families, strict=True) if u.truth != NONE]
    assert moments and all(f for _, f in moments)
    seen = [u for u, f in moments if in_split(u, f, HELD_OUT, "seen")]
    unseen = [u for u, f in moments if in_split(u, f, HELD_OUT, "unseen")]
    assert seen and unseen and len(seen) + len(unseen) == len(moments)
    nones = [u for u in units if u.truth == NONE]
    assert all(in_split(u, "", HELD_OUT, "seen") and in_split(u, "", HELD_OUT, "unseen") for u in nones)
