"""A plain chat export, CSV or JSON Lines, one message per row: ``time, sender, receivers, text``.

What WeChat export tools and other messengers can all be brought to. Optional columns: ``id`` (a message
id; without one a row is keyed by a hash of its four fields, so a re-import still adds nothing), ``room``
(a group chat's id) and ``type`` (``text`` by default; ``revoke`` with the revoked id in ``text``).
Receivers are separated by ``;``, ``,`` or ``|``. Times are ISO 8601 (an offset is honoured; none means
UTC), ``YYYY/MM/DD HH:MM[:SS]``, or seconds / milliseconds since 1970. Chinese headers (时间, 发送人,
接收人, 内容) are read as their English names.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from talktrack.pipelines.chat_import.records import BadRow, ParsedMessage, RowError, from_epoch, utc_naive
from talktrack.pipelines.chat_import.text_files import undecodable

REQUIRED = ("time", "sender", "receivers", "text")
ALIASES = {"时间": "time", "发送人": "sender", "发送者": "sender", "from": "sender", "接收人": "receivers",
           "接收者": "receivers", "to": "receivers", "内容": "text", "content": "text", "msgid": "id",
           "消息id": "id", "群id": "room"}
_RECEIVER_SPLIT = re.compile(r"[;,|；，]")


def read_plain_csv(path: Path, text: str) -> Iterator[ParsedMessage | BadRow]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [_column(name) for name in next(reader)]
    except StopIteration:
        return
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        yield BadRow(path.name, 1, f"header lacks column(s) {missing}; a plain chat export needs {list(REQUIRED)}")
        return
    line = reader.line_num + 1
    for values in reader:
        if any(value.strip() for value in values):
            yield _row(path, line, dict(zip(header, values, strict=False)) if len(values) == len(header)
                       else f"has {len(values)} fields, the header has {len(header)}")
        line = reader.line_num + 1


def read_plain_jsonl(path: Path, text: str) -> Iterator[ParsedMessage | BadRow]:
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield BadRow(path.name, line, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        if not isinstance(value, dict):
            yield BadRow(path.name, line, f"a line must be a JSON object, not {type(value).__name__}")
            continue
        yield _row(path, line, {_column(key): item for key, item in value.items()})


def _column(name: str) -> str:
    name = name.strip().lstrip("\ufeff")
    return ALIASES.get(name.lower(), ALIASES.get(name, name.lower()))


def _row(path: Path, line: int, fields: dict[str, Any] | str) -> ParsedMessage | BadRow:
    try:
        if isinstance(fields, str):
            raise RowError(fields)
        return parse_plain(fields, path, line)
    except RowError as exc:
        return BadRow(path.name, line, str(exc))


def parse_plain(fields: dict[str, Any], path: Path, line: int) -> ParsedMessage:
    for value in fields.values():
        problem = undecodable(value) if isinstance(value, str) else None
        if problem:
            raise RowError(problem)
    sender = str(fields.get("sender") or "").strip()
    if not sender:
        raise RowError("sender is empty")
    receivers = _receivers(fields.get("receivers"))
    sent_at = parse_time(fields.get("time"))
    text = str(fields.get("text") or "").strip()
    kind = str(fields.get("type") or "text").strip().lower()
    if kind not in ("text", "revoke"):
        raise RowError(f"type {kind!r} is not one of: text, revoke")
    if not text:
        raise RowError("text is empty")
    key = str(fields.get("id") or "").strip() or _row_key(sent_at, sender, receivers, text)
    message = ParsedMessage(key, "chat", kind, sender, receivers, sent_at, str(path), line,
                            room_id=str(fields.get("room") or "").strip() or None)
    if kind == "revoke":
        message.revokes = text
    else:
        message.text = text
    return message


def _receivers(value: Any) -> list[str]:
    if isinstance(value, list):
        items = [str(item) for item in value]
    else:
        items = _RECEIVER_SPLIT.split(str(value or ""))
    receivers = [item.strip() for item in items if item.strip()]
    if not receivers:
        raise RowError("receivers is empty")
    return receivers


def parse_time(value: Any) -> datetime:
    """A message time as naive UTC (see the module docstring for the accepted forms)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return from_epoch(float(value))
    text = str(value or "").strip()
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        return from_epoch(float(text))
    try:
        return utc_naive(datetime.fromisoformat(text.replace("/", "-")))
    except ValueError:
        raise RowError(f"time = {text!r}: expected ISO 8601 (2025-03-01 09:30:00+08:00) or epoch seconds") from None


def _row_key(sent_at: datetime, sender: str, receivers: list[str], text: str) -> str:
    digest = hashlib.sha256("\x1f".join([sent_at.isoformat(), sender, *receivers, text]).encode()).hexdigest()
    return f"plain:{digest[:32]}"
