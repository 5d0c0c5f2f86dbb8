"""``talktrack gates ...``: stage gates (registered on the main app by :func:`register`).

``gates check`` checks every recorded stage change that has no verified check yet (imported history
included; late evidence can still verify an unverified one); ``gates list`` shows the changes
accepted without verified evidence, for the manager.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from talktrack.cli.context import AppContext
from talktrack.cli.progress import progress_hook

gates_app = typer.Typer(help="Stage gates: the evidence each stage change owes, verified.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``talktrack`` app."""
    app.add_typer(gates_app, name="gates")


@gates_app.command("check")
def check_command(
    ctx: typer.Context,
    recheck: Annotated[bool, typer.Option("--recheck", help="Check verified changes again too.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts and unverified changes as JSON.")] = False,
) -> None:
    """Check recorded stage changes, imported ones included, against their stages' required evidence."""
    from talktrack.pipelines.semantic.evidence import open_verifier
    from talktrack.pipelines.stage_gates import check_recorded_events, verifier_verdicts

    app: AppContext = ctx.obj
    console = Console(stderr=True, quiet=True) if as_json else app.console
    with progress_hook(console) as hook:
        verifier = open_verifier(app.catalog, app.settings, app.workspace, progress=hook)
    verifier.load_all_facts()
    results = check_recorded_events(app.catalog, app.settings, verifier_verdicts(verifier), recheck=recheck)
    unverified = [r for r in results if r.status != "verified"]
    if as_json:
        typer.echo(json.dumps({"checked": len(results), "unverified": len(unverified),
                               "changes": [r.to_dict() for r in unverified]}, indent=2, ensure_ascii=False))
        return
    app.console.print(f"checked {len(results)} stage changes: {len(unverified)} without verified evidence")
    for result in unverified[:50]:
        app.console.print(f" - {result.message()}", highlight=False, markup=False)


def gate_imported(app: AppContext, report, console: Console) -> dict | None:
    """After ``talktrack import``: the imported stage changes go through the gate, as posted ones do.

    Only when the import wrote stage events or evidence (new evidence may verify a change listed
    before); history is never refused, a change without verified evidence is listed as unverified
    (``gates list``). Returns the counts, or None when there was nothing to check."""
    from talktrack.pipelines.semantic.evidence import open_verifier
    from talktrack.pipelines.stage_gates import check_recorded_events, verifier_verdicts

    written = sum(c.inserted + c.updated for c in report.counts if c.entity in ("stage_events", "evidence"))
    if not written or not any(stage.required_evidence for stage in app.settings.stages):
        return None
    with progress_hook(console) as hook:
        verifier = open_verifier(app.catalog, app.settings, app.workspace, progress=hook)
    verifier.load_all_facts()
    results = check_recorded_events(app.catalog, app.settings, verifier_verdicts(verifier))
    return {"checked": len(results), "unverified": sum(r.status != "verified" for r in results)}


@gates_app.command("list")
def list_command(
    ctx: typer.Context,
    status: Annotated[str, typer.Option(help="unverified | refused | verified")] = "unverified",
    team: Annotated[str | None, typer.Option(help="Only this team (external id).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """The stage changes with this gate status, newest first."""
    from talktrack.pipelines.stage_gates import gate_checks

    app: AppContext = ctx.obj
    total, checks = gate_checks(app.catalog, status=status, team=team, limit=limit)
    if as_json:
        typer.echo(json.dumps({"total": total, "checks": checks}, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"{total} stage changes {status}")
    for column in ("deal", "rep", "from → to", "entered", "missing"):
        table.add_column(column)
    for c in checks:
        missing = "; ".join(f"{m['stage']}: {' or '.join(m['evidence_kinds'])}" for m in c["missing"])
        table.add_row(c["deal_id"], c["rep"], f"{c['from_stage']} → {c['to_stage']}", c["entered_at"], missing)
    app.console.print(table)
