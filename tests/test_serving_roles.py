"""The role matrix: every role against every route of the service, allowed or refused.

``ROUTE_ROLES`` is the access policy written out as a table (the spec); the test sends each
role's key to each route and checks the service keeps to it: a refused role gets a 403 that says
the role may not use the route, an allowed role never does, and no key at all is a 401. Placeholder
ids are used, so an allowed call may well be a 404, 409, 422 or a scoping 403 ("a rep key sees only
its own rep"): what matters here is that the role itself was let through. A new route must be added
to the table, or the first test fails.
"""

from __future__ import annotations

import httpx
import pytest

from tests.serving_support import bearer

ALL = frozenset({"admin", "coach", "manager", "rep", "ml", "crm"})
PEOPLE = frozenset({"admin", "coach", "manager", "rep"})  # those who read calls, tracks, coaching

ROUTE_ROLES: dict[str, frozenset[str]] = {
    "GET /v1/me": ALL,
    "GET /metrics": frozenset({"admin", "ml"}),
    "GET /v1/search": PEOPLE,
    "GET /v1/tracks": PEOPLE,
    "GET /v1/tracks/{track_id}": PEOPLE,
    "POST /v1/tracks/{track_id}/review": frozenset({"admin", "coach"}),
    "POST /v1/score": frozenset({"admin", "crm", "manager", "ml"}),
    "POST /v1/score/batch": frozenset({"admin", "crm", "manager", "ml"}),
    "POST /v1/calls": PEOPLE | {"crm"},
    "GET /v1/calls": PEOPLE | {"crm"},
    "GET /v1/calls/{call_id}": PEOPLE | {"crm"},
    "GET /v1/calls/{call_id}/transcript": PEOPLE,
    "GET /v1/calls/{call_id}/moments": PEOPLE,
    "GET /v1/calls/{call_id}/sop": PEOPLE,
    "GET /v1/calls/{call_id}/audio": PEOPLE,
    "GET /v1/jobs/{job_id}": ALL,
    "GET /v1/capability/reps/{rep_id}/radar": PEOPLE | {"ml"},
    "GET /v1/capability/reps/{rep_id}/recommendations": PEOPLE | {"ml"},
    "GET /v1/capability/teams/{team_id}/heatmap": frozenset({"admin", "coach", "manager", "ml"}),
    "GET /v1/capability/teams/{team_id}/recommendations": frozenset({"admin", "coach", "manager", "ml"}),
    "POST /v1/sop/check": PEOPLE,
    "GET /v1/deals/{deal_id}/key-questions": PEOPLE,
    "GET /v1/deals/{deal_id}/evidence": PEOPLE,
    "POST /v1/evidence/verify": PEOPLE | {"crm"},
    "POST /v1/evidence/verify-file": PEOPLE | {"crm"},
    "POST /v1/crm/deals/{deal_id}/stage-events": frozenset({"admin", "crm"}),
    "GET /v1/crm/deals/{deal_id}/stages": PEOPLE | {"crm"},
    "GET /v1/crm/alerts": frozenset({"admin", "coach", "manager", "crm"}),
    "GET /v1/crm/funnel": frozenset({"admin", "coach", "manager", "crm"}),
    "GET /v1/crm/stage-gates": frozenset({"admin", "coach", "manager", "crm"}),
    "GET /v1/deals": PEOPLE | {"crm"},
    "POST /v1/deals/{deal_id}/quotes": frozenset({"admin", "crm", "manager", "rep"}),
    "GET /v1/deals/{deal_id}/quotes": PEOPLE | {"crm"},
    "POST /v1/deals/{deal_id}/quotes/verify": PEOPLE | {"crm"},
    "GET /v1/deals/{deal_id}/conversations": PEOPLE | {"crm"},  # and director (tests/test_conversations.py)
    "GET /v1/deals/{deal_id}": PEOPLE | {"crm"},  # and director (tests/test_web_deal.py)
    "GET /v1/deals/{deal_id}/stage-gates": PEOPLE | {"crm"},  # and director
    "POST /v1/crm/voice-notes": frozenset({"admin", "crm", "manager", "rep"}),
    "POST /v1/drills": frozenset({"admin", "coach", "rep"}),
    "GET /v1/drills": PEOPLE,
    "GET /v1/drills/{drill_id}": PEOPLE,
    "POST /v1/drills/{drill_id}/turns": frozenset({"admin", "coach", "rep"}),
    "POST /v1/drills/{drill_id}/end": frozenset({"admin", "coach", "rep"}),
    "GET /v1/management/revenue": frozenset({"admin", "manager"}),  # and director (tests/test_management_revenue.py)
    "GET /v1/management/ltv-cac": frozenset({"admin", "manager"}),  # and director (tests/test_management_ltv.py)
    "GET /v1/management/anomalies": frozenset({"admin", "manager"}),  # and director (tests/test_management_anomalies.py)
    "POST /v1/management/anomalies/cases/{case_id}/close": frozenset({"admin", "manager"}),  # and director
    "GET /v1/management/process-health": frozenset({"admin", "manager"}),  # and director (tests/test_web_management.py)
    "GET /v1/management/lineage": frozenset({"admin", "coach", "manager", "ml"}),  # and director
    "GET /v1/management/brief": frozenset({"admin", "manager"}),  # and director (tests/test_management_brief.py)
    "POST /v1/management/brief/answers": frozenset({"admin", "coach", "manager", "rep"}),
    "GET /v1/management/credibility": frozenset({"admin", "manager"}),  # and director (tests/test_management_credibility.py)
    "POST /v1/management/sandbox": frozenset({"admin", "manager"}),  # and director (tests/test_management_sandbox.py)
    "POST /v1/mentoring/sessions": frozenset({"admin", "manager", "rep"}),
    "POST /v1/mentoring/sessions/{session_id}/annotations": frozenset({"admin", "rep"}),
    "POST /v1/mentoring/sessions/{session_id}/submit": frozenset({"admin", "rep"}),
    "POST /v1/mentoring/sessions/{session_id}/review": frozenset({"admin", "manager"}),
    "GET /v1/mentoring/sessions": PEOPLE,  # and director (tests/test_serving_mentoring.py)
    "GET /v1/mentoring/sessions/{session_id}": PEOPLE,  # and director
    "GET /v1/mentoring/ledger": frozenset({"admin", "manager", "rep"}),  # and director
    "POST /v1/mentoring/ledger/{entry_id}/reverse": frozenset({"admin", "manager"}),
}
OPEN = {"GET /health"}  # no key needed (besides the docs and the schema)
ROLE_REFUSAL = "may not use this route"


@pytest.fixture(scope="module")
def client(server):
    # a fresh connection per request: a route that answers before reading a body may close its
    # connection, and a pooled one reused at that moment was reset (CI: POST /v1/drills, errno 104)
    with httpx.Client(base_url=server.url, timeout=120, limits=httpx.Limits(max_keepalive_connections=0)) as http:
        yield http


def test_every_route_of_the_schema_is_in_the_matrix(client):
    operations = {
        f"{method.upper()} {path}"
        for path, methods in client.get("/openapi.json").json()["paths"].items()
        for method in methods
    }
    assert operations - OPEN == set(ROUTE_ROLES)


def request(client: httpx.Client, route: str, headers: dict) -> httpx.Response:
    method, path = route.split(" ", 1)
    path = path.format(
        track_id="1", call_id="CALL-X", job_id="job-x", rep_id="REP-X", team_id="TEAM-X", deal_id="DEAL-X",
        drill_id="drill-x", case_id="1", session_id="1", entry_id="1",
    )
    body = {"json": {}} if method == "POST" else {}
    return client.request(method, path, headers=headers, **body)


@pytest.mark.parametrize("route", sorted(ROUTE_ROLES))
def test_each_role_reaches_exactly_its_routes(client, keys, route):
    assert request(client, route, {}).status_code == 401
    for role in sorted(ALL):
        response = request(client, route, bearer(keys[role]))
        refused = response.status_code == 403 and ROLE_REFUSAL in response.json()["error"]["message"]
        assert response.status_code != 401, f"{role} on {route}: {response.text}"
        assert response.status_code < 500, f"{role} on {route}: {response.text}"
        assert refused == (role not in ROUTE_ROLES[route]), f"{role} on {route}: {response.status_code} {response.text}"


# --- every id a request names goes through the access policy ----------------------------------------
@pytest.fixture(scope="module")
def foreign(world_workspace, keys, client) -> dict:
    """Ids of the other team: a rep of it, its deal, customer, call, evidence and a drill."""
    from sqlalchemy import select

    from talktrack.core.catalog.schema import Call, Customer, Deal, EvidenceDocument, Rep, Team

    _, _, catalog = world_workspace
    with catalog.session() as session:
        deal, customer = session.execute(
            select(Deal.external_id, Customer.external_id).join(Customer, Customer.id == Deal.customer_id)
            .join(Rep, Rep.id == Deal.rep_id).join(Team, Team.id == Rep.team_id)
            .where(Team.external_id != keys["team_id"]).order_by(Deal.id).limit(1)).one()
        call = session.scalar(select(Call.external_id).join(Rep, Rep.id == Call.rep_id).join(Team, Team.id == Rep.team_id)
                              .where(Team.external_id != keys["team_id"]).order_by(Call.id).limit(1))
        evidence = session.scalar(select(EvidenceDocument.external_id).join(Deal, Deal.id == EvidenceDocument.deal_id)
                                  .where(Deal.external_id == deal).limit(1))
    drill = client.post("/v1/drills", headers=bearer(keys["coach"]), json={
        "objection_type": "price", "persona": "skeptical", "rep_id": keys["other_rep_id"]})
    assert drill.status_code == 201, drill.text
    return {"rep": keys["other_rep_id"], "deal": deal, "customer": customer, "call": call, "evidence": evidence,
            "drill": drill.json()["drill_id"]}


WAV = ("x.wav", b"RIFF" + bytes(64), "audio/wav")
TXT = ("note.txt", b"Met the customer about the rollout.", "text/plain")
PDF = ("quote.pdf", b"%PDF-1.4\n% not a whole PDF\n", "application/pdf")
# (method, path, how the id is sent) for every route that takes an id in its path, query, body or form.
NAMED_IDS: dict[str, tuple[str, str, dict]] = {
    "form rep_id of an upload": ("POST", "/v1/calls", {"files": {"file": WAV}, "data": {"rep_id": "{rep}"}}),
    "form deal_id of an upload": ("POST", "/v1/calls", {"files": {"file": WAV}, "data": {"deal_id": "{deal}"}}),
    "form customer_id of an upload": ("POST", "/v1/calls", {"files": {"file": WAV},
                                                            "data": {"customer_id": "{customer}"}}),
    "form call_id of an upload": ("POST", "/v1/calls", {"files": {"file": WAV}, "data": {"call_id": "{call}"}}),
    "form deal_id of a voice note": ("POST", "/v1/crm/voice-notes", {"data": {"text": "a note", "deal_id": "{deal}"}}),
    "form deal_id of a document": ("POST", "/v1/evidence/verify-file", {"files": {"file": TXT},
                                                                       "data": {"deal_id": "{deal}"}}),
    "body deal_id of evidence": ("POST", "/v1/evidence/verify", {"json": {"deal_id": "{deal}", "text": "notes"}}),
    "body call_id of an SOP check": ("POST", "/v1/sop/check", {"json": {"call_id": "{call}"}}),
    "body rep_id of a drill": ("POST", "/v1/drills", {"json": {"objection_type": "price", "persona": "skeptical",
                                                               "rep_id": "{rep}"}}),
    "body deal_id of a score": ("POST", "/v1/score", {"json": {"deal_id": "{deal}"}}),
    "body deal_ids of a batch": ("POST", "/v1/score/batch", {"json": {"deal_ids": ["{deal}"]}}),
    "body call_id of a mentoring session": ("POST", "/v1/mentoring/sessions", {"json": {"call_id": "{call}",
                                                                                    "mentee_id": "{rep}"}}),
    "query rep of the mentoring ledger": ("GET", "/v1/mentoring/ledger?rep={rep}", {}),
    "path drill_id of a turn": ("POST", "/v1/drills/{drill}/turns", {"json": {"text": "I see."}}),
    "path drill_id of an end": ("POST", "/v1/drills/{drill}/end", {}),
    "path drill_id": ("GET", "/v1/drills/{drill}", {}),
    "path deal_id of a stage event": ("POST", "/v1/crm/deals/{deal}/stage-events", {"json": {"stage": "lead"}}),
    "path call_id": ("GET", "/v1/calls/{call}/transcript", {}),
    "path deal_id": ("GET", "/v1/deals/{deal}/key-questions", {}),
    "path deal_id of evidence": ("GET", "/v1/deals/{deal}/evidence", {}),
    "path deal_id of stages": ("GET", "/v1/crm/deals/{deal}/stages", {}),
    "path deal_id of a quote": ("POST", "/v1/deals/{deal}/quotes", {"files": {"file": PDF}}),
    "path deal_id of quotes": ("GET", "/v1/deals/{deal}/quotes", {}),
    "path deal_id of a quote check": ("POST", "/v1/deals/{deal}/quotes/verify", {"files": {"file": PDF}}),
    "path deal_id of conversations": ("GET", "/v1/deals/{deal}/conversations?topic=competitor", {}),
    "path deal_id of a deal": ("GET", "/v1/deals/{deal}", {}),
    "path deal_id of a deal's stage gate": ("GET", "/v1/deals/{deal}/stage-gates", {}),
    "path rep_id": ("GET", "/v1/capability/reps/{rep}/radar", {}),
    "query rep": ("GET", "/v1/search?q=price&rep={rep}", {}),
    "query deal of calls": ("GET", "/v1/calls?deal={deal}", {}),
    "query rep of deals": ("GET", "/v1/deals?rep={rep}", {}),
    "query rep of drills": ("GET", "/v1/drills?rep_id={rep}", {}),
}


def _fill(value, ids: dict):
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: (v if k == "files" else _fill(v, ids)) for k, v in value.items()}
    return value


@pytest.mark.parametrize("case", sorted(NAMED_IDS))
def test_an_id_out_of_a_callers_reach_is_refused_wherever_it_is_named(client, keys, foreign, case):
    method, path, parts = NAMED_IDS[case]
    for role in ("rep", "manager"):
        response = client.request(method, _fill(path, foreign), headers=bearer(keys[role]), **_fill(parts, foreign))
        if response.status_code == 403 and ROLE_REFUSAL in response.text:
            continue  # the role may not use the route at all
        assert response.status_code == 403, f"{role}, {case}: {response.status_code} {response.text}"
        assert foreign["customer"] not in response.text or "customer" in case, response.text
    # a key that reaches everything is let through (whatever the placeholder content then gives)
    admin = client.request(method, _fill(path, foreign), headers=bearer(keys["admin"]), **_fill(parts, foreign))
    assert admin.status_code != 403 and admin.status_code < 500, f"admin, {case}: {admin.text}"
