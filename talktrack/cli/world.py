"""``talktrack world generate``: the seeded sales world, wired to the validated settings."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError

from talktrack.cli.context import AppContext, validation_problems
from talktrack.cli.progress import progress_hook
from talktrack.core.clock import utcnow
from talktrack.core.config import Settings
from talktrack.evaluation.world import Taxonomy, WorldSpec, generate_world


def taxonomy_from_settings(settings: Settings) -> Taxonomy:
    """The generator writes in the configured stages, dimensions, objection types and moves."""
    return Taxonomy.from_config(settings.model_dump(mode="json", by_alias=True))


def build_spec(**fields) -> WorldSpec:
    try:
        return WorldSpec(**fields)
    except ValidationError as exc:
        raise typer.BadParameter(validation_problems(exc, "world")) from None


def generate_world_command(app: AppContext, out: Path, *, lang: str, as_of: str | None, **sizes: int) -> None:
    """The world ends on ``as_of`` (today when not given), so its open deals are open *now*."""
    spec = build_spec(languages=lang, as_of=as_of or utcnow().date(), **sizes)
    try:
        with progress_hook(app.console) as hook:
            summary = generate_world(spec, out, taxonomy_from_settings(app.settings), progress=hook)
    except (RuntimeError, ValueError, FileExistsError) as exc:  # espeak-ng missing, taxonomy, occupied folder
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    counts = ", ".join(f"{count} {name}" for name, count in summary.counts.items())
    app.console.print(f"wrote {counts} to {summary.out_dir} in {summary.seconds:.1f} s (seed {spec.seed})")
    app.console.print(f"hidden truth: {summary.out_dir / 'truth.json'} (never read by the platform)")
