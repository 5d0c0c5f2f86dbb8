"""Which files of a folder are chat or e-mail exports, and which reader each goes to.

``.eml`` and ``.mbox`` are e-mail; ``.jsonl`` / ``.json`` (JSON Lines) is a WeCom archive when its first
object has ``msgid`` and ``msgtype`` (or ``action``), else a plain chat export like ``.csv``. The people
files (``contacts.csv``, ``rep_accounts.csv``), ``media/`` folders and truth files are not messages.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from talktrack.pipelines.chat_import.email_files import read_eml, read_mbox
from talktrack.pipelines.chat_import.plain import read_plain_csv, read_plain_jsonl
from talktrack.pipelines.chat_import.records import BadRow, ParsedMessage
from talktrack.pipelines.chat_import.text_files import read_text
from talktrack.pipelines.chat_import.wecom import MEDIA_DIR, Skipped, looks_like_wecom, read_wecom

MESSAGE_SUFFIXES = (".jsonl", ".json", ".csv", ".eml", ".mbox")
PEOPLE_FILES = ("contacts.csv", "rep_accounts.csv")


@dataclass(frozen=True)
class SourceFile:
    path: Path
    kind: str  # wecom | plain | email
    encoding: str | None = None


def message_files(root: Path) -> list[Path]:
    """The export files under ``root`` (itself when it is a file), in a stable order."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such file or folder")
    found = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or path.suffix.lower() not in MESSAGE_SUFFIXES:
            continue
        if MEDIA_DIR in relative.parts[:-1] or path.name in PEOPLE_FILES or "truth" in path.stem:
            continue
        found.append(path)
    return found


def read_file(path: Path, encoding: str | None = None) -> tuple[SourceFile, Iterator[ParsedMessage | BadRow | Skipped]]:
    """The file's kind and its messages, bad rows and skipped types, in file order."""
    suffix = path.suffix.lower()
    if suffix == ".eml":
        return SourceFile(path, "email"), read_eml(path)
    if suffix == ".mbox":
        return SourceFile(path, "email"), read_mbox(path)
    if suffix not in MESSAGE_SUFFIXES:
        raise ValueError(f"{path.name}: not a chat or e-mail export (accepted: {', '.join(MESSAGE_SUFFIXES)})")
    text, used = read_text(path, encoding)
    if suffix == ".csv":
        return SourceFile(path, "plain", used), read_plain_csv(path, text)
    if _is_wecom(text):
        return SourceFile(path, "wecom", used), read_wecom(path, text)
    return SourceFile(path, "plain", used), read_plain_jsonl(path, text)


def _is_wecom(text: str) -> bool:
    for raw in text.splitlines():
        if raw.strip():
            try:
                first = json.loads(raw)
            except json.JSONDecodeError:
                continue
            return isinstance(first, dict) and looks_like_wecom(first)
    return False
