"""Write generated conversations as the exports people bring: a WeCom archive (JSON Lines, media beside it),
a plain chat CSV (Chinese threads in GB18030, as Excel on a Chinese Windows saves them), ``.eml`` files,
and the address files (``contacts.csv``, ``rep_accounts.csv``). Bytes depend only on the conversations."""

from __future__ import annotations

import csv
import hashlib
import json
from datetime import timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from talktrack.evaluation.world_chats import phrases
from talktrack.evaluation.world_chats.accounts import Account
from talktrack.evaluation.world_chats.compose import Conversation, Line, epoch_ms
from talktrack.evaluation.world_chats.voice import voice_message

LOCAL_ZONES = {"zh": timezone(timedelta(hours=8)), "en": timezone(timedelta(hours=-8))}
VOICE_CODECS = {"en": "amr", "zh": "silk"}


def write_people(out: Path, reps: dict[str, Account], contacts: dict[str, list[Account]]) -> None:
    with open(out / "contacts.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["contact_id", "customer_id", "name", "title", "email", "phone", "wecom_id"])
        for people in contacts.values():
            for person in people:
                writer.writerow([person.person_id, person.customer_id, person.name, person.title, person.email,
                                 person.phone, person.wecom])
    with open(out / "rep_accounts.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["rep_id", "wecom_id", "phone", "email"])
        for rep in reps.values():
            writer.writerow([rep.person_id, rep.wecom, rep.phone, ""])


def _who(conv: Conversation, role: str, field: str) -> str:
    if role == "colleague":
        return conv.colleague or ""
    return getattr(conv.rep if role == "rep" else conv.contact, field)


def write_wecom(folder: Path, conversations: list[Conversation]) -> int:
    """``archive.jsonl`` (all WeCom messages in time order) and ``media/``; the number of lines written."""
    media = folder / "media"
    media.mkdir(parents=True, exist_ok=True)
    records = []
    for conv in conversations:
        for line in conv.lines:
            records.append((line.at, line.msg_id, _wecom_record(conv, line, media)))
    records.sort(key=lambda item: (item[0], item[1]))
    with open(folder / "archive.jsonl", "w", encoding="utf-8", newline="\n") as handle:
        for _, _, record in records:
            handle.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
    return len(records)


def _wecom_record(conv: Conversation, line: Line, media: Path) -> dict:
    sender = _who(conv, line.role, "wecom")
    everyone = [conv.rep.wecom, conv.contact.wecom] + ([conv.colleague] if conv.colleague else [])
    record = {"msgid": line.msg_id, "action": "recall" if line.kind == "revoke" else "send", "from": sender,
              "tolist": [person for person in everyone if person != sender], "roomid": conv.room_id or "",
              "msgtime": epoch_ms(line.at), "msgtype": line.kind if line.kind != "text" else "text"}
    if line.kind == "revoke":
        record["revoke"] = {"pre_msgid": line.revokes}
    elif line.kind == "voice":
        data = voice_message(line.text, conv.language, VOICE_CODECS[conv.language])
        md5 = _store(media, data, f".{VOICE_CODECS[conv.language]}")
        record["voice"] = {"md5sum": md5, "voice_size": len(data), "play_length": max(1, len(line.text) // 6),
                           "sdkfileid": _sdkfileid(md5)}
    elif line.kind == "file":
        data = _file_bytes(conv, line)
        md5 = _store(media, data, Path(line.file_name).suffix)
        record["file"] = {"md5sum": md5, "filename": line.file_name, "fileext": Path(line.file_name).suffix[1:],
                          "filesize": len(data), "sdkfileid": _sdkfileid(md5)}
    else:
        record["text"] = {"content": line.text}
    return record


def _store(media: Path, data: bytes, suffix: str) -> str:
    md5 = hashlib.md5(data).hexdigest()  # noqa: S324 - WeCom names media by md5sum
    (media / f"{md5}{suffix}").write_bytes(data)
    return md5


def _sdkfileid(md5: str) -> str:
    return "Cts" + hashlib.sha256(md5.encode()).hexdigest()[:40]


def _file_bytes(conv: Conversation, line: Line) -> bytes:
    return f"{line.file_name}\n{conv.deal.title}\n{conv.contact.name}\n{line.at.date().isoformat()}\n".encode()


def write_plain(folder: Path, conversations: list[Conversation]) -> int:
    """``chats.csv`` (UTF-8, English threads) and ``chats_gb18030.csv`` (Chinese threads in GB18030)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for language, name, encoding in (("en", "chats.csv", "utf-8"), ("zh", "chats_gb18030.csv", "gb18030")):
        rows = sorted((line.at, line.msg_id, _plain_row(conv, line)) for conv in conversations
                      if conv.language == language for line in conv.lines)
        with open(folder / name, "w", encoding=encoding, newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["id", "time", "sender", "receivers", "text", "type"])
            writer.writerows(row for _, _, row in rows)
        written += len(rows)
    return written


def _plain_row(conv: Conversation, line: Line) -> list[str]:
    other = "customer" if line.role == "rep" else "rep"
    local = line.at.replace(tzinfo=timezone.utc).astimezone(LOCAL_ZONES[conv.language])
    text = line.revokes if line.kind == "revoke" else line.text
    return [line.msg_id, local.isoformat(), _who(conv, line.role, "phone"), _who(conv, other, "phone"), text,
            "revoke" if line.kind == "revoke" else "text"]


def write_emails(folder: Path, conversations: list[Conversation]) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    written = 0
    for conv in conversations:
        subject = phrases.EMAIL_SUBJECTS[conv.language][len(conv.lines) % 4].format(product=conv.deal.title)
        previous: tuple[Line, str, str] | None = None  # (line, its From header, its text)
        for number, line in enumerate(conv.lines):
            mail, text = _email(conv, line, subject if number == 0 else _reply(subject, conv.language), previous)
            (folder / f"{conv.conv_id}_{number + 1}.eml").write_bytes(mail.as_bytes())
            previous = (line, mail["From"], text)
            written += 1
    return written


def _reply(subject: str, language: str) -> str:
    return ("回复：" if language == "zh" else "Re: ") + subject


def _email(conv: Conversation, line: Line, subject: str,
           previous: tuple[Line, str, str] | None) -> tuple[EmailMessage, str]:
    sender, receiver = (conv.rep, conv.contact) if line.role == "rep" else (conv.contact, conv.rep)
    values = {"first": conv.contact.first, "rep": conv.rep.first}
    greeting = phrases.EMAIL_GREETINGS[conv.language][line.role].format(**values)
    signoff = phrases.EMAIL_SIGNOFFS[conv.language].format(name=sender.name, phone=sender.phone)
    body = line.text if line.kind != "file" else ("附件请查收。" if conv.language == "zh" else "Please see attached.")
    text = f"{greeting}\n\n{body}\n\n{signoff}\n"
    if previous is not None:
        quoted = "\n".join(f"> {row}" for row in previous[2].splitlines())
        when = format_datetime(previous[0].at.replace(tzinfo=timezone.utc))
        text += f"\nOn {when}, {previous[1]} wrote:\n{quoted}\n"
    mail = EmailMessage()
    mail["From"] = f"{sender.name} <{sender.email}>"
    mail["To"] = f"{receiver.name} <{receiver.email}>"
    mail["Subject"] = subject
    mail["Date"] = format_datetime(line.at.replace(tzinfo=timezone.utc).astimezone(LOCAL_ZONES[conv.language]))
    mail["Message-ID"] = f"<{line.msg_id}>"
    if previous is not None:
        mail["In-Reply-To"] = f"<{previous[0].msg_id}>"
    charset = "gb18030" if conv.language == "zh" and int(line.msg_id[:2], 16) % 3 == 0 else "utf-8"
    mail.set_content(text, charset=charset)
    if line.file_name:
        mail.add_attachment(_file_bytes(conv, line), maintype="application", subtype="octet-stream",
                            filename=line.file_name)
        mail.set_boundary(f"=_{line.msg_id.split('@')[0]}")  # not random: the same seed gives the same bytes
    return mail, text
