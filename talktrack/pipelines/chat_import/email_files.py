"""E-mail: ``.eml`` files (one message each) and ``.mbox`` mailboxes, read with the standard library.

A message becomes one :class:`ParsedMessage` keyed by its ``Message-ID``: sender from ``From``,
receivers from ``To`` and ``Cc``, its time from ``Date``, the new text of its plain-text body (the quoted
earlier mails below "On ... wrote:" / "-----Original Message-----" / "-----原始邮件-----" / ``>`` lines and
the signature below a sign-off line such as "Best regards," or "祝好" are cut, so a thread's text is counted
once), and its attachments with their bytes. Bodies declared as
GB2312 or GBK are decoded as GB18030, their superset, because mail clients declare the narrower name
for text that uses the wider one.
"""

from __future__ import annotations

import hashlib
import mailbox
import re
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path

from talktrack.pipelines.chat_import.records import Attachment, BadRow, ParsedMessage, RowError, utc_naive

WIDER_CHARSET = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030"}
_QUOTE_START = re.compile(
    r"^(On .{4,200} wrote:|-{2,}\s*Original Message\s*-{2,}|-{2,}\s*原始邮件\s*-{2,}|在.{4,100}写道[:：]"
    r"|From:\s.+|发件人[:：].+)\s*$",
    re.IGNORECASE,
)

_SIGN_OFF = re.compile(r"^(best( regards| wishes)?|(kind |warm )?regards|cheers|sincerely|祝好|此致|顺祝商祺)"
                       r"\s*[,，!！.。]?$", re.IGNORECASE)


def read_eml(path: Path) -> Iterator[ParsedMessage | BadRow]:
    data = path.read_bytes()
    yield _safe(lambda: parse_email(BytesParser(policy=policy.default).parsebytes(data), data, path, 1), path, 1)


def read_mbox(path: Path) -> Iterator[ParsedMessage | BadRow]:
    box = mailbox.mbox(path, factory=None, create=False)
    try:
        for number, key in enumerate(box.iterkeys(), start=1):
            data = box.get_bytes(key)
            message = BytesParser(policy=policy.default).parsebytes(data)
            yield _safe(lambda m=message, d=data, n=number: parse_email(m, d, path, n), path, number)
    finally:
        box.close()


def _safe(parse, path: Path, line: int) -> ParsedMessage | BadRow:
    try:
        return parse()
    except RowError as exc:
        return BadRow(path.name, line, str(exc))
    except (ValueError, LookupError, TypeError) as exc:  # malformed headers the parser let through
        return BadRow(path.name, line, f"malformed e-mail: {exc}")


def parse_email(message: EmailMessage, data: bytes, path: Path, line: int) -> ParsedMessage:
    sender = _addresses(message, "From")
    if not sender:
        raise RowError("no sender address in From")
    receivers = _addresses(message, "To") + _addresses(message, "Cc")
    if not receivers:
        raise RowError("no receiver address in To or Cc")
    body, attachments = _body_and_files(message)
    subject = str(message.get("Subject") or "").strip() or None
    if not body and not attachments and not subject:
        raise RowError("no text body, subject or attachment")
    return ParsedMessage(
        external_id=_message_id(message, data), channel="email", msgtype="email", sender=sender[0],
        receivers=receivers, sent_at=_date(message), source=str(path), line=line, text=body or subject,
        subject=subject, attachments=attachments,
    )


def _addresses(message: EmailMessage, header: str) -> list[str]:
    values = [str(value) for value in message.get_all(header, [])]
    return [address.strip().lower() for _, address in getaddresses(values) if "@" in address]


def _message_id(message: EmailMessage, data: bytes) -> str:
    value = str(message.get("Message-ID") or "").strip().strip("<>").strip()
    return value or f"eml:{hashlib.sha256(data).hexdigest()[:32]}"


def _date(message: EmailMessage):
    raw = message.get("Date")
    if raw is None:
        raise RowError("no Date header")
    try:
        return utc_naive(parsedate_to_datetime(str(raw)))
    except (TypeError, ValueError):
        raise RowError(f"Date {str(raw)!r} is not an RFC 5322 date") from None


def _body_and_files(message: EmailMessage) -> tuple[str, list[Attachment]]:
    plain, html, files = [], [], []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename()
        if filename or part.get_content_disposition() == "attachment":
            data = part.get_payload(decode=True) or b""
            kind = "image" if part.get_content_maintype() == "image" else "file"
            files.append(Attachment(kind, name=filename, size=len(data), data=data))
        elif part.get_content_type() == "text/plain":
            plain.append(_part_text(part))
        elif part.get_content_type() == "text/html":
            html.append(_html_text(_part_text(part)))
    body = "\n".join(plain) if plain else "\n".join(html)
    return new_text(body), files


def _part_text(part: EmailMessage) -> str:
    data = part.get_payload(decode=True) or b""
    charset = (part.get_content_charset() or "utf-8").lower()
    try:
        return data.decode(WIDER_CHARSET.get(charset, charset), errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")


def new_text(body: str) -> str:
    """The text a mail adds: up to its sign-off or the first quoted earlier mail, without ``>`` lines and
    blank runs (a signature's name and phone say nothing about the deal)."""
    kept = []
    for line in body.replace("\r\n", "\n").split("\n"):
        if _QUOTE_START.match(line.strip()) or _SIGN_OFF.match(line.strip()):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("br", "p", "div", "li", "tr"):
            self.parts.append("\n")


def _html_text(html: str) -> str:
    parser = _TextOnly()
    parser.feed(html)
    return "".join(parser.parts)
