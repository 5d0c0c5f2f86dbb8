"""CLI commands of the semantic layer: index (registered on the main app by :func:`register`)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``talktrack`` app."""
