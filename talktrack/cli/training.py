"""CLI of the model layer: ``talktrack train customer|capability`` and
``talktrack models list|promote|rollback`` (registered by :func:`register`)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from talktrack.cli.context import AppContext, fail
from talktrack.cli.progress import progress_hook

train_app = typer.Typer(help="Train a model, log it to MLflow and register it (champion only past the gate).",
                        no_args_is_help=True)
models_app = typer.Typer(help="The model registry: list versions, promote one, roll back.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's command groups to the ``talktrack`` app."""
    app.add_typer(train_app, name="train")
    app.add_typer(models_app, name="models")



@train_app.command("customer")
def train_customer_command(
    ctx: typer.Context,
    tune: Annotated[int, typer.Option("--tune", min=0, help="Ray Tune search with this many trials (0: none).")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON only.")] = False,
) -> None:
    """Train the customer/deal scorer on deals closed before the holdout cut-off; measure; register."""
    from talktrack.training.customer import TrainingDataError, train_customer

    app: AppContext = ctx.obj
    started_ray = _start_ray(app) if tune else False
    try:
        if as_json:
            result = train_customer(app.catalog, app.settings, app.workspace, tune_trials=tune)
        else:
            with progress_hook(app.console) as hook:
                result = train_customer(app.catalog, app.settings, app.workspace, tune_trials=tune, hook=hook)
    except TrainingDataError as exc:
        fail(str(exc))
    finally:
        if started_ray:
            from talktrack.pipelines.ingest.ray_runtime import stop_ray

            stop_ray()
    if as_json:
        typer.echo(json.dumps(result.summary(), indent=2, default=str))
        return
    _print_result(app, result)


@train_app.command("capability")
def train_capability_command(
    ctx: typer.Context,
    register_model: Annotated[bool, typer.Option("--register/--no-register",
                                                 help="Log and register the run in MLflow.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON only.")] = False,
) -> None:
    """Train the capability model (12-dimension radar) on features and surveys; hold out the last months;
    save the estimates in the workspace; register it as talktrack-capability."""
    from talktrack.training.capability import (
        CapabilityTrainingError,
        example_plots,
        register_capability,
        train_capability,
    )

    app: AppContext = ctx.obj
    try:
        if as_json:
            result = train_capability(app.catalog, app.settings, app.workspace)
        else:
            with progress_hook(app.console) as hook:
                result = train_capability(app.catalog, app.settings, app.workspace, progress=hook)
    except CapabilityTrainingError as exc:
        fail(str(exc))
    summary = {"metrics": result.metrics, "features_available": result.availability,
               "holdout_periods": result.holdout_periods, "model_dir": str(result.model_dir)}
    if register_model:
        plots = example_plots(result, result.model_dir / "plots")
        summary["promotion"] = register_capability(app.settings, app.workspace, result, plots).to_dict()
    if as_json:
        typer.echo(json.dumps(summary, indent=2, default=str))
        return
    table = Table(title="Capability model (holdout: features vs surveys, Spearman)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in result.metrics.items():
        table.add_row(name, f"{value:.4f}")
    app.console.print(table)
    app.console.print(f"features available: {result.availability}; estimates in {result.model_dir}")
    if "promotion" in summary:
        promotion = summary["promotion"]
        verdict = "[green]champion[/]" if promotion["promoted"] else "[yellow]rejected[/]"
        app.console.print(f"{promotion['model_name']} v{promotion['version']}: {verdict} — {promotion['reason']}")


def _start_ray(app: AppContext) -> bool:
    from talktrack.pipelines.ingest.ray_runtime import start_ray

    start_ray(app.settings.ray)
    return True


def _print_result(app: AppContext, result) -> None:
    from talktrack.training import registry

    table = Table(title="Customer scorer (holdout)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in result.metrics.items():
        table.add_row(name, f"{value:.4f}")
    app.console.print(table)
    promotion = result.promotion
    verdict = "[green]champion[/]" if promotion.promoted else "[yellow]rejected[/]"
    app.console.print(f"{promotion.model_name} v{promotion.version}: {verdict} — {promotion.reason}")
    app.console.print(f"MLflow UI: mlflow ui --backend-store-uri {registry.tracking_uri(app.settings, app.workspace)}")


@models_app.command("list")
def list_command(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="A registered model (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Every registered version with its alias, status (champion/rejected/...), reason and holdout metrics."""
    from talktrack.training.registry import RegistryError, list_versions

    app: AppContext = ctx.obj
    try:
        rows = list_versions(app.settings, app.workspace, name)
    except RegistryError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    table = Table(title="Registered models")
    for column in ("model", "version", "alias", "status", "holdout", "created", "reason"):
        table.add_column(column)
    for row in rows:
        holdout = ", ".join(f"{key.removeprefix('holdout_')} {value:.3f}" for key, value in row["metrics"].items()
                            if key in ("holdout_auc", "holdout_ece", "holdout_spearman"))
        table.add_row(row["model_name"], row["version"], row["alias"], row["status"], holdout, row["created"],
                      row["reason"])
    app.console.print(table)


@models_app.command("promote")
def promote_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Registered model, e.g. talktrack-customer-scorer.")],
    version: Annotated[str, typer.Argument(help="The version to make champion.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept on the version).")] = "manual promotion",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Make a version champion by hand, bypassing the gate (the reason is recorded)."""
    from talktrack.training.registry import RegistryError, promote

    app: AppContext = ctx.obj
    try:
        result = promote(app.settings, app.workspace, name, version, reason=reason)
    except RegistryError as exc:
        fail(str(exc))
    _report(app, result, as_json)


@models_app.command("rollback")
def rollback_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Registered model, e.g. talktrack-customer-scorer.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON only.")] = False,
) -> None:
    """Give the champion alias back to the version that held it before the current one."""
    from talktrack.training.registry import RegistryError, rollback

    app: AppContext = ctx.obj
    try:
        result = rollback(app.settings, app.workspace, name)
    except RegistryError as exc:
        fail(str(exc))
    _report(app, result, as_json)


def _report(app: AppContext, result: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    app.console.print(f"{result['model_name']}: champion is now v{result['champion']} "
                      f"(was {'v' + result['champion_before'] if result['champion_before'] else 'none'})")
