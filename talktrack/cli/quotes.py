"""``talktrack quotes ...``: watermarked quotes and proposals (registered on the main app by :func:`register`).

``quotes issue --deal D FILE.pdf --out STAMPED.pdf`` stamps and records a quote; ``quotes verify
--deal D FILE.pdf`` says whether a file is a quote TalkTrack issued for that deal, unaltered;
``quotes list --deal D`` lists what was issued.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from talktrack.cli.context import AppContext, fail

quotes_app = typer.Typer(help="Watermarked quotes and proposals: issue one for a deal, check a file.",
                         no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``talktrack`` app."""
    app.add_typer(quotes_app, name="quotes")


DealOption = Annotated[str, typer.Option("--deal", help="The deal (external id, e.g. DEAL-00042).")]


@quotes_app.command("issue")
def issue_command(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="The quote or proposal PDF to stamp.")],
    deal: DealOption,
    out: Annotated[Path, typer.Option("--out", help="Where to write the stamped PDF.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the issued quote as JSON.")] = False,
) -> None:
    """Stamp a PDF with TalkTrack's watermark for a deal and record it (the deal's next version)."""
    from talktrack.pipelines.quotes import QuoteError, issue_quote

    app: AppContext = ctx.obj
    if out.resolve() == source.resolve():
        fail("--out must be another file than the source (the original is kept as it is)")
    try:
        info = issue_quote(app.catalog, deal, source, out)
    except QuoteError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(info.to_dict(), indent=2, ensure_ascii=False))
        return
    app.console.print(f"issued {info.quote_id} (version {info.version}) for deal {deal} / customer "
                      f"{info.customer_id}: {info.page_count} page(s) → {out}", highlight=False)


@quotes_app.command("verify")
def verify_command(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="The PDF handed in as this deal's quote or proposal.")],
    deal: DealOption,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """Is this a quote TalkTrack issued for the deal, unaltered? Exit 1 when flagged, with the reasons."""
    from talktrack.pipelines.quotes import QuoteError, check_quote

    app: AppContext = ctx.obj
    try:
        check = check_quote(app.catalog, deal, path)
    except QuoteError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(check.to_dict(), indent=2, ensure_ascii=False))
    else:
        quote = f" (quote {check.quote.quote_id}, version {check.quote.version})" if check.quote else ""
        verdict = "[green]genuine[/]" if check.genuine else "[red]flagged[/]"
        app.console.print(f"{path.name} for deal {deal}: {verdict}{quote}")
        for reason in check.reasons:
            app.console.print(f" - {reason.code}: {reason.message}", highlight=False, markup=False)
    if not check.genuine:
        raise typer.Exit(1)


@quotes_app.command("list")
def list_command(ctx: typer.Context, deal: DealOption,
                 as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """The quotes issued for a deal, newest first."""
    from talktrack.pipelines.quotes import QuoteError, list_quotes

    app: AppContext = ctx.obj
    try:
        quotes = list_quotes(app.catalog, deal)
    except QuoteError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps([q.to_dict() for q in quotes], indent=2, ensure_ascii=False))
        return
    table = Table(title=f"Quotes issued for {deal}")
    for column in ("quote", "version", "file", "pages", "issued at", "by"):
        table.add_column(column)
    for q in quotes:
        table.add_row(q.quote_id, str(q.version), q.filename or "", str(q.page_count),
                      q.issued_at.isoformat(timespec="seconds"), q.issued_by or "")
    app.console.print(table)
