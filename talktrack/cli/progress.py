"""Terminal rendering shared by commands: the progress hook of our pipelines, the workspace summary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


@contextmanager
def progress_hook(console: Console) -> Iterator:
    """Yield a callable ``hook(step, done, total)`` that drives one bar per step."""
    bars = Progress(
        TextColumn("[bold]{task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
    tasks: dict[str, int] = {}

    def hook(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = bars.add_task(step, total=total)
        bars.update(tasks[step], completed=done, total=total)

    with bars:
        yield hook


def print_workspace_summary(console: Console, root, summary: dict) -> None:
    """What :func:`talktrack.core.catalog.summary.summarize` found, as one table."""
    table = Table(title=f"Workspace {root}")
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, count in summary["entities"].items():
        table.add_row(name, str(count))
    for group, label in (("calls_by_status", "calls"), ("deals_by_status", "deals"), ("deals_by_stage", "deals in")):
        for name, count in summary[group].items():
            table.add_row(f"{label} {name}", str(count))
    console.print(table)
