"""The quote routes on a live server: issue (the stamped PDF comes back), list, check a file, roles and scope.

The role table and the id-scope cases of these routes are in tests/test_serving_roles.py (served world)."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from talktrack.core.catalog.schema import Customer, Deal, Rep, Team
from tests.serving_support import assert_error, bearer
from tests.test_quotes import fpdf_proposal


@pytest.fixture(scope="module")
def small_service(tmp_path_factory, settings):
    """A live server over a small catalog of its own (two teams, four customers): the quote routes need
    deals, keys and PDF files, not the served world."""
    from talktrack.core.catalog import open_catalog
    from talktrack.core.workspace import Workspace
    from talktrack.evaluation.quotes import seed_deals
    from talktrack.serving.app import create_app
    from talktrack.serving.keys import create_key
    from tests.serving_support import LiveServer

    root = tmp_path_factory.mktemp("quotes-service") / "ws"
    settings = settings.model_copy(update={"workspace": root})
    catalog = open_catalog(Workspace.at(root).ensure().catalog_url)
    seeded = seed_deals(catalog, 4)  # EVAL-REP of EVAL-TEAM: customers 000 and 001, two deals each
    with catalog.session() as session:
        team = Team(external_id="OTHER-TEAM", name="Other team")
        session.add(team)
        session.flush()
        rep = Rep(external_id="OTHER-REP", name="Other rep", team_id=team.id)
        customer = Customer(external_id="OTHER-CUST", name="Harbor Logistics")
        session.add_all([rep, customer])
        session.flush()
        session.add(Deal(external_id="OTHER-DEAL", customer_id=customer.id, rep_id=rep.id,
                         created_at=datetime(2026, 1, 1), stage="negotiation"))
    keys = {role: create_key(catalog, role, name=f"{role}-tester")[0] for role in ("admin", "coach", "crm")}
    keys["rep"] = create_key(catalog, "rep", rep="EVAL-REP", name="rep-tester")[0]
    catalog.dispose()
    with LiveServer(create_app(settings)) as live, httpx.Client(base_url=live.url, timeout=120) as http:
        yield http, keys, {"own": seeded[0][0], "foreign": "OTHER-DEAL"}


@pytest.fixture
def client(small_service):
    return small_service[0]


@pytest.fixture
def keys(small_service):
    return small_service[1]


@pytest.fixture
def deals(small_service):
    return small_service[2]


def _upload(path) -> dict:
    return {"file": (path.name, path.read_bytes(), "application/pdf")}


def test_a_rep_issues_a_quote_and_the_stamped_file_checks_out(client, keys, deals, tmp_path):
    rep = bearer(keys["rep"])
    source = fpdf_proposal(tmp_path / "offer.pdf")
    issued = client.post(f"/v1/deals/{deals['own']}/quotes", headers=rep, files=_upload(source))
    assert issued.status_code == 201, issued.text
    assert issued.headers["content-type"] == "application/pdf" and issued.content.startswith(b"%PDF-")
    quote_id = issued.headers["x-talktrack-quote-id"]
    (tmp_path / "stamped.pdf").write_bytes(issued.content)

    listed = client.get(f"/v1/deals/{deals['own']}/quotes", headers=rep).json()
    assert quote_id in [q["quote_id"] for q in listed["quotes"]]
    assert next(q for q in listed["quotes"] if q["quote_id"] == quote_id)["issued_by"] == "rep-tester"

    check = client.post(f"/v1/deals/{deals['own']}/quotes/verify", headers=rep, files=_upload(tmp_path / "stamped.pdf"))
    assert check.status_code == 200, check.text
    assert check.json()["verdict"] == "genuine" and check.json()["quote"]["quote_id"] == quote_id
    plain = client.post(f"/v1/deals/{deals['own']}/quotes/verify", headers=rep, files=_upload(source)).json()
    assert plain["verdict"] == "flagged" and [r["code"] for r in plain["reasons"]] == ["no_watermark"]


def test_another_customers_quote_is_flagged_without_naming_a_deal_the_reader_may_not_see(client, keys, deals, tmp_path):
    source = fpdf_proposal(tmp_path / "offer.pdf")
    issued = client.post(f"/v1/deals/{deals['foreign']}/quotes", headers=bearer(keys["admin"]), files=_upload(source))
    assert issued.status_code == 201, issued.text
    (tmp_path / "theirs.pdf").write_bytes(issued.content)
    seen_by_rep = client.post(f"/v1/deals/{deals['own']}/quotes/verify", headers=bearer(keys["rep"]),
                              files=_upload(tmp_path / "theirs.pdf")).json()
    assert seen_by_rep["verdict"] == "flagged"
    assert {r["code"] for r in seen_by_rep["reasons"]} == {"other_deal", "other_customer"}
    assert seen_by_rep["quote"]["deal_id"] is None and deals["foreign"] not in str(seen_by_rep)
    seen_by_admin = client.post(f"/v1/deals/{deals['own']}/quotes/verify", headers=bearer(keys["admin"]),
                                files=_upload(tmp_path / "theirs.pdf")).json()
    assert seen_by_admin["quote"]["deal_id"] == deals["foreign"]
    refused = client.post(f"/v1/deals/{deals['foreign']}/quotes", headers=bearer(keys["rep"]), files=_upload(source))
    assert_error(refused, 403)


def test_bad_uploads_get_clear_errors(client, keys, deals):
    admin, own = bearer(keys["admin"]), deals["own"]
    assert_error(client.post(f"/v1/deals/{own}/quotes", headers=admin,
                             files={"file": ("a.txt", b"just text", "text/plain")}), 415)
    broken = assert_error(client.post(f"/v1/deals/{own}/quotes", headers=admin,
                                      files={"file": ("b.pdf", b"%PDF-1.4\nbroken", "application/pdf")}), 422)
    assert "b.pdf" in broken["message"] and "/tmp" not in broken["message"]
    assert_error(client.post("/v1/deals/NO-SUCH-DEAL/quotes/verify", headers=admin,
                             files={"file": ("b.pdf", b"%PDF-1.4\nbroken", "application/pdf")}), 404)
