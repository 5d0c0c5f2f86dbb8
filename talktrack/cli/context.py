"""What every command gets: validated settings, the workspace, a lazily opened catalog, and one way to fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, NoReturn

import typer
from rich.console import Console

from talktrack.core.config import Settings
from talktrack.core.workspace import Workspace

if TYPE_CHECKING:
    from talktrack.core.catalog import Catalog


@dataclass
class AppContext:
    settings: Settings
    console: Console = field(default_factory=Console)

    @cached_property
    def workspace(self) -> Workspace:
        return Workspace.at(self.settings.workspace).ensure()

    @cached_property
    def catalog(self) -> Catalog:
        # imported here: SQLAlchemy and Alembic take ~0.5 s, which `transcribe` (files only) never needs
        from talktrack.core.catalog import open_catalog

        url = self.settings.catalog.url or self.workspace.catalog_url
        return open_catalog(url, echo=self.settings.catalog.echo_sql)

    def require_team(self, team: str | None) -> None:
        """A ``--team`` filter must name a known team: a typo would otherwise print an empty report."""
        from talktrack.pipelines import stage_timers

        if team is not None and not stage_timers.team_exists(self.catalog, team):
            fail(f"unknown team {team!r}")


def fail(message: str, code: int = 2) -> NoReturn:
    """Stop the command with ``error: message`` on stderr and exit ``code`` (2: bad input or state)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def validation_problems(error, whole: str = "input") -> str:
    """A pydantic ValidationError as one line, ``field: message; ...`` (``whole`` names a model-level error)."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or whole}: {e['msg']}" for e in error.errors())
