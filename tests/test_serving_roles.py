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
    "GET /v1/deals": PEOPLE | {"crm"},
    "POST /v1/crm/voice-notes": frozenset({"admin", "crm", "manager", "rep"}),
    "POST /v1/drills": frozenset({"admin", "coach", "rep"}),
    "GET /v1/drills": PEOPLE,
    "GET /v1/drills/{drill_id}": PEOPLE,
    "POST /v1/drills/{drill_id}/turns": frozenset({"admin", "coach", "rep"}),
    "POST /v1/drills/{drill_id}/end": frozenset({"admin", "coach", "rep"}),
}
OPEN = {"GET /health"}  # no key needed (besides the docs and the schema)
ROLE_REFUSAL = "may not use this route"


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=120) as http:
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
        drill_id="drill-x",
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
