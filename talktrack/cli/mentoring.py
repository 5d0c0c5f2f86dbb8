"""``talktrack mentoring ...``: mentoring sessions, the points ledger and the monthly HR export.

The CLI acts with the workspace's full rights (as an admin would); the API (``/v1/mentoring``) checks roles.
``--by`` names who acts, for the audit trail (default ``cli:<user>``).
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from talktrack.cli.context import AppContext, fail

mentoring_app = typer.Typer(help="Mentoring points: sessions on recorded calls, the ledger, the HR export.",
                            no_args_is_help=True)
By = Annotated[str | None, typer.Option("--by", help="Who acts, for the audit trail (default: cli:<user>).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(app: typer.Typer) -> None:
    app.add_typer(mentoring_app, name="mentoring")


def _actor(by: str | None) -> str:
    return by or f"cli:{getpass.getuser()}"


def _month(value: str | None) -> str:
    """YYYY-MM; default the month before this one (the month HR pays)."""
    from talktrack.core.clock import utcnow

    if value is None:
        today = utcnow().date()
        return f"{today.year - 1}-12" if today.month == 1 else f"{today.year:04d}-{today.month - 1:02d}"
    if len(value) != 7 or value[4] != "-" or not (value[:4] + value[5:]).isdigit() or not 1 <= int(value[5:]) <= 12:
        fail(f"--month {value!r}: expected YYYY-MM")
    return value


def _run(step):
    """Run one step of the pipeline; a refused rule or unknown id is an error message, not a traceback."""
    from talktrack.pipelines.management.mentoring import MentoringError, MentoringNotFound

    try:
        return step()
    except (MentoringError, MentoringNotFound) as exc:
        fail(str(exc))


def _emit_session(session: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(session, indent=2, ensure_ascii=False))
        return
    typer.echo(f"session {session['id']} [{session['status']}] call {session['call_id']}: "
               f"{session['mentor']['rep_id']} mentors {session['mentee']['rep_id']}, "
               f"{len(session['annotations'])} key point(s), {session['points']} point(s)")
    for note in session["annotations"]:
        typer.echo(f"  {note['at_s']:7.1f} s  {note['note']}")


@mentoring_app.command("start")
def start_command(ctx: typer.Context, call: Annotated[str, typer.Argument(help="The recorded call's id.")],
                  mentor: Annotated[str, typer.Option("--mentor", help="The senior rep.")],
                  mentee: Annotated[str, typer.Option("--mentee", help="The rep being mentored.")],
                  by: By = None, as_json: AsJson = False) -> None:
    """Open a session (the rules: management.mentoring)."""
    from talktrack.pipelines.management import mentoring

    app: AppContext = ctx.obj
    _emit_session(_run(lambda: mentoring.create_session(app.catalog, app.settings, call_id=call, mentor_id=mentor,
                                                        mentee_id=mentee, actor=_actor(by))), as_json)


@mentoring_app.command("annotate")
def annotate_command(ctx: typer.Context, session: Annotated[int, typer.Argument(help="The session's number.")],
                     at: Annotated[float, typer.Option("--at", help="Seconds into the call.")],
                     note: Annotated[str, typer.Option("--note", help="What to hear there, and why.")],
                     by: By = None, as_json: AsJson = False) -> None:
    """Add a timestamped key point to an open session."""
    from talktrack.pipelines.management import mentoring

    app: AppContext = ctx.obj
    _emit_session(_run(lambda: mentoring.add_annotation(app.catalog, app.settings, session, at_s=at, note=note,
                                                        actor=_actor(by))), as_json)


@mentoring_app.command("submit")
def submit_command(ctx: typer.Context, session: Annotated[int, typer.Argument(help="The session's number.")],
                   by: By = None, as_json: AsJson = False) -> None:
    """Send a session with enough key points to the mentee's manager."""
    from talktrack.pipelines.management import mentoring

    app: AppContext = ctx.obj
    _emit_session(_run(lambda: mentoring.submit_session(app.catalog, app.settings, session, actor=_actor(by))),
                  as_json)


@mentoring_app.command("review")
def review_command(ctx: typer.Context, session: Annotated[int, typer.Argument(help="The session's number.")],
                   reject: Annotated[bool, typer.Option("--reject/--confirm", help="Reject (needs --note) or confirm.")]
                   = False,
                   note: Annotated[str, typer.Option("--note", help="Why (needed to reject).")] = "",
                   by: By = None, as_json: AsJson = False) -> None:
    """Confirm a submitted session (its points are earned now) or reject it with a note."""
    from talktrack.pipelines.management import mentoring

    app: AppContext = ctx.obj
    decision = "reject" if reject else "confirm"
    _emit_session(_run(lambda: mentoring.review_session(app.catalog, app.settings, session, decision=decision,
                                                        note=note, actor=_actor(by))), as_json)


@mentoring_app.command("reverse")
def reverse_command(ctx: typer.Context, entry: Annotated[int, typer.Argument(help="The ledger entry's number.")],
                    note: Annotated[str, typer.Option("--note", help="Why the points are taken back.")],
                    by: By = None) -> None:
    """Reverse a ledger entry: a new, negative entry booked this month; the original stays."""
    from talktrack.pipelines.management import mentoring

    app: AppContext = ctx.obj
    done = _run(lambda: mentoring.reverse_entry(app.catalog, app.settings, entry, note=note, actor=_actor(by)))
    typer.echo(f"entry {done['id']}: {done['points']:+d} points for {done['rep_id']} in {done['month']} "
               f"(reverses entry {done['reverses']})")


@mentoring_app.command("sessions")
def sessions_command(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="open, submitted, confirmed or rejected.")] = None,
    team: Annotated[str | None, typer.Option("--team", help="The mentor's or the mentee's team.")] = None,
    rep: Annotated[str | None, typer.Option("--rep", help="As mentor or mentee.")] = None,
    as_json: AsJson = False,
) -> None:
    """Sessions, newest first (``--status submitted``: those awaiting a manager)."""
    from talktrack.pipelines.management import mentoring
    from talktrack.core.catalog.schema.mentoring import SESSION_STATUSES

    app: AppContext = ctx.obj
    if status is not None and status not in SESSION_STATUSES:
        fail(f"--status {status!r}: expected one of {', '.join(SESSION_STATUSES)}")
    app.require_team(team)
    found = mentoring.list_sessions(app.catalog, status=status, team=team, rep=rep)
    if as_json:
        typer.echo(json.dumps(found, indent=2, ensure_ascii=False))
        return
    table = Table(title="Mentoring sessions")
    for column in ("id", "status", "call", "mentor", "mentee", "key points", "points", "reviewed by / note"):
        table.add_column(column)
    for s in found:
        table.add_row(str(s["id"]), s["status"], s["call_id"], s["mentor"]["rep_id"], s["mentee"]["rep_id"],
                      str(len(s["annotations"])), str(s["points"]),
                      f"{s['reviewed_by']}: {s['review_note'] or ''}" if s["reviewed_by"] else "-")
    app.console.print(table)


@mentoring_app.command("ledger")
def ledger_command(
    ctx: typer.Context,
    month: Annotated[str | None, typer.Option("--month", help="YYYY-MM (default: every month).")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Only this team's mentors.")] = None,
    rep: Annotated[str | None, typer.Option("--rep", help="Only this mentor.")] = None,
    as_json: AsJson = False,
) -> None:
    """Points per mentor (earned, reversed, net) and the entries behind them."""
    from talktrack.pipelines.management import mentoring

    app: AppContext = ctx.obj
    app.require_team(team)
    book = mentoring.ledger(app.catalog, month=_month(month) if month else None, rep=rep, team=team)
    if as_json:
        typer.echo(json.dumps(book, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"Mentoring points{' ' + month if month else ''}")
    for column in ("rep", "name", "team", "sessions", "earned", "reversed", "net"):
        table.add_column(column)
    for r in book["reps"]:
        table.add_row(r["rep_id"], r["rep_name"], r["team"] or "-", str(r["sessions"]), str(r["earned"]),
                      str(r["reversed"]), str(r["net"]))
    app.console.print(table)


@mentoring_app.command("export")
def export_command(
    ctx: typer.Context,
    month: Annotated[str | None, typer.Option("--month", help="YYYY-MM (default: last month).")] = None,
    csv_path: Annotated[Path | None, typer.Option("--csv", help="Write the month's rows to this CSV file.")] = None,
    webhook: Annotated[str | None, typer.Option("--webhook", help="POST to this URL (default: "
                                                "management.mentoring.webhook.url).")] = None,
    retry: Annotated[bool, typer.Option("--retry", help="Only deliver the exports still pending or failed.")] = False,
    by: By = None,
    as_json: AsJson = False,
) -> None:
    """The monthly export for HR: a CSV and a webhook POST with retry and backoff, idempotent by export id."""
    from talktrack.pipelines.management import mentoring_export as export

    app: AppContext = ctx.obj
    actor = _actor(by)
    if retry:
        if month or csv_path or webhook:
            fail("--retry delivers the stored exports as they were made: no --month, --csv or --webhook with it")
        done = export.retry_exports(app.catalog, app.settings, actor=actor)
    else:
        made = export.create_export(app.catalog, app.settings, _month(month), actor=actor, url=webhook)
        if csv_path is not None:
            typer.echo(f"wrote {export.write_csv(made['payload'], csv_path)} ({made['rows']} rows)")
        done = [export.deliver_export(app.catalog, app.settings, made["export_id"], actor=actor)
                if made["status"] in export.RETRIED else made]
    for item in done:
        item.pop("payload")
    if as_json:
        typer.echo(json.dumps(done, indent=2, ensure_ascii=False))
    for item in done if not as_json else ():
        error = f" ({item['last_error']})" if item["last_error"] else ""
        typer.echo(f"{item['export_id']} {item['month']}: {item['status']}, {item['rows']} rows, "
                   f"{item['total_points']} points, {item['attempts']} tries{error}")
    if any(item["status"] == "failed" for item in done):
        raise typer.Exit(1)
