"""WeCom conversation-archive messages (会话内容存档): one decrypted JSON object per message.

Each object has ``msgid``, ``action`` (send / recall / switch), ``from``, ``tolist``, ``roomid`` (empty for
a one-to-one chat), ``msgtime`` (UTC milliseconds) and ``msgtype``, plus one key named after the type with
its payload: ``text.content``; ``voice`` / ``image`` / ``file`` with ``md5sum``, sizes and the
``sdkfileid`` the archive API serves the bytes under; ``revoke.pre_msgid``; ``mixed.item`` as a list of
``{type, content}`` whose content is itself JSON. The bytes of media are not in the messages: an export
keeps them beside the file in ``media/``, named by md5sum, msgid or sdkfileid (any extension), or names
the file in the payload's ``path``. Types that carry no conversation (agree, card, emotion, ...) are
skipped and counted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from talktrack.pipelines.chat_import.records import Attachment, BadRow, ParsedMessage, RowError, from_epoch
from talktrack.pipelines.chat_import.text_files import undecodable

MEDIA_DIR = "media"
CONVERSATION_TYPES = ("text", "voice", "file", "image", "mixed", "revoke")


class Skipped(Exception):
    """A message of a type that carries no conversation; counted, not an error."""


def looks_like_wecom(first: dict[str, Any]) -> bool:
    return "msgid" in first and ("msgtype" in first or "action" in first)


def read_wecom(path: Path, text: str) -> Iterator[ParsedMessage | BadRow | Skipped]:
    """Each line of ``text`` as a message, a bad row, or a skipped type."""
    for line_no, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            problem = undecodable(raw)
            if problem:
                raise RowError(problem)
            yield parse_wecom(_json_object(raw), path, line_no)
        except RowError as exc:
            yield BadRow(path.name, line_no, str(exc))
        except Skipped as skipped:
            yield skipped


def _json_object(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RowError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(value, dict):
        raise RowError(f"a line must be a JSON object, not {type(value).__name__}")
    return value


def parse_wecom(obj: dict[str, Any], path: Path, line: int) -> ParsedMessage:
    msgid = _text_field(obj, "msgid")
    if obj.get("action") == "switch":
        raise Skipped("switch")
    msgtype = _text_field(obj, "msgtype")
    if msgtype not in CONVERSATION_TYPES:
        raise Skipped(msgtype)
    tolist = obj.get("tolist") or []
    if not isinstance(tolist, list) or not all(isinstance(item, str) for item in tolist):
        raise RowError("tolist must be a list of user ids")
    message = ParsedMessage(
        external_id=msgid, channel="chat", msgtype=msgtype, sender=_text_field(obj, "from"),
        receivers=list(tolist), sent_at=_msgtime(obj), source=str(path), line=line,
        room_id=obj.get("roomid") or None,
    )
    _fill_payload(message, obj, path.parent)
    return message


def _text_field(obj: dict[str, Any], name: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str) or not value.strip():
        raise RowError(f"{name} is missing or empty")
    return value.strip()


def _msgtime(obj: dict[str, Any]) -> Any:
    value = obj.get("msgtime")
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise RowError(f"msgtime = {value!r}: expected UTC milliseconds since 1970")
    return from_epoch(float(value))


def _payload(obj: dict[str, Any], key: str) -> dict[str, Any]:
    payload = obj.get(key)
    if not isinstance(payload, dict):
        raise RowError(f"msgtype {key!r} without its {key!r} object")
    return payload


def _fill_payload(message: ParsedMessage, obj: dict[str, Any], folder: Path) -> None:
    kind = message.msgtype
    if kind == "text":
        message.text = str(_payload(obj, "text").get("content") or "").strip()
        if not message.text:
            raise RowError("text message with empty text.content")
    elif kind == "revoke":
        pre = _payload(obj, "revoke").get("pre_msgid")
        if not isinstance(pre, str) or not pre:
            raise RowError("revoke without revoke.pre_msgid")
        message.revokes = pre
    elif kind == "mixed":
        _fill_mixed(message, _payload(obj, "mixed"), folder)
    else:
        message.attachments.append(_media(kind, _payload(obj, kind), message.external_id, folder))


def _fill_mixed(message: ParsedMessage, payload: dict[str, Any], folder: Path) -> None:
    texts = []
    for number, item in enumerate(payload.get("item") or []):
        content = item.get("content") if isinstance(item, dict) else None
        if isinstance(content, str):
            try:
                content = json.loads(content)
            except json.JSONDecodeError:
                content = {"content": content}
        if not isinstance(content, dict):
            raise RowError(f"mixed.item[{number}] has no content object")
        kind = item.get("type")
        if kind == "text" and str(content.get("content") or "").strip():
            texts.append(str(content["content"]).strip())
        elif kind in ("image", "file", "voice"):
            message.attachments.append(_media(kind, content, f"{message.external_id}_{number}", folder))
    message.text = "\n".join(texts) or None


def _media(kind: str, payload: dict[str, Any], fallback_name: str, folder: Path) -> Attachment:
    name = payload.get("filename")
    size = payload.get("filesize") or payload.get("voice_size")
    md5 = payload.get("md5sum") or None
    path = _find_media(payload, (md5, fallback_name, payload.get("sdkfileid")), folder)
    return Attachment(kind, name=name, path=path, size=int(size) if isinstance(size, int) else None, md5=md5)


def _find_media(payload: dict[str, Any], stems: tuple[Any, ...], folder: Path) -> Path | None:
    given = payload.get("path")
    if isinstance(given, str) and given:
        candidate = (folder / given).resolve()
        if not candidate.is_file():
            raise RowError(f"path {given!r}: file not found at {candidate}")
        return candidate
    media = folder / MEDIA_DIR
    if not media.is_dir():
        return None
    for stem in stems:
        if isinstance(stem, str) and stem and "/" not in stem:
            found = sorted(media.glob(f"{stem}.*")) or ([media / stem] if (media / stem).is_file() else [])
            if found:
                return found[0]
    return None
