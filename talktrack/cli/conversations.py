"""``talktrack conversations DEAL --last 3 --topic competitor`` (what ``GET /v1/deals/{id}/conversations``
answers) and ``talktrack eval conversations`` (topic-in-conversation precision/recall per channel on a
generated world's imported chats, beside real chats), registered by :func:`register`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from talktrack.cli.context import AppContext, fail
from talktrack.cli.evaluate import eval_app


def register(app: typer.Typer) -> None:
    app.command("conversations")(conversations_command)
    eval_app.command("conversations")(eval_conversations_command)


def _models(app_ctx: AppContext, kind: str):
    from talktrack.pipelines.conversations import TopicModels
    from talktrack.pipelines.semantic.moments import load_detector, moment_embedder
    from talktrack.pipelines.semantic.sop_checker import checker

    s, ws = app_ctx.settings, app_ctx.workspace
    return TopicModels(detector=load_detector(s, ws) if kind in ("objection", "all") else None,
                       checker=checker(app_ctx.catalog, s, ws) if kind in ("key_question", "all") else None,
                       embedder=moment_embedder(s, ws) if kind in ("text", "all") else None)


def conversations_command(
    ctx: typer.Context,
    deal: Annotated[str, typer.Argument(help="The deal's external id; its customer's conversations are read.")],
    topic: Annotated[str, typer.Option(help="An objection type (competitor), a key question (budget) or free "
                                            "text; prefix objection:, key_question: or text: to force the kind.")],
    last: Annotated[int, typer.Option(min=1, help="How many of the newest conversations.")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
) -> None:
    """The customer's last N conversations (calls, chats, e-mails), and whether and where TOPIC came up."""
    from talktrack.pipelines.conversations import ConversationsError, TopicError, parse_topic, topic_in_conversations

    app_ctx: AppContext = ctx.obj
    try:
        parsed = parse_topic(app_ctx.settings, topic)
        answer = topic_in_conversations(app_ctx.catalog, app_ctx.settings, deal, f"{parsed.kind}:{parsed.key}",
                                        last=last, models=_models(app_ctx, parsed.kind))
    except (ConversationsError, TopicError) as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(answer, indent=2, ensure_ascii=False))
        return
    _print(app_ctx, answer)


def _print(app_ctx: AppContext, answer: dict) -> None:
    topic = answer["topic"]
    table = Table(title=f"{answer['deal_id']} · {answer['customer']}: {topic['kind']} {topic['key']!r} in the "
                        f"last {answer['count']} conversations — found in {answer['found_in']}")
    for column in ("conversation", "deal", "channel", "when", "stage", "found", "where"):
        table.add_column(column)
    for conv in answer["conversations"]:
        where = "\n".join(f"#{p['seq']} {p['role']}: {p['text']}" for p in conv["passages"]) or "—"
        table.add_row(conv["id"], conv["deal_id"] or "", conv["channel"], (conv["started_at"] or "")[:16], conv["stage"] or "",
                      "yes" if conv["topic_found"] else "no", where)
    app_ctx.console.print(table)


def eval_conversations_command(
    ctx: typer.Context,
    chats: Annotated[Path, typer.Option(help="The world's chats folder (holds chat_truth.json), already "
                                             "imported into this workspace with import-chats.")],
    data: Annotated[Path | None, typer.Option(help="The shared real data (PersuasionForGood); default: "
                                                   "../shared/data beside the repository.")] = None,
    out: Annotated[Path | None, typer.Option(help="Write the JSON here (e.g. bench/results/conversations.json).")] = None,
) -> None:
    """Topic-in-conversation precision/recall per channel on generated chats, beside real chats."""
    from talktrack.evaluation.conversations import run
    from talktrack.evaluation.semantic.moments_phrasing import SHARED_DATA

    app_ctx: AppContext = ctx.obj
    if not (chats / "chat_truth.json").is_file():
        fail(f"{chats}: no chat_truth.json (write one with `talktrack world chats`)")
    report = run(app_ctx.catalog, app_ctx.settings, chats, data or SHARED_DATA, _models(app_ctx, "all"))
    text = json.dumps(report, indent=2, ensure_ascii=False)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n", encoding="utf-8")
    typer.echo(text)
