"""Virtual-customer drills over the served world: the learned customer policy, the answer
scorer, persona fitting, and whole drills through the live service (typed and spoken).

The served world is the semantic test world (seed 5) with moments written from truth, so the
reactions the drill bank reads from the catalog can be checked against the world's truth,
and its planted talk tracks really do make customers concede more often.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections import Counter

import httpx
import numpy as np
import pytest

from talktrack.core.config import DrillGeneratorSettings
from talktrack.models.drills import REACTIONS, Reference, make_generator
from talktrack.pipelines.drills import read_corpus
from talktrack.pipelines.mining.patterns import is_subsequence
from talktrack.serving.routes.drills import engine as service_engine
from tests.serving_support import assert_error, bearer

pytestmark = pytest.mark.timeout(600)
PRICE_TRACK = ("confirm_timeline", "offer_installments")  # planted in the world (truth.planted_tracks)
TRACK_ANSWER = "I understand. When are you hoping to sign? We can split the payment into monthly installments."


@pytest.fixture(scope="module")
def drills(server):
    """The service's own drill engine with its bank built (the same object the routes use)."""
    engine = service_engine(server.app.state.service)
    engine.warm_up()
    return engine


@pytest.fixture(scope="module")
def corpus(drills, world_workspace):
    _, _, catalog = world_workspace
    knobs = drills.settings.drills.policy
    return read_corpus(catalog, drills.builder.reader(), knobs.max_reply_lookahead)


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, timeout=120) as http:
        yield http


# -- the drill book ------------------------------------------------------------------------------
def test_the_bundled_book_holds_the_personas_and_replies_and_an_old_layout_says_what_moved(tmp_path):
    """drills.yaml once held the knobs too; a file of that layout is refused naming the keys that moved."""
    from talktrack.core.config import ConfigError, load_settings
    from talktrack.pipelines.drills import load_drill_book

    settings = load_settings(environ={})
    book = load_drill_book(settings.drills)
    assert set(book.personas) == {"analytical", "skeptical", "busy_executive", "friendly"}
    assert all(book.replies[label][language] for label in book.replies for language in settings.drills.languages)
    old = tmp_path / "drills.yaml"
    old.write_text("languages: [en]\ngenerator: {kind: none}\nreplies: {}\npersonas: {}\n")
    with pytest.raises(ConfigError, match=r"languages, generator belong in the settings tree"):
        load_drill_book(settings.drills.model_copy(update={"file": str(old)}))


# -- the policy and what it learns from --------------------------------------------------------
def test_replies_are_read_as_the_world_says_the_customer_reacted(corpus, semantic_truth):
    agree = total = 0
    for episode, reaction in zip(corpus.episodes, corpus.reactions, strict=True):
        truth = next((o for o in semantic_truth["calls"][episode.call_id]["objections"]
                      if o["objection_utt"] == episode.objection.seq), None)
        if truth is None or reaction is None or truth["reaction"] == "new_objection":
            continue  # a "new" objection of the same type is, by our definition, a push back
        total += 1
        agree += truth["reaction"] == reaction.reaction
    assert total > 300
    # 373/434 = 0.86 on the composed-phrasing world (replies open with "Okay, Sam..." / "嗯，对。"), 0.9+ on the
    # old fixed sentences; the reader reads whole replies, so a backchannel opener sometimes pulls it to "neither".
    assert agree / total > 0.83, (agree, total)


def concede_rate(examples) -> float:
    return sum(e.reaction == "concede" for e in examples) / len(examples)


@pytest.mark.parametrize("objection_type, track", [
    ("timing", ("clarify", "propose_next_step")),
    ("competitor", ("acknowledge", "cite_case", "compare_competitor")),
    ("delivery", ("confirm_delivery_plan", "provide_guarantee")),
])
def test_policy_reproduces_how_customers_took_the_planted_tracks(drills, corpus, objection_type, track):
    examples = [r for r in corpus.reactions if r is not None and r.objection_type == objection_type]
    with_track = [e for e in examples if is_subsequence(track, e.moves)]
    without = [e for e in examples if not is_subsequence(track, e.moves)]
    policy = drills.bank().policy
    predicted = {name: np.mean([policy.predict_proba(objection_type, e.moves)["concede"] for e in group])
                 for name, group in (("with", with_track), ("without", without))}
    # the corpus: answers with the track's moves get more concessions
    assert concede_rate(with_track) > concede_rate(without) + 0.1
    # the policy says what the corpus says, group by group
    assert abs(predicted["with"] - concede_rate(with_track)) < 0.1
    assert abs(predicted["without"] - concede_rate(without)) < 0.1
    single_move = ("acknowledge",) if track[0] != "acknowledge" else ("cite_case",)
    assert policy.predict_proba(objection_type, track)["concede"] > \
        policy.predict_proba(objection_type, single_move)["concede"]
    assert policy.describe()[objection_type]["model"] == "logistic"


def test_policy_knows_which_objection_follows(drills):
    following = drills.bank().policy.next_objection_proba("price")
    assert "price" not in following
    assert sum(following.values()) == pytest.approx(1.0)


# -- scoring -------------------------------------------------------------------------------------
def leave_out(reference: Reference, row: int) -> Reference:
    keep = [i for i in range(len(reference.items)) if i != row]
    return Reference(reference.vectors[keep], reference.source, reference.track_key, reference.track_moves,
                     reference.note, [reference.items[i] for i in keep])


def score(drills, text: str, reference: Reference) -> dict:
    moves = tuple(m.label for m in drills.detector().detect([text], roles=["rep"])[0] if m.kind == "move")
    return drills.scorer.score(drills.builder.answer_space("en").encode([text])[0], moves, reference)


def test_scoring_ranks_a_top_seller_answer_above_off_topic_and_incomplete_ones(drills, world_workspace):
    _, _, catalog = world_workspace
    approved = {"key": "price:confirm_timeline>offer_installments", "objection_type": "price",
                "moves": list(PRICE_TRACK), "status": "approved", "script": None, "lift": 0.3}
    reference = drills.builder.build(catalog, tracks=[approved]).references[("price", "en")]
    assert reference.source == "approved" and reference.track_moves == PRICE_TRACK
    row = next(i for i, item in enumerate(reference.items) if item["moves"] == list(PRICE_TRACK))
    real = score(drills, reference.items[row]["text"], leave_out(reference, row))
    off_topic = score(drills, "The football on Sunday was great, we had a picnic in the park.", reference)
    incomplete = score(drills, "I hear you, many customers say the same about our product.", reference)
    assert real["score"] > off_topic["score"] + 30
    assert real["score"] > incomplete["score"] + 20
    # the detector reads at least one of the track's moves in the top seller's composed answer (measured: it found
    # offer_installments and missed confirm_timeline; move top-1 on hand-written rep sentences is 0.55 en / 0.51 zh)
    assert real["breakdown"]["moves_covered"] and set(real["breakdown"]["moves_covered"]) <= set(PRICE_TRACK)
    assert incomplete["breakdown"]["moves_missing"] == list(PRICE_TRACK)
    assert all(0 <= s["score"] <= 100 for s in (real, off_topic, incomplete))


def test_too_few_answers_following_the_track_are_topped_up_with_the_closest_others(drills):
    from talktrack.pipelines.drills import shown_answers

    full = drills.bank().references[("price", "en")]
    assert len(full.items) >= 4
    others = [item | {"follows_track": False} for item in full.items[1:]]
    one_follows = Reference(full.vectors[:1], "approved", "price:x", ("acknowledge",), "", full.items[:1],
                            full.vectors[1:], others)
    vector = drills.builder.answer_space("en").encode(["We can split the payment into installments."])[0]
    shown = shown_answers(one_follows, vector, order=[0])
    assert len(shown) == 3 and shown[0]["text"] == full.items[0]["text"] and "follows_track" not in shown[0]
    assert [a["follows_track"] for a in shown[1:]] == [False, False]
    closest_others = sorted(full.vectors[1:] @ vector, reverse=True)[:2]
    assert [a["similarity"] for a in shown[1:]] == [round(float(c), 4) for c in closest_others]


def test_without_an_approved_track_the_breakdown_says_what_it_compared_with(drills):
    references = drills.bank().references
    assert references[("price", "en")].source == "top_sellers"  # nothing mined for price here
    assert "no talk track" in references[("price", "en")].note
    competitor = references[("competitor", "en")]
    assert competitor.source in ("mined", "approved") and competitor.track_moves


def test_graded_real_answers_score_as_a_coach_grades_them(drills, world_workspace):
    """The hand-graded answers' test split (evaluation/real_phrasing/drill_answers.yaml), scored as a turn
    scores them. Measured on this world's bank and detector: en AUC 1.00, medians good 75.2 / bad 1.7;
    zh AUC 1.00, 81.1 / 2.2 (before the rework: en 0.80, 37.4 / 3.5; zh 0.85, 35.8 / 16.5). The bounds
    are the issue's targets."""
    from talktrack.evaluation.semantic.real_drills import evaluate_real_drills

    settings, workspace, catalog = world_workspace
    report = evaluate_real_drills(catalog, settings, workspace, split="test", engine=drills)
    assert report["answers"] == 64
    for language in ("en", "zh"):
        figures = report["by_language"][language]
        assert figures["good"] == figures["bad"] == 16
        assert figures["auc"] >= 0.95, (language, figures, report["worst"])
        assert figures["median_good"] >= 60 and figures["median_bad"] <= 25, (language, figures)


def test_feedback_names_what_was_good_what_is_missing_and_the_move_to_add_in_the_reps_language(drills):
    sound = drills.score_answer("price", "en", "I hear you. What does the other quote include, training and "
                                               "support too? Let's compare them side by side on Friday.")
    discount = drills.score_answer("price", "en", "Sure, I'll give you twenty percent off right now.")
    chinese = drills.score_answer("price", "zh", "我们就这个价，要就要，不要拉倒。")
    assert sound["score"] > discount["score"] + 40 and sound["score"] > chinese["score"] + 40
    told = sound["breakdown"]["feedback"]
    assert "asked a discovery question" in told["good"] and told["language"] == "en" and not told["mistakes"]
    assert discount["breakdown"]["feedback"]["add"] == "instant_discount"
    assert discount["breakdown"]["penalty"] > 0 and "price" in discount["breakdown"]["feedback"]["advice"]
    zh = chinese["breakdown"]["feedback"]
    assert zh["language"] == "zh" and zh["advice"] and all("\u4e00" <= c <= "\u9fff" for c in zh["missing"][0][:2])


def test_the_book_and_the_scoring_settings_must_name_the_same_qualities():
    from talktrack.core.config import ConfigError, load_settings
    from talktrack.pipelines.drills import load_drill_book

    settings = load_settings(environ={"TALKTRACK_DRILLS__SCORING__FAILURE_PENALTIES": '{"rambling": 0.5}'})
    with pytest.raises(ConfigError, match=r"failure qualities \(dismiss.*not_knowing\) and drills.scoring."
                                          r"failure_penalties \(.*rambling\) must name the same keys"):
        load_drill_book(settings.drills)


def test_personas_pick_lines_that_fit_them(drills):
    pool = drills.bank().objections[("price", "en")]
    personas = drills.book.personas

    def best_length(persona: str) -> int:
        scores = drills.fitter.fit_scores(personas[persona], "en", pool.texts, pool.vectors)
        return np.mean([len(pool.texts[i].split()) for i in np.argsort(-scores)[:5]])

    assert best_length("busy_executive") < best_length("analytical")


def test_a_newly_saved_moment_detector_is_used_without_a_restart(drills):
    from talktrack.pipelines.semantic.moments import model_dir

    kept = drills.detector()
    assert drills.detector() is kept  # loaded once, kept between turns
    kept.save(model_dir(drills.builder.workspace))  # what `talktrack moments train` ends with
    reloaded = drills.detector()
    assert reloaded is not kept
    moves = reloaded.detect([TRACK_ANSWER], roles=["rep"])[0]
    assert "offer_installments" in {m.label for m in moves if m.kind == "move"}


def test_the_default_generator_keeps_real_words_and_a_model_must_be_a_local_directory(drills, tmp_path):
    persona = drills.book.personas["friendly"]
    assert make_generator(DrillGeneratorSettings()).rephrase("Too expensive.", persona, "en") == "Too expensive."
    with pytest.raises(ValueError, match="local transformers model directory"):
        make_generator(DrillGeneratorSettings(kind="transformers", model_path=str(tmp_path / "no-model")))


# -- the service ---------------------------------------------------------------------------------
def start(client, key, **scenario) -> httpx.Response:
    body = {"objection_type": "price", "persona": "skeptical", "language": "en"} | scenario
    return client.post("/v1/drills", json=body, headers=bearer(key))


def test_three_turn_drill_is_scored_answered_and_stored_for_rep_and_manager(client, keys, drills):
    started = start(client, keys["rep"])
    assert started.status_code == 201, started.text
    drill = started.json()
    assert drill["rep_id"] == keys["rep_id"] and drill["team_id"] == keys["team_id"]
    assert drill["opening"]["text"] and drill["opening"]["objection_type"] == "price"
    answers = [TRACK_ANSWER, "Let me check if I can get you a discount.", "Our weather app is popular in spring."]
    turns, walls = [], []
    for text in answers:
        clock = time.perf_counter()
        response = client.post(f"/v1/drills/{drill['drill_id']}/turns", json={"text": text},
                               headers=bearer(keys["rep"]))
        walls.append(time.perf_counter() - clock)
        assert response.status_code == 200, response.text
        turns.append(response.json())
    # the first turn answers the price objection (all top-seller answers are the reference: three
    # shown); later turns answer whatever the customer raised next (drawn per drill), whose
    # reference set in this small world may hold fewer than three answers
    assert len(turns[0]["answers"]) == 3
    for turn in turns:
        assert 0 <= turn["score"] <= 100
        assert turn["reaction"] in REACTIONS and turn["customer_line"]["text"]
        assert 1 <= len(turn["answers"]) <= 3
        for answer in turn["answers"]:
            assert answer["outcome"] in ("won", "lost", "open")
            assert answer["start_s"] < answer["end_s"] and answer["text"]
            # a rep learns from other reps' words, but whose call it was only for its own calls
            if answer.get("rep_id") == keys["rep_id"]:
                assert answer["call_id"].startswith("CALL-") and answer["audio_clip_url"] is None  # no recordings
            else:
                assert answer["source"] == "another rep's call"
                assert not {"call_id", "deal_id", "rep_id", "audio_clip_url"} & set(answer)
        assert set(turn["breakdown"]) >= {"closeness", "moves_covered", "moves_missing", "reference", "feedback"}
        assert turn["elapsed_ms"] < 1000
    assert turns[0]["score"] > turns[2]["score"]
    assert {"confirm_timeline", "offer_installments"} <= set(turns[0]["breakdown"]["moves_detected"])
    print(f"turn wall times (s): {[round(w, 3) for w in walls]}; server ms: {[t['elapsed_ms'] for t in turns]}")

    ended = client.post(f"/v1/drills/{drill['drill_id']}/end", headers=bearer(keys["rep"]))
    assert ended.status_code == 200, ended.text
    summary = ended.json()["summary"]
    assert summary["turns"] == 3 and summary["scores"] == [t["score"] for t in turns]
    assert sum(summary["reactions"].values()) == 3

    for who in ("rep", "manager", "coach"):
        shown = client.get(f"/v1/drills/{drill['drill_id']}", headers=bearer(keys[who]))
        assert shown.status_code == 200 and shown.json()["summary"] == summary
        assert len(shown.json()["turns"]) == 3
        listed = client.get("/v1/drills", headers=bearer(keys[who])).json()["drills"]
        assert drill["drill_id"] in [d["drill_id"] for d in listed]
    assert_error(client.get(f"/v1/drills/{drill['drill_id']}", headers=bearer(keys["other_rep"])), 403)
    others = client.get("/v1/drills", headers=bearer(keys["other_rep"])).json()["drills"]
    assert drill["drill_id"] not in [d["drill_id"] for d in others]
    assert_error(client.post(f"/v1/drills/{drill['drill_id']}/turns", json={"text": "one more"},
                             headers=bearer(keys["rep"])), 409)


def test_a_spoken_answer_is_transcribed_and_scored(client, keys, tmp_path, drills):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    wav = tmp_path / "answer.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav),
                    TRACK_ANSWER], 
                   check=True)
    drill = start(client, keys["rep"], persona="busy_executive").json()
    response = client.post(f"/v1/drills/{drill['drill_id']}/turns", headers=bearer(keys["rep"]),
                           files={"audio": ("answer.wav", wav.read_bytes(), "audio/wav")})
    assert response.status_code == 200, response.text
    turn = response.json()
    assert turn["input"] == "audio" and "payment" in turn["rep_text"].lower()
    assert 0 <= turn["score"] <= 100 and len(turn["answers"]) == 3
    assert "offer_installments" in turn["breakdown"]["moves_detected"]


def test_bad_drill_requests_are_4xx_and_say_what_is_allowed(client, keys, drills):
    rep = keys["rep"]
    message = assert_error(start(client, rep, objection_type="weather"), 422)["message"]
    assert "price" in message and "competitor" in message
    assert "busy_executive" in assert_error(start(client, rep, persona="grumpy"), 422)["message"]
    assert "zh" in assert_error(start(client, rep, language="fr"), 422)["message"]
    assert_error(start(client, rep, rep_id=keys["other_rep_id"]), 403)
    assert_error(start(client, keys["manager"]), 403)
    assert "rep_id" in assert_error(start(client, keys["coach"]), 422)["message"]
    assert_error(start(client, keys["coach"], rep_id="REP-NOBODY"), 404)
    for_rep = start(client, keys["coach"], rep_id=keys["rep_id"])
    assert for_rep.status_code == 201 and for_rep.json()["rep_id"] == keys["rep_id"]

    drill_id = for_rep.json()["drill_id"]
    turns = f"/v1/drills/{drill_id}/turns"
    assert_error(client.post(turns, json={"text": ""}, headers=bearer(rep)), 422)
    assert "empty" in assert_error(client.post(turns, json={"text": "   "}, headers=bearer(rep)), 422)["message"]
    as_json = bearer(rep) | {"content-type": "application/json"}
    assert_error(client.post(turns, content=b"{not json", headers=as_json), 422)
    assert_error(client.post(turns, content=b'{"text": "\\ud800"}', headers=as_json), 422)
    assert_error(client.post(turns, content=b"hello", headers=bearer(rep) | {"content-type": "text/plain"}), 415)
    assert_error(client.post(turns, files={"audio": ("a.wav", b"not audio", "audio/wav")}, headers=bearer(rep)), 422)
    assert_error(client.post(turns, json={"text": "hi"}, headers=bearer(keys["manager"])), 403)
    assert_error(client.post(turns, json={"text": "hi"}, headers=bearer(keys["other_rep"])), 403)
    assert_error(client.post("/v1/drills/nosuchdrill/turns", json={"text": "hi"}, headers=bearer(rep)), 404)
    assert_error(client.get("/v1/drills", params={"rep_id": keys["other_rep_id"]}, headers=bearer(rep)), 403)
    assert client.get("/v1/drills", params={"status": "active"}, headers=bearer(rep)).status_code == 200
    assert Counter(d["status"] for d in client.get("/v1/drills", params={"status": "active"},
                                                   headers=bearer(keys["admin"])).json()["drills"])["ended"] == 0
