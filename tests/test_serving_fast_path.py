"""The lean request path of a cached score: keys trusted for ``serving.key_cache_ttl_s`` (no query
per request), a cached answer given on the event loop with the same bytes as when it was built
and the same scope checks, and the cheap load generator of ``talktrack bench serving``."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from sqlalchemy import select

from talktrack.core.catalog.schema import Deal, Rep, Team
from talktrack.evaluation.load_client import LoadClient, open_loop
from talktrack.serving.key_cache import KeyCache
from talktrack.serving.keys import authenticate, create_key, revoke_key
from tests.serving_support import assert_error, bearer

# the first test to ask for the served world builds it: minutes on a busy machine
pytestmark = pytest.mark.timeout(900)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_key_is_looked_up_once_per_ttl_and_a_revoked_key_refused_after_it(catalog):
    key, record = create_key(catalog, "crm", name="cached")
    lookups, clock = [], Clock()

    def lookup(plain):
        lookups.append(plain)
        return authenticate(catalog, plain)

    keys = KeyCache(lookup, ttl_s=5.0, clock=clock)
    assert keys.peek(key) is None  # never looked up: peek does not query
    assert keys.get(key).role == "crm" and keys.get(key).key_id == record["id"] and len(lookups) == 1
    clock.now = 4.9
    assert keys.peek(key).role == "crm" and len(lookups) == 1
    revoke_key(catalog, record["id"])
    assert keys.get(key) is not None  # within the time-to-live the revocation is not seen yet
    clock.now = 5.0
    assert keys.peek(key) is None and keys.get(key) is None and len(lookups) == 2
    assert keys.get(key) is None and len(lookups) == 3  # refused keys are not remembered
    assert keys.get("tt_not-a-real-key-at-all") is None and len(lookups) == 4


def test_a_zero_ttl_checks_the_catalog_on_every_request(catalog):
    key, _ = create_key(catalog, "crm")
    lookups = []
    keys = KeyCache(lambda plain: lookups.append(plain) or authenticate(catalog, plain), ttl_s=0.0)
    assert keys.get(key) is not None and keys.get(key) is not None and len(lookups) == 2


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


def _feature_cache_hits(client, admin_key) -> float:
    text = client.get("/metrics", headers=bearer(admin_key)).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith('talktrack_score_feature_cache_total{result="hit"}'))


def test_a_cached_score_has_the_bytes_it_had_when_built_and_counts_as_a_hit(client, keys, world_workspace):
    _, _, catalog = world_workspace
    with catalog.session() as session:
        # a closed deal: the open ones were scored by the warm-up, this one is built by the request
        deal = session.scalars(select(Deal.external_id).where(Deal.status != "open").order_by(Deal.id.desc())
                               .limit(1)).one()
    first = client.post("/v1/score", json={"deal_id": deal}, headers=bearer(keys["crm"]))
    hits = _feature_cache_hits(client, keys["admin"])
    again = client.post("/v1/score", json={"deal_id": deal}, headers=bearer(keys["crm"]))
    assert first.status_code == again.status_code == 200
    assert again.content == first.content and again.headers["content-type"] == "application/json"
    assert _feature_cache_hits(client, keys["admin"]) == hits + 1
    batch = client.post("/v1/score/batch", json={"deal_ids": [deal]}, headers=bearer(keys["ml"])).json()
    assert batch["scores"][0] == json.loads(again.content)


def test_a_manager_is_refused_another_teams_deal_even_when_it_is_cached(client, keys, world_workspace):
    _, _, catalog = world_workspace
    with catalog.session() as session:
        other = session.scalars(select(Deal.external_id).join(Rep, Deal.rep_id == Rep.id).join(Team)
                                .where(Team.external_id != keys["team_id"]).limit(1)).one()
    assert client.post("/v1/score", json={"deal_id": other}, headers=bearer(keys["admin"])).status_code == 200
    assert_error(client.post("/v1/score", json={"deal_id": other}, headers=bearer(keys["manager"])), 403)
    assert_error(client.post("/v1/score", json={"deal_id": other}, headers=bearer(keys["coach"])), 403)


def test_the_load_client_reads_the_answers_httpx_reads_and_counts_refusals_as_errors(server, keys):
    url = httpx.URL(server.url)

    async def run():
        async with LoadClient(url.host, url.port, bearer(keys["admin"])) as load:
            status, body = await load.request("GET", "/v1/me")
            fine = await open_loop(load, lambda i: ("GET", "/v1/me", None), rate_per_s=50, duration_s=1)
        async with LoadClient(url.host, url.port, bearer("tt_not-a-real-key-at-all")) as load:
            refused = await open_loop(load, lambda i: ("POST", "/v1/score", {"deal_id": "D1"}), 20, 1)
        return status, body, fine, refused

    status, body, fine, refused = asyncio.run(run())
    seen_by_httpx = httpx.get(f"{server.url}/v1/me", headers=bearer(keys["admin"])).json()
    assert status == 200 and json.loads(body) == seen_by_httpx
    assert fine["requests"] == 50 and fine["errors"] == 0 and 0 < fine["p50_ms"] <= fine["p99_ms"]
    assert fine["load_generator"]["cpu_s"] > 0 and fine["load_generator"]["connections_opened"] >= 1
    # a 401 closes the connection (its body is left unread): each refusal is an error, none hangs
    assert refused["requests"] == 20 and refused["errors"] == 20
