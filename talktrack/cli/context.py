"""What every command gets: validated settings, the workspace, and a lazily opened catalog."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

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
