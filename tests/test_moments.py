"""Moments: taxonomy validation, sentence splitting, the detector (zero-shot, trained, persisted),
detection over the catalog, coach labels and field notes. Real embedder, real SQLite."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import delete, func, select

from talktrack.core.catalog.schema import Call, Moment, MomentLabel, Utterance
from talktrack.core.workspace import Workspace
from talktrack.models.moments import (DetectorError, LabelledExample, MomentDetector, TaxonomyError, load_taxonomy,
                                      split_sentences)
from talktrack.models.moments.dates import find_dates
from talktrack.models.moments.notes import extract_notes
from talktrack.models.moments.taxonomy import bundled_taxonomy_path


@pytest.fixture(scope="module")
def embed_workspace(tmp_path_factory) -> Workspace:
    """One embedding cache for the module, so each distinct sentence is embedded once."""
    return Workspace.at(tmp_path_factory.mktemp("moments-embed")).ensure()


@pytest.fixture(scope="module")
def embedder(settings, embed_workspace):
    from talktrack.pipelines.semantic.moments import moment_embedder

    return moment_embedder(settings, embed_workspace)


@pytest.fixture(scope="module")
def zero_shot(settings, embedder) -> MomentDetector:
    from talktrack.pipelines.semantic.moments import fit_detector

    return fit_detector(settings, embedder)


# -- taxonomy ---------------------------------------------------------------------------------------
def test_bundled_taxonomy_covers_every_label_in_both_languages(settings):
    taxonomy = load_taxonomy(None, settings.objection_keys, settings.move_keys)
    for kind, keys in (("objection", settings.objection_keys), ("move", settings.move_keys)):
        for key in keys:
            for language in ("en", "zh"):
                n = sum(e.kind == kind and e.label == key and e.language == language for e in taxonomy.examples)
                assert 8 <= n <= 12, (kind, key, language, n)


def _write(tmp_path: Path, data: dict) -> Path:
    import yaml

    path = tmp_path / "moments.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _bundled() -> dict:
    import yaml

    return yaml.safe_load(bundled_taxonomy_path().read_text(encoding="utf-8"))


def test_taxonomy_refuses_unknown_keys_and_missing_languages(tmp_path, settings):
    args = (settings.objection_keys, settings.move_keys)
    data = _bundled() | {"extras": 1}
    with pytest.raises(TaxonomyError, match="unknown keys.*extras"):
        load_taxonomy(_write(tmp_path, data), *args)
    data = _bundled()
    del data["objections"]["trust"]["zh"]
    with pytest.raises(TaxonomyError, match=r"objections.trust.zh needs a non-empty list"):
        load_taxonomy(_write(tmp_path, data), *args)
    data = _bundled()
    del data["moves"]["offer_pilot"]
    with pytest.raises(TaxonomyError, match="moves lacks examples for offer_pilot"):
        load_taxonomy(_write(tmp_path, data), *args)
    with pytest.raises(TaxonomyError, match="objections has labels not configured.*delivery"):
        load_taxonomy(None, [k for k in settings.objection_keys if k != "delivery"], settings.move_keys)
    with pytest.raises(TaxonomyError, match="not found"):
        load_taxonomy(tmp_path / "missing.yaml", *args)


# -- sentences --------------------------------------------------------------------------------------
def test_sentence_splitting_keeps_offsets_in_both_languages():
    text = "Um, that's $1.5M. Too much! Mr. Li decides?"
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == ["Um, that's $1.5M.", "Too much!", "Mr. Li decides?"]
    zh = "价格太高了。我们也在看别家，你们好在哪里？还有交付！"
    assert [s.text for s in split_sentences(zh)] == ["价格太高了。", "我们也在看别家，你们好在哪里？", "还有交付！"]
    for source in (text, zh, "好的。Fine, thanks. 下周见"):
        for s in split_sentences(source):
            assert source[s.start:s.end] == s.text
    assert split_sentences("   ") == []


# -- zero-shot detector -----------------------------------------------------------------------------
HELD_OUT = {  # phrasings in neither the taxonomy nor the generator
    "price": ("Twenty grand a year is simply more than we can spend on this.", "这个价位我们真的负担不起。"),
    "competitor": ("Your rival offered us the same package for less.", "隔壁那家厂商给的条件比你们好。"),
    "timing": ("Let's talk again after the holidays, we're swamped.", "这段时间太忙了，过几个月再说吧。"),
    "authority": ("The purchasing director has to approve this, not me.", "这事我做不了主，得请示我们老板。"),
    "need": ("Honestly we get by fine without a tool like this.", "我们现在这样也挺好，没必要换。"),
    "trust": ("How can I be sure your system won't lose our data?", "你们这个靠不靠谱啊，出了问题谁负责？"),
    "delivery": ("Can your team really get us live before the peak season starts?", "上线要多久？我们怕影响正常业务。"),
}


def test_zero_shot_finds_objection_types_on_held_out_phrasings(zero_shot):
    texts = [t for pair in HELD_OUT.values() for t in pair]
    truth = [label for label, pair in HELD_OUT.items() for _ in pair]
    probs = zero_shot.predict_proba(texts, "objection")
    top = [zero_shot.classes_["objection"][1:][i] for i in probs[:, 1:].argmax(axis=1)]
    hits = {lang: sum(t == p for t, p, i in zip(truth, top, range(len(top)), strict=True) if i % 2 == k)
            for k, lang in enumerate(("en", "zh"))}
    # measured: 7/7 en, 7/7 zh top-1 among the types
    assert hits["en"] >= 6 and hits["zh"] >= 6, hits


def test_detect_reports_spans_and_merges_same_move_sentences(zero_shot):
    text = "I completely understand where you're coming from. That's a very reasonable concern. Shall we book a call?"
    [moments] = zero_shot.detect([text], roles=["rep"])
    assert moments, "no move found"
    for moment in moments:
        assert moment.kind == "move" and text[moment.start:moment.end] == moment.text
    assert moments[0].label == "acknowledge" and (moments[0].sentence, moments[0].last_sentence) == (0, 1)
    assert zero_shot.detect(["这个价格太贵了，超出预算。"], roles=["customer"])[0][0].label == "price"
    with pytest.raises(DetectorError, match="roles"):
        zero_shot.detect(["x"], roles=["manager"])


# -- training on generated labels -------------------------------------------------------------------
@pytest.fixture(scope="module")
def training_world(tmp_path_factory):
    """A small world of another seed than ``semantic_world`` (seed 5): generated labels come from here."""
    from talktrack.evaluation.world import WorldSpec, generate_world

    out = tmp_path_factory.mktemp("moments-train-world")
    generate_world(WorldSpec(seed=9, reps=8, customers=40, deals=80, calls=160, audio=0), out)
    return out


def test_generated_labels_export_is_per_sentence_and_aligned(training_world, tmp_path):
    from talktrack.evaluation.world.labels import export_labels

    out = tmp_path / "labels.jsonl"
    count = export_labels(training_world, out)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert count == len(rows) > 500
    assert {r["source"] for r in rows} == {"generated"} and {r["language"] for r in rows} == {"en", "zh"}
    assert {r["label"] for r in rows if r["kind"] == "move"} > {"acknowledge", "none", "cite_case"}
    capped = export_labels(training_world, tmp_path / "capped.jsonl", max_per_label=5)
    assert capped < count


def test_training_on_another_seed_improves_macro_f1(semantic_world, training_world, settings, embed_workspace):
    from talktrack.evaluation.semantic.moments import evaluate_moments

    result = evaluate_moments(semantic_world, training_world, settings, embed_workspace, max_calls=120)
    zero, trained = result["zero_shot"]["macro_f1"], result["trained"]["macro_f1"]
    for kind in ("objection", "move"):
        for language in ("en", "zh"):
            # measured (120 graded calls, 160-call training world) since the generator composes its
            # phrasings (four objection families, two per move): zero-shot 0.15-0.46, trained 0.56-0.80,
            # gain 0.27-0.47 (with fixed sentences it was trained 0.86-0.95; a 900-call world gives 0.82-0.96)
            assert trained[kind][language] >= 0.5, (kind, language, trained)
            assert trained[kind][language] >= zero[kind][language] + 0.2, (kind, language, zero, trained)
    with pytest.raises(ValueError, match="same as the evaluation world"):
        evaluate_moments(semantic_world, semantic_world, settings, embed_workspace)


def test_save_load_round_trip_gives_identical_scores(zero_shot, embedder, tmp_path):
    texts = ["We can't afford it.", "我们得请示老板。", "Let me show you a case study."]
    zero_shot.save(tmp_path / "m")
    loaded = MomentDetector.load(tmp_path / "m", embedder)
    assert loaded.version == zero_shot.version and loaded.get_params() == zero_shot.get_params()
    for kind in ("objection", "move"):
        np.testing.assert_array_equal(loaded.predict_proba(texts, kind), zero_shot.predict_proba(texts, kind))

    class Other:
        name = "st:other"

        def encode(self, texts):  # pragma: no cover - never called
            raise AssertionError

    with pytest.raises(DetectorError, match="trained with embedder"):
        MomentDetector.load(tmp_path / "m", Other())
    with pytest.raises(DetectorError, match="not fitted"):
        MomentDetector(embedder).detect(["x"])


# -- catalog: detect_calls, retrain, coach labels ---------------------------------------------------
def test_detect_calls_is_idempotent_and_reruns_after_retrain(fresh_semantic_workspace, zero_shot, settings):
    from talktrack.pipelines.semantic.moments import add_coach_label, catalog_labels, detect_calls, fit_detector

    settings, workspace, catalog = fresh_semantic_workspace
    with catalog.session() as session:  # keep 40 calls with utterances: enough to show the mechanics
        keep = list(session.scalars(select(Call.id).order_by(Call.id).limit(40)))
        session.execute(delete(Utterance).where(Utterance.call_id.not_in(keep)))
    seen = []
    first = detect_calls(catalog, settings, workspace, progress=lambda *a: seen.append(a), detector=zero_shot)
    assert first.calls_detected == first.calls_pending == 40 and first.moments > 0 and seen[-1][1] == seen[-1][2]
    with catalog.session() as session:
        kinds = dict(session.execute(select(Moment.kind, func.count()).group_by(Moment.kind)).all())
        stamped = set(session.scalars(select(Call.moments_model).where(Call.id.in_(keep)).distinct()))
        untouched = set(session.scalars(select(Call.moments_model).where(Call.id.not_in(keep)).distinct()))
        rows = session.execute(select(Moment.sentence, Moment.text, Moment.kind)).all()
    assert set(kinds) == {"objection", "move"} and stamped == {zero_shot.version} and untouched == {None}
    assert all(sentence >= 0 and text for sentence, text, _ in rows)
    assert detect_calls(catalog, settings, workspace, detector=zero_shot).calls_detected == 0

    add_coach_label(catalog, "Let me check with my wife first.", "objection", "authority", "en", "coach-1",
                    settings=settings)
    retrained = fit_detector(settings, zero_shot.embedder, catalog_labels(catalog))
    assert retrained.version != zero_shot.version
    again = detect_calls(catalog, settings, workspace, detector=retrained)
    assert again.calls_detected == first.calls_detected
    with catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Moment)) == again.moments


def test_coach_labels_change_a_prediction(catalog, settings, zero_shot):
    from talktrack.pipelines.semantic.moments import (MomentLabelError, add_coach_label, catalog_labels,
                                                      fit_detector)

    sentence = "We would have to run it past the works council."
    before = zero_shot.explain(sentence, "customer")[0]["labels"]["objection"]
    target = "trust" if before != "trust" else "timing"
    add_coach_label(catalog, sentence, "objection", target, "en", "coach-1", settings=settings)
    add_coach_label(catalog, "这个月底前我们必须上线。", "objection", "delivery", "zh", "coach-1", settings=settings)
    retrained = fit_detector(settings, zero_shot.embedder, catalog_labels(catalog))
    assert retrained.explain(sentence, "customer")[0]["labels"]["objection"] == target
    with catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(MomentLabel)) == 2
    with pytest.raises(MomentLabelError, match="'cheap' of kind objection"):
        add_coach_label(catalog, sentence, "objection", "cheap", "en", "coach-1", settings=settings)


def test_train_and_load_detector_from_a_labels_file(catalog, settings, tmp_path, embed_workspace):
    from talktrack.pipelines.semantic.moments import load_detector, train_detector

    workspace = embed_workspace  # shares the loaded embedder; the model is saved under its models/moments
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n".join(json.dumps({"text": t, "language": "en", "kind": "objection", "label": "price"})
                                for t in ("Our wallet is empty this year.", "We cannot spend that much.")),
                      encoding="utf-8")
    zero = load_detector(settings, workspace)
    trained = train_detector(catalog, settings, workspace, labels_file=labels)
    assert trained.version != zero.version and trained.n_examples_["generated"] == 2
    assert load_detector(settings, workspace).version == trained.version
    with catalog.session() as session:
        assert set(session.scalars(select(MomentLabel.source))) == {"generated"}
    labels.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="line 1"):
        train_detector(catalog, settings, workspace, labels_file=labels)


def test_fit_refuses_labels_outside_the_taxonomy(zero_shot):
    bad = LabelledExample("x", "en", "objection", "weather")
    with pytest.raises(DetectorError, match="not in the taxonomy"):
        MomentDetector(zero_shot.embedder, objection_types=["price"], moves=["acknowledge"]).fit([bad])


# -- field notes ------------------------------------------------------------------------------------
MONDAY = date(2025, 3, 3)


def test_dates_resolve_against_the_reference_day():
    cases = {"next Tuesday": "2025-03-11", "on Friday": "2025-03-07", "on the 14th": "2025-03-14",
             "March 5th": "2025-03-05", "in two weeks": "2025-03-17", "tomorrow": "2025-03-04",
             "下周三": "2025-03-12", "3月5日": "2025-03-05", "三天后": "2025-03-06", "周五": "2025-03-07",
             "2月1号": "2026-02-01", "月底": "2025-03-31", "next Wed": "2025-03-12", "by Thu": "2025-03-06",
             "tmrw": "2025-03-04", "EOM": "2025-03-31", "end of next week": "2025-03-14", "下周初": "2025-03-10"}
    for text, expected in cases.items():
        assert [m.day.isoformat() for m in find_dates(text, MONDAY)] == [expected], text


def test_field_notes_english(zero_shot):
    """The issue's note: a champion, an economic buyer with name and title, the price objection, the date."""
    note = ("Met Priya Shah, head of ops at Calder Foods. She likes the demo but says our quote is 20% above "
            "Voxly's. The CFO, Dana Ortiz, signs anything over 50k. I'll send the revised proposal by Friday.")
    notes = extract_notes(note, zero_shot, MONDAY)
    people = {(p.name, p.title, p.role) for p in notes.people}
    assert people == {("Priya Shah", "head of ops", "champion"), ("Dana Ortiz", "CFO", "economic_buyer")}
    assert {"price", "competitor"} <= {o["type"] for o in notes.objections}
    assert notes.next_action.date == "2025-03-07" and "proposal" in notes.next_action.text


def test_field_notes_chinese(zero_shot):
    """The issue's note: budget used up until March (price, timing); 李总, 财务总监, decides (not "总监李总")."""
    note = "今天见了华锐的运营经理王芳。她说今年预算已经用完了，要等明年3月再说。采购最后要财务总监李总拍板。下周三前把方案发过去。"
    notes = extract_notes(note, zero_shot, MONDAY)
    assert ("李总", "财务总监", "decision_maker") in {(p.name, p.title, p.role) for p in notes.people}
    assert {"price", "timing"} <= {o["type"] for o in notes.objections}
    assert notes.next_action.date == "2025-03-12"
    with pytest.raises(ValueError, match="empty"):
        extract_notes("  ", zero_shot, MONDAY)
