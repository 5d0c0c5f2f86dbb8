"""Bounded work before and after the key check, browser safety and bounded metrics, over HTTP.

Against the shared served world (``server``, ``keys``) where the defaults are what is tested, and
private apps over empty workspaces where a test needs small limits (quotas). Each test sends what
an abusive or careless client would, and checks that the answer is a 4xx that comes at once.
"""

from __future__ import annotations

import random
import time

import httpx
import pytest
from sqlalchemy import select

from talktrack.core.catalog.schema import Deal, Rep
from talktrack.core.config import QuotaSettings
from talktrack.serving.app import create_app
from talktrack.serving.keys import create_key
from talktrack.serving.security_headers import API_CSP, PAGE_CSP
from tests.document_bombs import docx_bomb
from tests.serving_support import LiveServer, assert_error, bearer, raw_exchange

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def http(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def deals(world_workspace, keys) -> dict[str, str]:
    """A deal of the rep key's rep, and one of another rep's."""
    _, _, catalog = world_workspace

    def first_deal(condition) -> str:
        with catalog.session() as session:
            return session.scalar(select(Deal.external_id).join(Rep, Deal.rep_id == Rep.id)
                                  .where(condition).order_by(Deal.id).limit(1))

    return {"own": first_deal(Rep.external_id == keys["rep_id"]), "other": first_deal(Rep.external_id != keys["rep_id"])}


def private_server(tmp_path, settings, **serving) -> tuple[LiveServer, object]:
    """A server over an empty workspace of its own, with ``serving`` settings changed."""
    settings = settings.model_copy(update={
        "workspace": tmp_path / "ws", "serving": settings.serving.model_copy(update=serving)})
    app = create_app(settings)
    return LiveServer(app), app


def verify_file(http, key, name: str, content: bytes, deal_id: str, kind: str = "meeting_notes"):
    return http.post("/v1/evidence/verify-file", files={"file": (name, content)},
                     data={"deal_id": deal_id, "kind": kind}, headers=bearer(key))


# --- documents: the caller's reach first, then bounded reading ----------------------------------
def test_a_docx_bomb_is_refused_at_once_and_only_after_the_deal_scope(http, keys, deals):
    """A 250 KB .docx holding 70 MB of XML: 413 in milliseconds (it took 21 s and +370 MB before);
    sent by a rep for another rep's deal it is a 403 without being opened at all."""
    bomb = docx_bomb(70)
    started = time.perf_counter()
    refused = verify_file(http, keys["rep"], "notes.docx", bomb, deals["own"])
    elapsed = time.perf_counter() - started
    assert "unpacks to" in assert_error(refused, 413)["message"]
    assert elapsed < 1.0, f"the bomb took {elapsed:.2f} s to refuse"
    assert_error(verify_file(http, keys["rep"], "notes.docx", bomb, deals["other"]), 403)
    assert_error(verify_file(http, keys["rep"], "notes.docx", bomb, deals["own"], kind="novel"), 422)


def test_a_long_text_document_is_refused_with_the_text_limit(http, keys, deals):
    """2.1 MB of text took 10.8 s to verify; past 200,000 characters it is refused, not cut."""
    started = time.perf_counter()
    refused = verify_file(http, keys["crm"], "notes.txt", b"Budget approved for the pilot. " * 70_000, deals["own"])
    assert "at most 200000" in assert_error(refused, 413)["message"]
    assert time.perf_counter() - started < 1.0


def test_a_document_past_max_document_mb_is_refused_before_it_is_read(server, keys, deals):
    declared = 21 * 1024 * 1024 + 1024 * 1024 + 1  # serving.max_document_mb (20) + the form's overhead, + 1
    status, body, _ = raw_exchange(server.url, (
        f"POST /v1/evidence/verify-file HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {keys['crm']}\r\n"
        f"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {declared}\r\n\r\n").encode())
    assert status == 413 and "serving.max_document_mb" in body["error"]["message"]


# --- JSON bodies: total text per request ---------------------------------------------------------
def test_sop_check_caps_the_text_of_a_request(server, http, keys):
    """5000 utterances of 20,000 characters each passed every field limit: 100M characters to embed."""
    utterances = [{"role": "rep", "text": "Let me ask about your stockouts. " * 600}] * 15  # ~300,000 chars
    refused = http.post("/v1/sop/check", json={"utterances": utterances, "stage": "qualification"},
                        headers=bearer(keys["coach"]))
    assert "at most 200000 per request" in assert_error(refused, 422)["message"]
    status, body, _ = raw_exchange(server.url, (  # the 100M-character body is never parsed
        f"POST /v1/sop/check HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {keys['coach']}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n").encode())
    assert status == 413 and "serving.max_json_mb" in body["error"]["message"]


def test_a_batch_of_overlong_deal_ids_is_a_422(http, keys):
    refused = http.post("/v1/score/batch", json={"deal_ids": ["D" * 5000] * 3}, headers=bearer(keys["crm"]))
    assert "body.deal_ids.0" in assert_error(refused, 422)["message"]


# --- the key before the body ---------------------------------------------------------------------
@pytest.mark.parametrize("authorization", ["", "Authorization: Bearer tt_not-a-real-key-at-all\r\n"])
def test_an_upload_without_a_valid_key_is_refused_before_its_body_is_read(server, authorization):
    """FastAPI reads a multipart form before the key check; the gate answers 401 from the headers."""
    part = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
    chunks = [part] + [b"a" * 65536] * 400  # 25 MB, more than socket buffers hold
    framed = [b"%x\r\n" % len(chunk) + chunk + b"\r\n" for chunk in chunks]
    for path in ("/v1/calls", "/v1/crm/voice-notes", "/v1/evidence/verify-file"):
        status, body, sent = raw_exchange(server.url, (
            f"POST {path} HTTP/1.1\r\nHost: t\r\n{authorization}"
            "Content-Type: multipart/form-data; boundary=x\r\nTransfer-Encoding: chunked\r\n\r\n").encode(), framed)
        assert status == 401 and body["error"]["code"] == "unauthorized", (path, body)
        assert sent < len(framed), f"{path}: the whole body was read before the 401"


# --- browser safety ------------------------------------------------------------------------------
def test_pages_and_api_answers_carry_the_browser_safety_headers(http, keys):
    page = http.get("/app/dashboard")
    api = http.get("/v1/me", headers=bearer(keys["coach"]))
    refused = http.get("/v1/me")
    assert page.headers["content-security-policy"] == PAGE_CSP and "script-src 'self'" in PAGE_CSP
    assert "frame-ancestors 'none'" in PAGE_CSP and "unsafe-inline" not in PAGE_CSP
    for response in (page, api, refused):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert api.headers["content-security-policy"] == refused.headers["content-security-policy"] == API_CSP
    assert "<script>" not in page.text and " on" + "click=" not in page.text  # nothing inline to allow


# --- metrics -------------------------------------------------------------------------------------
def test_made_up_methods_and_paths_add_no_metrics_series(http, keys):
    rng = random.Random(7)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def series() -> set[str]:
        text = http.get("/metrics", headers=bearer(keys["admin"])).text
        return {line.rsplit(" ", 1)[0] for line in text.splitlines() if line.startswith("talktrack_http_requests_total")}

    http.request("BREW", "/v1/me")  # the first made-up method and unmatched path may each add a series
    http.get(f"/v1/no-such-{rng.random()}")
    before = series()
    for _ in range(50):
        method = "".join(rng.choice(letters) for _ in range(rng.randint(3, 9)))
        path = rng.choice(["/v1/me", "/v1/tracks", f"/v1/{rng.random()}", f"/nowhere/{rng.randint(0, 10**9)}"])
        assert http.request(method, path).status_code < 500
    grown = series() - before
    # a method outside GET/POST/... is "other"; an unmatched path "unmatched": at most one series per
    # (route, status) the requests met, here /v1/me, /v1/tracks and unmatched with 404 or 405
    assert len(grown) <= 3, sorted(grown)
    assert all('method="other"' in line or 'route="/metrics"' in line for line in grown), sorted(grown)


# --- quotas --------------------------------------------------------------------------------------
def test_uploads_past_the_quota_answer_429_with_retry_after_and_spare_other_keys(tmp_path, settings):
    live, app = private_server(tmp_path, settings, quotas=QuotaSettings(uploads_per_minute=2))
    with live, httpx.Client(base_url=live.url, timeout=60) as client:
        catalog = app.state.service.catalog
        first, second = (create_key(catalog, "admin", name=name)[0] for name in ("first", "second"))

        def upload(key):  # not audio: refused after the quota is charged, so nothing is transcribed
            return client.post("/v1/calls", files={"file": ("notes.txt", b"hello")}, headers=bearer(key))

        assert [upload(first).status_code for _ in range(2)] == [415, 415]
        refused = upload(first)
        assert "serving.quotas.uploads_per_minute" in assert_error(refused, 429)["message"]
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert upload(second).status_code == 415
        note = client.post("/v1/crm/voice-notes", files={"file": ("note.txt", b"hi")}, headers=bearer(first))
        assert_error(note, 429)  # an audio voice note is an upload too


def test_drills_past_the_quota_answer_429(tmp_path, settings):
    live, app = private_server(tmp_path, settings, quotas=QuotaSettings(drills_per_minute=3))
    with live, httpx.Client(base_url=live.url, timeout=60) as client:
        key = create_key(app.state.service.catalog, "admin", name="drills")[0]
        scenario = {"objection_type": "price", "persona": "skeptical", "language": "en"}  # no rep named: 422
        answers = [client.post("/v1/drills", json=scenario, headers=bearer(key)) for _ in range(3)]
        assert [a.status_code for a in answers] == [422, 422, 422]
        turn = client.post("/v1/drills/abc/turns", json={"text": "We can phase it."}, headers=bearer(key))
        assert_error(turn, 429)
        assert int(turn.headers["retry-after"]) >= 1
