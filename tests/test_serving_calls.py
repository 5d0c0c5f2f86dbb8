"""Calls, jobs and voice notes over HTTP: upload → background transcription → transcript, moments, SOP, clips.

Against the shared served world (``server``, ``keys``, ``world_workspace``) for the main story, and
private apps over empty tmp workspaces where a test needs its own settings or a restart. The audio is
real speech: a generated call rendered by espeak-ng, and a spoken field note.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import func, select

from talktrack.core.catalog.schema import Call, Deal, Job, Rep, Team
from talktrack.serving.app import create_app
from talktrack.serving.keys import create_key
from tests.serving_support import LiveServer, assert_error, bearer, raw_exchange, upload, wait_for_job

pytestmark = pytest.mark.timeout(300)

NOTE_TEXT = ("The price is too high for their budget this year. The CFO signs off on the contract. "
             "Let's meet next Tuesday to go through the ROI.")
NOTE_DAY = "2025-03-03"  # a Monday: "next Tuesday" is 2025-03-11


# --- helpers -------------------------------------------------------------------------------------
def private_app(tmp_path, settings, **serving):
    """An app over an empty workspace of its own (and an admin key for it)."""
    from talktrack.core.catalog import open_catalog
    from talktrack.core.workspace import Workspace

    root = tmp_path / "ws"
    settings = settings.model_copy(update={
        "workspace": root, "serving": settings.serving.model_copy(update=serving)})
    catalog = open_catalog(Workspace.at(root).ensure().catalog_url)
    key = create_key(catalog, "admin", name="private-admin")[0]
    return settings, catalog, key


# --- module fixtures: real audio and one uploaded call --------------------------------------------
@pytest.fixture(scope="module")
def note_audio(tmp_path_factory):
    """The field note spoken by one espeak-ng voice, as a 16 kHz WAV."""
    from talktrack.evaluation.world.audio import SAMPLE_RATE_HZ, Voice, require_espeak, synthesize

    samples = synthesize(require_espeak(), NOTE_TEXT, Voice("en-us", 40, 150))
    path = tmp_path_factory.mktemp("note") / "note.wav"
    sf.write(path, samples, SAMPLE_RATE_HZ, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=120) as client:
        yield client


@pytest.fixture(scope="module")
def rep_deal(world_workspace, keys) -> str:
    _, _, catalog = world_workspace
    with catalog.session() as session:
        return session.scalar(select(Deal.external_id).join(Rep, Deal.rep_id == Rep.id)
                              .where(Rep.external_id == keys["rep_id"]).order_by(Deal.id).limit(1))


@pytest.fixture(scope="module")
def uploaded(http, keys, call_audio, rep_deal):
    """The call uploaded by the CRM for the rep's deal, and its finished job."""
    accepted = upload(http, keys["crm"], call_audio[0], deal_id=rep_deal, stage="needs_diagnosis",
                      language="en", num_speakers=2, call_type="phone_call")
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert body["status_url"] == f"/v1/jobs/{body['job_id']}" and not body["duplicate"]
    return body | {"job": wait_for_job(http, body["job_id"], keys["crm"])}


# --- the main story ------------------------------------------------------------------------------
def test_an_uploaded_call_is_transcribed_with_speakers_and_real_words(http, keys, uploaded, call_audio):
    job = uploaded["job"]
    assert job["status"] == "done", job
    assert job["call_id"] == uploaded["call_id"] and job["result"]["utterances"] > 3
    call = http.get(f"/v1/calls/{uploaded['call_id']}", headers=bearer(keys["crm"])).json()
    assert call["status"] == "transcribed" and call["has_audio"] and call["rep_id"] == keys["rep_id"]
    assert call["stage"] == "needs_diagnosis" and call["job"]["status"] == "done"
    assert {s["role"] for s in call["speakers"]} <= {"rep", "customer", "unknown"} and len(call["speakers"]) == 2

    transcript = http.get(f"/v1/calls/{uploaded['call_id']}/transcript", headers=bearer(keys["rep"])).json()
    heard = {w.strip(".,?!'").lower() for u in transcript["utterances"] for w in u["text"].split()}
    assert len(heard & call_audio[1]) / len(call_audio[1]) > 0.6  # most of the spoken words came back
    first = transcript["utterances"][0]
    assert first["end_s"] > first["start_s"] and first["words"] and first["speaker"].startswith("SPEAKER_")


def test_an_uploaded_call_gets_moments_and_an_sop_check(http, keys, uploaded):
    moments = http.get(f"/v1/calls/{uploaded['call_id']}/moments", headers=bearer(keys["coach"])).json()
    assert moments["moments_model"] and moments["moments"], moments
    assert {m["kind"] for m in moments["moments"]} <= {"objection", "move"}
    assert uploaded["job"]["result"]["moments"] == len(moments["moments"])
    sop = http.get(f"/v1/calls/{uploaded['call_id']}/sop", headers=bearer(keys["coach"])).json()
    assert sop["stage"] == "needs_diagnosis" and sop["steps"] and 0 <= sop["compliance"] <= 1


def test_the_same_recording_twice_is_one_call(http, keys, uploaded, call_audio, world_workspace):
    again = upload(http, keys["admin"], call_audio[0], name="renamed.wav")
    assert again.status_code == 200, again.text
    assert again.json()["duplicate"] and again.json()["call_id"] == uploaded["call_id"]
    with world_workspace[2].session() as session:
        content_hash = session.scalar(select(Call.content_hash).where(Call.external_id == uploaded["call_id"]))
        assert session.scalar(select(func.count()).where(Call.content_hash == content_hash)) == 1


def test_audio_clip_by_time_and_byte_range(http, keys, uploaded, call_audio):
    url, key = f"/v1/calls/{uploaded['call_id']}/audio", bearer(keys["rep"])
    whole = http.get(url, headers=key)
    assert whole.status_code == 200 and whole.content == call_audio[0].read_bytes()
    assert whole.headers["accept-ranges"] == "bytes"

    clip = http.get(url, params={"start": 1.0, "end": 3.5}, headers=key)
    assert clip.status_code == 200 and clip.headers["content-type"] == "audio/wav"
    samples, rate = sf.read(io.BytesIO(clip.content))
    assert rate == 16000 and len(samples) == int(3.5 * rate) - int(1.0 * rate)
    original, _ = sf.read(call_audio[0], start=16000, stop=56000)
    assert np.abs(samples - original).max() < 1e-3  # the same samples, not a re-render

    part = http.get(url, params={"start": 1.0, "end": 3.5}, headers=key | {"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == clip.content[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(clip.content)}"
    tail = http.get(url, headers=key | {"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == whole.content[-10:]
    past = http.get(url, headers=key | {"Range": f"bytes={len(whole.content) + 5}-"})
    assert_error(past, 416)
    assert past.headers["content-range"] == f"bytes */{len(whole.content)}"
    assert_error(http.get(url, params={"start": 5, "end": 2}, headers=key), 422)
    assert_error(http.get(url, params={"start": 99999}, headers=key), 422)


# --- calls imported without audio -----------------------------------------------------------------
def test_imported_calls_have_transcript_moments_and_sop_but_no_audio(http, keys):
    listed = http.get("/v1/calls", params={"has_audio": False, "limit": 20}, headers=bearer(keys["rep"])).json()
    assert listed["total"] > 0 and {c["rep_id"] for c in listed["calls"]} == {keys["rep_id"]}
    moments = {c["call_id"]: http.get(f"/v1/calls/{c['call_id']}/moments", headers=bearer(keys["rep"])).json()
               for c in listed["calls"]}
    assert any(found["moments"] for found in moments.values())  # the world's moments, written from truth
    call = next(c for c in listed["calls"] if c["stage"])
    transcript = http.get(f"/v1/calls/{call['call_id']}/transcript", headers=bearer(keys["rep"])).json()
    assert transcript["utterances"] and transcript["utterances"][0]["text"]
    assert http.get(f"/v1/calls/{call['call_id']}/sop", headers=bearer(keys["rep"])).json()["steps"]
    assert_error(http.get(f"/v1/calls/{call['call_id']}/audio", headers=bearer(keys["rep"])), 404)
    assert_error(http.get("/v1/calls/NO-SUCH-CALL", headers=bearer(keys["admin"])), 404)


# --- scoping -------------------------------------------------------------------------------------
def test_reps_and_managers_read_only_their_own_calls_and_jobs(http, keys, uploaded, world_workspace):
    call_url = f"/v1/calls/{uploaded['call_id']}"
    assert http.get(call_url, headers=bearer(keys["rep"])).status_code == 200
    assert http.get(call_url, headers=bearer(keys["manager"])).status_code == 200
    assert_error(http.get(call_url, headers=bearer(keys["other_rep"])), 403)
    assert_error(http.get(f"{call_url}/transcript", headers=bearer(keys["other_rep"])), 403)
    _, _, catalog = world_workspace
    with catalog.session() as session:
        other_team = session.scalar(select(Team.external_id).where(Team.external_id != keys["team_id"]).limit(1))
    other_manager = create_key(catalog, "manager", team=other_team, name="other-manager")[0]
    assert_error(http.get(call_url, headers=bearer(other_manager)), 403)
    assert_error(http.get("/v1/calls", params={"rep": keys["rep_id"]}, headers=bearer(keys["other_rep"])), 403)
    assert_error(http.get(f"{call_url}/transcript", headers=bearer(keys["crm"])), 403)  # crm: status only

    job_url = f"/v1/jobs/{uploaded['job_id']}"
    assert http.get(job_url, headers=bearer(keys["admin"])).status_code == 200
    assert_error(http.get(job_url, headers=bearer(keys["rep"])), 403)  # the CRM submitted it
    assert_error(http.get("/v1/jobs/" + "0" * 32, headers=bearer(keys["crm"])), 404)


def test_a_rep_uploads_only_for_itself(http, keys, note_audio):
    refused = upload(http, keys["rep"], note_audio, rep_id=keys["other_rep_id"])
    assert_error(refused, 403)


# --- bad input -----------------------------------------------------------------------------------
def test_bad_uploads_get_clear_errors(http, keys, tmp_path, note_audio):
    text = tmp_path / "notes.txt"
    text.write_text("not audio", encoding="utf-8")
    assert "suffix" in assert_error(upload(http, keys["crm"], text, content_type="text/plain"), 415)["message"]
    assert_error(upload(http, keys["crm"], note_audio, content_type="text/html"), 415)
    assert_error(upload(http, keys["crm"], note_audio, num_speakers=0), 422)
    assert_error(upload(http, keys["crm"], note_audio, language="english please"), 422)
    assert_error(upload(http, keys["crm"], note_audio, stage="lunch"), 422)
    assert "phone_call" in assert_error(upload(http, keys["crm"], note_audio, call_type="conference"), 422)["message"]
    unknown = assert_error(upload(http, keys["crm"], note_audio, deal_id="DEAL-NOPE"), 422)
    assert "DEAL-NOPE" in unknown["message"]
    assert_error(http.post("/v1/calls", headers=bearer(keys["crm"])), 422)
    assert_error(upload(http, keys["coach"], note_audio, call_id="../../etc/passwd"), 422)


def test_a_corrupt_recording_fails_its_job_and_the_next_upload_goes_through(http, keys, tmp_path, note_audio):
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF" + np.random.default_rng(1).bytes(40_000))
    bad = upload(http, keys["crm"], broken)
    good = upload(http, keys["crm"], note_audio, call_id="CALL-NOTE-AS-CALL", num_speakers=1)
    assert bad.status_code == good.status_code == 202, (bad.text, good.text)
    failed = wait_for_job(http, bad.json()["job_id"], keys["crm"])
    assert failed["status"] == "failed" and "decode" in failed["error"], failed
    call = http.get(f"/v1/calls/{bad.json()['call_id']}", headers=bearer(keys["admin"])).json()
    assert call["status"] == "failed" and call["error"] == failed["error"]
    assert_error(http.get(f"/v1/calls/{bad.json()['call_id']}/transcript", headers=bearer(keys["admin"])), 409)
    done = wait_for_job(http, good.json()["job_id"], keys["crm"])
    assert done["status"] == "done" and done["call_id"] == "CALL-NOTE-AS-CALL", done


def test_an_upload_past_the_limit_is_413_and_leaves_nothing(tmp_path, settings, note_audio):
    settings, catalog, key = private_app(tmp_path, settings, max_upload_mb=0.01)
    with LiveServer(create_app(settings)) as live, httpx.Client(base_url=live.url, timeout=60) as client:
        refused = upload(client, key, note_audio)
        assert "max_upload_mb" in assert_error(refused, 413)["message"]
    assert not list((tmp_path / "ws" / "audio").iterdir())
    with catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Call)) == 0
    catalog.dispose()


def test_a_huge_upload_is_refused_before_its_body_is_read(tmp_path, settings):
    """A declared length past the limit is answered at once (no body sent at all); a chunked body
    without a length is cut off once it passes the limit, long before its end."""
    settings, catalog, key = private_app(tmp_path, settings, max_upload_mb=0.01)
    with LiveServer(create_app(settings)) as live:
        status, body, _ = raw_exchange(live.url, (
            "POST /v1/calls HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + key + "\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 10000000000\r\n\r\n").encode())
        assert status == 413 and "max_upload_mb" in body["error"]["message"]

        part = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
        chunks = [part] + [b"a" * 65536] * 400  # 25 MB of one file (more than socket buffers hold); ~1 MB allowed
        framed = [b"%x\r\n" % len(chunk) + chunk + b"\r\n" for chunk in chunks]
        status, body, sent = raw_exchange(live.url, (
            "POST /v1/calls HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + key + "\r\n"
            "Content-Type: multipart/form-data; boundary=x\r\nTransfer-Encoding: chunked\r\n\r\n").encode(),
            framed)
        assert status == 413 and body["error"]["code"] == "too_large"
        assert sent < len(framed), "the whole body was read before the 413"
    catalog.dispose()


# --- restart -------------------------------------------------------------------------------------
def test_a_job_left_running_by_a_crashed_process_is_finished_after_a_restart(tmp_path, settings, note_audio):
    import shutil

    from talktrack.core.files import file_sha256
    from talktrack.pipelines.ingest import sink
    from talktrack.pipelines.ingest.manifest import IngestItem

    settings, catalog, key = private_app(tmp_path, settings)
    audio = tmp_path / "ws" / "audio" / "note.wav"
    shutil.copy(note_audio, audio)
    registered = sink.register(catalog, IngestItem(audio, call_id="CALL-CRASHED"), file_sha256(audio))
    with catalog.session() as session:  # what a process killed mid-job leaves behind
        call_pk = session.scalar(select(Call.id).where(Call.external_id == registered.call_id))
        now = datetime.now(UTC).replace(tzinfo=None)
        stale = now - timedelta(seconds=settings.serving.job_lease_s + 5)
        session.add(Job(external_id="f" * 32, kind="call", status="running", call_id=call_pk,
                        payload={"audio_path": str(audio), "call_id": registered.call_id, "attempts": 1,
                                 "worker": "gone-host:4242:0", "creator": {"role": "admin"}},
                        created_by="crm", created_at=stale, started_at=stale, heartbeat_at=stale))
        # another host's worker that stamped its job just now is alive: its job is left alone
        session.add(Job(external_id="e" * 32, kind="call", status="running", payload={"worker": "busy-host:77:0"},
                        created_by="crm", created_at=now, started_at=now, heartbeat_at=now))
    with LiveServer(create_app(settings)) as live, httpx.Client(base_url=live.url, timeout=60) as client:
        job = wait_for_job(client, "f" * 32, key)
        assert job["status"] == "done" and job["attempts"] == 2, job
        assert client.get(f"/v1/jobs/{'e' * 32}", headers=bearer(key)).json()["status"] == "running"
        again = upload(client, key, audio, name="same-note.wav")
        assert again.status_code == 200 and again.json()["call_id"] == "CALL-CRASHED"
    with catalog.session() as session:
        assert session.scalar(select(func.count()).select_from(Call)) == 1
        assert session.scalar(select(Call.status)) == "transcribed"
    catalog.dispose()


def test_a_running_job_is_an_orphan_only_when_its_worker_is_gone(tmp_path, settings):
    import socket
    from types import SimpleNamespace

    from talktrack.serving.jobs import JobWorker, is_orphan

    now = datetime(2026, 1, 1, 12, 0)

    def job(worker: str, beat_s_ago: float | None) -> Job:
        beat = None if beat_s_ago is None else now - timedelta(seconds=beat_s_ago)
        return Job(status="running", payload={"worker": worker}, started_at=beat, heartbeat_at=beat)

    assert not is_orphan(job("far-host:1:a", beat_s_ago=10), now, lease_s=60)
    assert is_orphan(job("far-host:1:a", beat_s_ago=61), now, lease_s=60)
    assert is_orphan(job("far-host:1", beat_s_ago=None), now, lease_s=60)  # never stamped
    no_such_pid = f"{socket.gethostname()}:{2 ** 22 + 1}:x"
    assert is_orphan(job(no_such_pid, beat_s_ago=1), now, lease_s=60)  # a process of this host, gone

    # two apps in one process: the running one's job is live however old its stamp, a stopped one's is not
    settings, catalog, _ = private_app(tmp_path, settings, job_poll_s=60)
    service = SimpleNamespace(catalog=catalog, settings=settings)
    running, stopped = JobWorker(service), JobWorker(service)
    running.start()
    try:
        with catalog.session() as session:
            for worker in (running, stopped):
                session.add(Job(external_id=worker.token.replace(":", "-"), kind="unknown", status="running",
                                payload={"worker": worker.token}, created_at=now, started_at=now, heartbeat_at=now))
        assert running.requeue_orphans() == 1
        with catalog.session() as session:
            status = dict(session.execute(select(Job.external_id, Job.status)).all())
        assert status[running.token.replace(":", "-")] == "running"
        # re-queued (and maybe taken by the running worker already, failing for its unknown kind)
        assert status[stopped.token.replace(":", "-")] in ("queued", "failed")
    finally:
        running.stop()
    catalog.dispose()


# --- voice notes ---------------------------------------------------------------------------------
def check_note(result: dict) -> None:
    assert "price" in {o["type"] for o in result["objections"]}, result
    assert ("economic_buyer", "CFO") in {(p["role"], p["title"]) for p in result["people"]}  # "signs off"
    assert result["next_action"]["date"] == "2025-03-11"


def test_a_typed_voice_note_is_read_at_once(http, keys, rep_deal):
    answer = http.post("/v1/crm/voice-notes", data={"text": NOTE_TEXT, "deal_id": rep_deal,
                                                    "reference_date": NOTE_DAY}, headers=bearer(keys["rep"]))
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"]["deal_id"] == rep_deal
    check_note(answer.json()["result"])


def test_a_spoken_voice_note_is_transcribed_and_read(http, keys, note_audio):
    with open(note_audio, "rb") as handle:
        accepted = http.post("/v1/crm/voice-notes", files={"file": ("note.wav", handle, "audio/wav")},
                             data={"reference_date": NOTE_DAY}, headers=bearer(keys["crm"]))
    assert accepted.status_code == 202, accepted.text
    job = wait_for_job(http, accepted.json()["job_id"], keys["crm"])
    assert job["status"] == "done", job
    assert "price" in job["result"]["transcript"].lower()
    check_note(job["result"])


def test_voice_notes_refuse_bad_input(http, keys, rep_deal):
    assert_error(http.post("/v1/crm/voice-notes", data={}, headers=bearer(keys["crm"])), 422)
    assert_error(http.post("/v1/crm/voice-notes", data={"text": "x", "deal_id": "DEAL-NOPE"},
                           headers=bearer(keys["crm"])), 422)
    assert_error(http.post("/v1/crm/voice-notes", data={"text": NOTE_TEXT, "reference_date": "soon"},
                           headers=bearer(keys["crm"])), 422)
    assert_error(http.post("/v1/crm/voice-notes", data={"text": NOTE_TEXT, "deal_id": rep_deal},
                           headers=bearer(keys["other_rep"])), 403)
    assert_error(http.post("/v1/crm/voice-notes", data={"text": NOTE_TEXT}, headers=bearer(keys["coach"])), 403)
