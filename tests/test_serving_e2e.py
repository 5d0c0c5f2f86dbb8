"""End to end against a real ``talktrack serve`` process on localhost: the CRM uploads a recording
and scores a deal, a rep runs a three-turn drill.

The server runs in its own process (as in production: the CLI, uvicorn, the app factory) over a
private copy of the served world, so nothing here changes what other tests see.
"""

from __future__ import annotations

import shutil

import httpx
import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import select

from talktrack.core.catalog.schema import Deal, Rep
from talktrack.core.workspace import Workspace
from talktrack.evaluation.bench_serving import ServerProcess
from tests.serving_support import bearer, upload, wait_for_job

pytestmark = pytest.mark.timeout(600)
TRACK_ANSWER = "I understand. When do you plan to purchase? We can split the payment into installments."


@pytest.fixture(scope="module")
def served(tmp_path_factory, world_workspace, keys):
    """``talktrack serve`` over a copy of the served world (the keys are in its catalog too)."""
    _, workspace, _ = world_workspace
    root = tmp_path_factory.mktemp("e2e") / "ws"
    shutil.copytree(workspace.root, root)
    with ServerProcess(Workspace.at(root)) as server, httpx.Client(base_url=server.url, timeout=120) as http:
        yield http


def test_upload_transcribe_score_and_drill_on_a_real_server_process(
    served, keys, world_workspace, call_audio, tmp_path
):
    http, (generated, spoken_words) = served, call_audio
    # the generated call plus a second of silence: a recording the copied catalog has not seen yet
    # (other tests upload the generated call as it is)
    samples, rate = sf.read(generated, dtype="int16")
    wav = tmp_path / "e2e-call.wav"
    sf.write(wav, np.concatenate([samples, np.zeros((rate, *samples.shape[1:]), dtype="int16")]), rate)
    _, _, catalog = world_workspace
    with catalog.session() as session:
        deal = session.scalar(
            select(Deal.external_id).join(Rep, Deal.rep_id == Rep.id)
            .where(Rep.external_id == keys["rep_id"]).order_by(Deal.id).limit(1)
        )

    # the CRM posts a recording of the rep's deal: 202 and a job, processed in the background
    accepted = upload(http, keys["crm"], wav, deal_id=deal, language="en", num_speakers=2)
    assert accepted.status_code == 202, accepted.text
    job = wait_for_job(http, accepted.json()["job_id"], keys["crm"], timeout_s=300)
    assert job["status"] == "done", job

    # the rep reads the transcript: two speakers, and the words of the recording
    call_id = accepted.json()["call_id"]
    transcript = http.get(f"/v1/calls/{call_id}/transcript", headers=bearer(keys["rep"]))
    assert transcript.status_code == 200, transcript.text
    utterances = transcript.json()["utterances"]
    heard = {w.strip(".,?!'").lower() for u in utterances for w in u["text"].split()}
    assert len({u["speaker"] for u in utterances}) == 2
    assert len(heard & spoken_words) >= 0.6 * len(heard)

    # the CRM scores the deal: probability, tier, reasons, model version
    score = http.post("/v1/score", json={"deal_id": deal}, headers=bearer(keys["crm"]))
    assert score.status_code == 200, score.text
    assert 0 < score.json()["probability"] < 1 and score.json()["model"]["version"]

    # the rep practises: three turns, each scored with three real answers and a customer reply
    drill = http.post(
        "/v1/drills",
        json={"objection_type": "timing", "persona": "busy_executive", "language": "en"},
        headers=bearer(keys["rep"]),
    )
    assert drill.status_code == 201, drill.text
    drill_id = drill.json()["drill_id"]
    for text in (TRACK_ANSWER, "Could we set up a call next week to agree the next step?", "OK."):
        turn = http.post(f"/v1/drills/{drill_id}/turns", json={"text": text}, headers=bearer(keys["rep"]))
        assert turn.status_code == 200, turn.text
        # up to three real answers: fewer when the reference set (the approved track's answers, which
        # other tests' reviews may have changed in this copied world) is smaller
        answers = turn.json()["answers"]
        assert 0 <= turn.json()["score"] <= 100 and 1 <= len(answers) <= 3
        assert all(a["text"] and a["outcome"] in ("won", "lost", "open") for a in answers)
        assert turn.json()["customer_line"]["text"]
    summary = http.post(f"/v1/drills/{drill_id}/end", headers=bearer(keys["rep"])).json()["summary"]
    assert summary["turns"] == 3
    assert http.get(f"/v1/drills/{drill_id}", headers=bearer(keys["other_rep"])).status_code == 403
