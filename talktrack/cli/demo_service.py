"""The demo's last act: API keys for each role, ready-to-run ``curl`` examples, and the service.

The keys are made fresh on every demo run (the plain key is only ever shown once) and the
previous demo keys are revoked, so a workspace never piles up live demo keys.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from sqlalchemy import select

from talktrack.cli.context import AppContext

DEMO_KEY_PREFIX = "demo-"


@dataclass(frozen=True)
class DemoIds:
    """Real ids of the demo world, so every example answers with data."""

    rep: str
    team: str
    deal: str
    call: str
    objection_type: str
    audio_file: str | None


def demo_keys(app: AppContext, ids: DemoIds) -> dict[str, str]:
    """One fresh key per role (rep and manager scoped to the example rep and team); old demo keys revoked."""
    from talktrack.serving.keys import create_key, list_keys, revoke_key

    for record in list_keys(app.catalog):
        if (record.get("name") or "").startswith(DEMO_KEY_PREFIX) and not record.get("revoked_at"):
            revoke_key(app.catalog, record["id"])
    scopes = {"admin": {}, "coach": {}, "crm": {}, "ml": {}, "rep": {"rep": ids.rep}, "manager": {"team": ids.team}}
    return {
        role: create_key(app.catalog, role, name=f"{DEMO_KEY_PREFIX}{role}", **scope)[0]
        for role, scope in scopes.items()
    }


def demo_ids(app: AppContext, world_dir=None) -> DemoIds:
    """A rep with calls and an open deal, their team, one of their calls, a common objection type."""
    from sqlalchemy import func

    from talktrack.core.catalog.schema import Call, Deal, Moment, Rep, Team

    with app.catalog.session() as session:
        rep, team, deal = session.execute(
            select(Rep.external_id, Team.external_id, Deal.external_id)
            .join(Team, Rep.team_id == Team.id)
            .join(Deal, Deal.rep_id == Rep.id)
            .where(Deal.status == "open")
            .order_by(Deal.id)
            .limit(1)
        ).one()
        call = session.scalar(
            select(Call.external_id).join(Rep, Call.rep_id == Rep.id).where(Rep.external_id == rep).limit(1)
        )
        objection = session.scalar(
            select(Moment.label)
            .where(Moment.kind == "objection")
            .group_by(Moment.label)
            .order_by(func.count().desc())
            .limit(1)
        )
    audio = None
    if world_dir is not None and (world_dir / "audio").is_dir():
        audio = next((str(path) for path in sorted((world_dir / "audio").glob("*.wav"))), None)
    return DemoIds(rep, team, deal, call or "", objection or "price", audio)


def curl_examples(url: str, keys: dict[str, str], ids: DemoIds) -> list[tuple[str, str]]:
    """(what it shows, command) pairs, each runnable as printed."""

    def curl(role: str, path: str, *extra: str) -> str:
        parts = ["curl", "-s", "-H", f"Authorization: Bearer {keys[role]}", *extra, f"{url}{path}"]
        return " ".join(shlex.quote(part) for part in parts)

    def post_json(role: str, path: str, body: str) -> str:
        return curl(role, path, "-H", "Content-Type: application/json", "-d", body)

    examples = [
        ("is it up (no key)", f"curl -s {url}/health"),
        ("who am I", curl("coach", "/v1/me")),
        ("mined talk tracks", curl("coach", "/v1/tracks")),
        ("search what customers said", curl("coach", "/v1/search?q=the+price+is+too+high&role=customer&k=3")),
        ("score a deal (CRM)", post_json("crm", "/v1/score", f'{{"deal_id": "{ids.deal}"}}')),
        ("a call's transcript", curl("coach", f"/v1/calls/{ids.call}/transcript")),
        ("the call's SOP check", curl("coach", f"/v1/calls/{ids.call}/sop")),
        ("a rep's radar, drawn", curl("rep", f"/v1/capability/reps/{ids.rep}/radar?format=png", "-o", "radar.png")),
        ("the team heatmap", curl("manager", f"/v1/capability/teams/{ids.team}/heatmap")),
        ("stage timers over threshold", curl("manager", "/v1/crm/alerts")),
        (
            "start a drill (rep)",
            post_json(
                "rep",
                "/v1/drills",
                f'{{"objection_type": "{ids.objection_type}", "persona": "analytical", "language": "en"}}',
            ),
        ),
        (
            "answer in the drill (use the id above)",
            post_json("rep", "/v1/drills/DRILL_ID/turns", '{"text": "I understand. When do you plan to buy?"}'),
        ),
    ]
    if ids.audio_file:
        examples.append(
            (
                "upload a recording (202 + job id)",
                curl("crm", "/v1/calls", "-F", f"file=@{ids.audio_file}", "-F", f"deal_id={ids.deal}"),
            )
        )
    return examples


def print_service_intro(app: AppContext, url: str, keys: dict[str, str], ids: DemoIds) -> None:
    app.console.rule("[bold]the service")
    app.console.print(f"Keys (shown once; revoke with `talktrack keys revoke ID`): OpenAPI at {url}/docs")
    for role, key in keys.items():
        app.console.print(f"  {role:8} {key}")
    app.console.print("\nTry (in another terminal):")
    for what, command in curl_examples(url, keys, ids):
        app.console.print(f"[dim]# {what}[/]")
        app.console.print(command, soft_wrap=True, markup=False, highlight=False)
