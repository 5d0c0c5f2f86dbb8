"""Mixed callers against one server for a bounded time: no cross-scope data, no 500, no lost upload.

Reps of two teams, a manager and the CRM search, list, read transcripts, drill, score and upload
at once (one thread each). Every JSON answer to a rep or manager key is walked, and every call,
deal, rep and team id in it is checked against the generated world's ownership read from the
catalog: a rep may meet only its own, a manager only its team's. Every upload answered 202 must
end as a job that is done, or failed with a reason.
"""

from __future__ import annotations

import io
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pytest
import soundfile as sf
from sqlalchemy import select

from talktrack.core.catalog.schema import Call, Deal, Rep, Team
from tests.serving_support import bearer, wait_for_job

pytestmark = pytest.mark.timeout(600)
RUN_S = 20.0
MAX_REQUESTS_PER_CALLER = 400
ID_KEYS = {"call_id": "call", "deal_id": "deal", "rep_id": "rep", "rep": "rep", "team_id": "team", "team": "team"}


@pytest.fixture(scope="module")
def ownership(world_workspace) -> dict[str, dict[str, tuple[str | None, str | None]]]:
    """kind -> id -> (rep, team), from the catalog the server serves."""
    _, _, catalog = world_workspace
    with catalog.session() as session:
        calls = session.execute(select(Call.external_id, Rep.external_id, Team.external_id)
                                .outerjoin(Rep, Rep.id == Call.rep_id).outerjoin(Team, Team.id == Rep.team_id)).all()
        deals = session.execute(select(Deal.external_id, Rep.external_id, Team.external_id)
                                .join(Rep, Rep.id == Deal.rep_id).outerjoin(Team, Team.id == Rep.team_id)).all()
        reps = session.execute(select(Rep.external_id, Rep.external_id, Team.external_id)
                               .outerjoin(Team, Team.id == Rep.team_id)).all()
        teams = session.scalars(select(Team.external_id)).all()
    return {"call": {c: (r, t) for c, r, t in calls}, "deal": {d: (r, t) for d, r, t in deals},
            "rep": {r: (r, t) for r, _, t in reps}, "team": {t: (None, t) for t in teams}}


def out_of_scope(data, scope: dict, ownership: dict) -> list[str]:
    """Every (key, id) in ``data`` that the scope (``{"rep": R}`` or ``{"team": T}``) may not meet."""
    found, stack = [], [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if isinstance(value, dict | list):
                    stack.append(value)
                elif key in ID_KEYS and isinstance(value, str) and value:
                    owner = ownership[ID_KEYS[key]].get(value)
                    if owner is None:
                        continue  # not a catalog id of that kind (e.g. an upload made during the run)
                    rep, team = owner
                    allowed = (rep == scope["rep"] if ID_KEYS[key] != "team" else team == scope.get("team")) \
                        if "rep" in scope else team == scope["team"]
                    if not allowed:
                        found.append(f"{key}={value}")
    return found


def tone(seed: int) -> bytes:
    """A short distinct recording (a tone and a little noise): its job ends done or failed, either way with a result."""
    rng = np.random.default_rng(seed)
    t = np.arange(16000 * 2) / 16000
    samples = 0.2 * np.sin(2 * np.pi * (200 + seed % 400) * t) + 0.01 * rng.standard_normal(t.size)
    out = io.BytesIO()
    sf.write(out, samples.astype(np.float32), 16000, format="WAV", subtype="PCM_16")
    return out.getvalue()


class Caller:
    """One key's traffic: a list of request makers, drawn at random until the deadline."""

    def __init__(self, name, key, scope, actions) -> None:
        self.name, self.key, self.scope, self.actions = name, key, scope, actions
        self.statuses: Counter = Counter()
        self.leaks: list[str] = []
        self.server_errors: list[str] = []
        self.uploads: list[str] = []

    def run(self, base_url: str, ownership: dict, deadline: float, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=base_url, timeout=60, headers=bearer(self.key)) as http:
            for _ in range(MAX_REQUESTS_PER_CALLER):
                if time.monotonic() > deadline:
                    break
                action = rng.choice(self.actions)
                response = action(http, rng)
                self.statuses[response.status_code] += 1
                if response.status_code >= 500:
                    self.server_errors.append(f"{response.request.method} {response.request.url}: {response.text}")
                if response.status_code == 202 and response.request.url.path == "/v1/calls":
                    self.uploads.append(response.json()["job_id"])
                if self.scope and response.headers.get("content-type", "").startswith("application/json"):
                    leaked = out_of_scope(response.json(), self.scope, ownership)
                    if leaked:
                        self.leaks.append(f"{response.request.url}: {sorted(set(leaked))[:5]}")


def test_mixed_callers_see_only_their_scope_and_lose_no_upload(server, keys, ownership):
    own_calls = [c for c, (r, _) in ownership["call"].items() if r == keys["rep_id"]]
    other_team_calls = [c for c, (_, t) in ownership["call"].items() if t != keys["team_id"]]
    other_rep_calls = [c for c, (r, _) in ownership["call"].items() if r == keys["other_rep_id"]]
    team_deals = [d for d, (_, t) in ownership["deal"].items() if t == keys["team_id"]]
    all_deals = list(ownership["deal"])
    seeds = iter(range(10_000, 20_000))
    lock = threading.Lock()

    def upload(**form):
        def send(http, rng):
            with lock:
                seed = next(seeds)
            files = {"file": (f"tone-{seed}.wav", tone(seed), "audio/wav")}
            return http.post("/v1/calls", files=files, data={k: v(rng) for k, v in form.items()})
        return send

    def get(path_of):
        return lambda http, rng: http.get(path_of(rng))

    def drill(http, rng):
        started = http.post("/v1/drills", json={"objection_type": "price", "persona": "skeptical", "language": "en"})
        if started.status_code != 201:
            return started
        return http.post(f"/v1/drills/{started.json()['drill_id']}/turns",
                         json={"text": "I understand. When is your budget confirmed? We can split payments."})

    queries = ["too expensive", "price is too high", "competitor is cheaper", "need to ask my boss", "预算不够"]
    reader = [get(lambda rng: f"/v1/search?q={rng.choice(queries)}&k=20"), get(lambda rng: "/v1/calls?limit=100"),
              get(lambda rng: "/v1/deals?limit=100"), get(lambda rng: "/v1/tracks"), get(lambda rng: "/v1/drills")]
    callers = [
        Caller("rep", keys["rep"], {"rep": keys["rep_id"], "team": keys["team_id"]}, reader + [
            get(lambda rng: f"/v1/calls/{rng.choice(own_calls)}/transcript"),
            get(lambda rng: f"/v1/calls/{rng.choice(other_team_calls)}/transcript"),  # 403 expected
            drill, upload()]),
        Caller("other_rep", keys["other_rep"], {"rep": keys["other_rep_id"],
                                                 "team": ownership["rep"][keys["other_rep_id"]][1]}, reader + [
            get(lambda rng: f"/v1/calls/{rng.choice(own_calls)}/moments"),  # 403 expected
            drill, upload()] + ([get(lambda rng: f"/v1/calls/{rng.choice(other_rep_calls)}/moments")]
                                if other_rep_calls else [])),
        Caller("manager", keys["manager"], {"team": keys["team_id"]}, reader + [
            get(lambda rng: f"/v1/capability/teams/{keys['team_id']}/recommendations"),
            lambda http, rng: http.post("/v1/score", json={"deal_id": rng.choice(team_deals)}),
            lambda http, rng: http.post("/v1/score", json={"deal_id": rng.choice(all_deals)}),  # 403 for others
            upload(rep_id=lambda rng: keys["rep_id"])]),
        Caller("crm", keys["crm"], None, [
            lambda http, rng: http.post("/v1/score/batch", json={"deal_ids": rng.sample(all_deals, 20)}),
            get(lambda rng: f"/v1/crm/deals/{rng.choice(all_deals)}/stages"),
            upload(deal_id=lambda rng: rng.choice(all_deals))]),
    ]
    deadline = time.monotonic() + RUN_S
    with ThreadPoolExecutor(len(callers)) as pool:
        for future in [pool.submit(c.run, server.url, ownership, deadline, i) for i, c in enumerate(callers)]:
            future.result()

    for caller in callers:
        print(f"{caller.name}: {sum(caller.statuses.values())} requests, {dict(caller.statuses)}, "
              f"{len(caller.uploads)} uploads")
        assert not caller.server_errors, caller.server_errors[:3]
        assert not caller.leaks, caller.leaks[:3]
        assert sum(caller.statuses.values()) >= 10
    uploads = [(c.key, job) for c in callers for job in c.uploads]
    assert uploads, "no upload was accepted: the accounting below checked nothing"
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for key, job_id in uploads:
            job = wait_for_job(http, job_id, key, timeout_s=300)
            assert job["status"] == "done" or (job["status"] == "failed" and job["error"]), job
