"""What every command gets: validated settings, the workspace, a lazily opened catalog, and one way to fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import NoReturn

import typer
from rich.console import Console

from talktrack.core.catalog import Catalog, open_catalog
from talktrack.core.config import Settings
from talktrack.core.workspace import Workspace


@dataclass
class AppContext:
    settings: Settings
    console: Console = field(default_factory=Console)

    @cached_property
    def workspace(self) -> Workspace:
        return Workspace.at(self.settings.workspace).ensure()

    @cached_property
    def catalog(self) -> Catalog:
        url = self.settings.catalog.url or self.workspace.catalog_url
        return open_catalog(url, echo=self.settings.catalog.echo_sql)


def fail(message: str, code: int = 2) -> NoReturn:
    """Stop the command with ``error: message`` on stderr and exit ``code`` (2: bad input or state)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)
