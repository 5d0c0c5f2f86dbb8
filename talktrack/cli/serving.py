"""CLI of the HTTP service: ``talktrack serve`` and ``talktrack keys create|list|revoke``."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from talktrack.cli.context import AppContext

keys_app = typer.Typer(
    help="API keys of the service: create (shown once), list, revoke.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``talktrack`` app."""
    app.command("serve")(serve_command)
    app.add_typer(keys_app, name="keys")


def serve_command(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option("--host", help="Interface to listen on [serving.host].")] = None,
    port: Annotated[int | None, typer.Option("--port", min=1, max=65535, help="Port [serving.port].")] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Worker processes [serving.workers].")
    ] = None,
) -> None:
    """Run the HTTP service (OpenAPI at /docs) on this workspace."""
    import uvicorn

    from talktrack.serving.app import SETTINGS_ENV, settings_json

    app_ctx: AppContext = ctx.obj
    serving = app_ctx.settings.serving
    workers = workers or serving.workers
    app_ctx.workspace  # noqa: B018 - creates the workspace folders before workers start
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="talktrack-serve-", delete=False) as handle:
        handle.write(settings_json(app_ctx.settings))
    os.environ[SETTINGS_ENV] = handle.name
    metrics_dir = _metrics_dir(workers)
    try:
        uvicorn.run(
            "talktrack.serving.app:app_from_environment",
            factory=True,
            host=host or serving.host,
            port=port or serving.port,
            workers=workers,
            # uvloop and httptools (pinned) by name rather than uvicorn's "auto", which falls back
            # to asyncio and pure-Python h11 without a word when they are missing
            loop="uvloop",
            http="httptools",
            access_log=False,  # the service writes its own JSON line per request
            log_level="info",
        )
    finally:
        os.unlink(handle.name)
        if metrics_dir is not None:
            metrics_dir.cleanup()


def _metrics_dir(workers: int) -> tempfile.TemporaryDirectory | None:
    """With several workers, a fresh folder for Prometheus' multiprocess mode, so /metrics sums
    every worker (the workers inherit the variable). A folder the caller set is used, emptied
    of an earlier run's files; returns the temporary folder to remove afterwards, if one was made."""
    from talktrack.serving.metrics import MULTIPROC_ENV

    if workers <= 1:
        return None
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        return None
    made = tempfile.TemporaryDirectory(prefix="talktrack-metrics-")
    os.environ[MULTIPROC_ENV] = made.name
    return made


@keys_app.command("create")
def create_command(
    ctx: typer.Context,
    role: Annotated[str, typer.Option("--role", help="admin, coach, manager, rep, ml, crm or director.")],
    rep: Annotated[
        str | None, typer.Option("--rep", help="Rep external id (required for a rep key).")
    ] = None,
    team: Annotated[
        str | None, typer.Option("--team", help="Team external id (required for a manager key).")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Who holds it; shown in audit trails.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the key and its record as JSON.")] = False,
) -> None:
    """Create a key and print it ONCE (only its hash is stored)."""
    from talktrack.serving.keys import ApiKeyError, create_key

    app_ctx: AppContext = ctx.obj
    try:
        key, record = create_key(app_ctx.catalog, role, rep=rep, team=team, name=name)
    except ApiKeyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps({"key": key, **record}))
        return
    typer.echo(key)
    typer.echo(
        f"key {record['id']} ({record['role']}) created; store it now: it is not shown again.", err=True
    )


@keys_app.command("list")
def list_command(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """List keys (prefix, role, scope, last use); the keys themselves are never shown."""
    from talktrack.serving.keys import list_keys

    app_ctx: AppContext = ctx.obj
    rows = list_keys(app_ctx.catalog)
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(title="API keys")
    for column in ("id", "prefix", "role", "rep", "team", "name", "created", "last used", "revoked"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["key_prefix"],
            row["role"],
            row["rep"] or "",
            row["team"] or "",
            row["name"] or "",
            row["created_at"],
            row["last_used_at"] or "",
            row["revoked_at"] or "",
        )
    app_ctx.console.print(table)


@keys_app.command("revoke")
def revoke_command(
    ctx: typer.Context, key_id: Annotated[int, typer.Argument(help="The key's id (keys list).")]
) -> None:
    """Revoke a key: requests with it answer 401 from now on."""
    from talktrack.serving.keys import KeyNotFound, revoke_key

    app_ctx: AppContext = ctx.obj
    try:
        record = revoke_key(app_ctx.catalog, key_id)
    except KeyNotFound as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"key {record['id']} ({record['key_prefix']}…, {record['role']}) revoked at {record['revoked_at']}"
    )
