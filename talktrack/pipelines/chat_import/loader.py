"""Import WeCom archives, plain chat exports and e-mail into the catalog.

Step by step: upsert the people files (contacts, rep addresses); read every export file (bad rows are
reported with file, line and reason, the rest go on); apply revokes (the revoked message is never stored,
and removed if it was); store each new message, placed on its deal and stage (a voice message is
transcribed first, files are copied into the workspace as evidence candidates); re-place messages seen
before (a contact added since maps them now); rebuild the conversations of every thread touched.
Keyed by msgid / Message-ID, so importing the same files again adds nothing.

    >>> report = import_chats(catalog, settings, Path("wecom_export"), files_dir=ws.root / "chat_files")
    >>> report.totals()["imported"]                                   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import ChatMessage, Customer, ImportRun, MessageFile, RevokedMessage
from talktrack.core.clock import utcnow
from talktrack.core.config import Settings
from talktrack.core.progress import Progress
from talktrack.pipelines.chat_import.conversations import regroup
from talktrack.pipelines.chat_import.deals import DealFinder
from talktrack.pipelines.chat_import.people import Directory, load_people
from talktrack.pipelines.chat_import.placement import Placement, message_language, place
from talktrack.pipelines.chat_import.records import Attachment, BadRow, ParsedMessage, RowError
from talktrack.pipelines.chat_import.report import ChatImportReport, FileCounts
from talktrack.pipelines.chat_import.sources import message_files, read_file
from talktrack.pipelines.chat_import.voice import VoiceReader
from talktrack.pipelines.chat_import.wecom import Skipped
from talktrack.pipelines.crm_import.report import Problem
from talktrack.pipelines.speech.pii import redact_text

EVIDENCE_KINDS = ("file", "image")  # documents and screenshots may back a stage; voice is transcribed instead


def import_chats(
    catalog: Catalog, settings: Settings, source: Path, *, files_dir: Path, encoding: str | None = None,
    progress: Progress | None = None, voice: VoiceReader | None = None,
) -> ChatImportReport:
    """Import ``source`` (a folder of exports or one file); see the module docstring."""
    root = Path(source).resolve()
    paths = message_files(root)
    report = ChatImportReport(str(root))
    folder = root if root.is_dir() else root.parent
    with catalog.session() as session:
        report.people, bad_people = load_people(session, folder)
    report.problems.extend(Problem(bad.source, bad.line, bad.reason) for bad in bad_people)
    batch = _read_all(paths, encoding, report, progress)
    started = utcnow()
    with catalog.session() as session:
        importer = _Importer(session, settings, report, files_dir, voice or VoiceReader(settings))
        importer.run(batch, progress)
        report.conversations = regroup(session, importer.touched, settings.import_.chat_gap_h)
        session.add(ImportRun(source=f"chats:{root}", started_at=started, finished_at=utcnow(),
                              summary=report.to_dict()))
    return report


def _read_all(paths: list[Path], encoding: str | None, report: ChatImportReport,
              progress: Progress | None) -> list[tuple[ParsedMessage, FileCounts]]:
    batch = []
    for done, path in enumerate(paths, start=1):
        counts = FileCounts(path.name, "unreadable")
        try:
            source, items = read_file(path, encoding)
            counts.kind, counts.encoding = source.kind, source.encoding
            for item in items:
                counts.read += 1
                if isinstance(item, BadRow):
                    counts.errors += 1
                    report.problems.append(Problem(item.source, item.line, item.reason))
                elif isinstance(item, Skipped):
                    counts.skipped += 1
                    report.skipped_types[str(item)] += 1
                else:
                    batch.append((item, counts))
        except (OSError, ValueError) as exc:  # unreadable file, broken mailbox: what was read so far stays
            counts.errors += 1
            report.problems.append(Problem(path.name, 0, f"cannot read: {exc}"))
        report.files.append(counts)
        if progress:
            progress("read files", done, len(paths))
    return batch


class _Importer:
    """One import's session-bound state: the directory, deals, revoked ids and the threads touched."""

    def __init__(self, session: Session, settings: Settings, report: ChatImportReport, files_dir: Path,
                 voice: VoiceReader) -> None:
        self.session, self.settings, self.report = session, settings, report
        self.files_dir, self.voice = files_dir, voice
        self.directory, self.deals = Directory(session), DealFinder(session)
        self.revoked = dict(session.execute(select(RevokedMessage.external_id, RevokedMessage.revoke_id)).all())
        self.languages = dict(session.execute(select(Customer.id, Customer.language)).all())
        self.seen: set[str] = set()
        self.touched: set[str] = set()

    def run(self, batch: list[tuple[ParsedMessage, FileCounts]], progress: Progress | None) -> None:
        batch = sorted(batch, key=lambda pair: (pair[0].sent_at, pair[0].line))
        for message, counts in batch:
            if message.revokes:
                self._revoke(message, counts)
        for done, (message, counts) in enumerate(batch, start=1):
            if not message.revokes:
                self._message(message, counts)
            if progress:
                progress("messages", done, len(batch))

    def _revoke(self, message: ParsedMessage, counts: FileCounts) -> None:
        if message.revokes in self.revoked:
            counts.duplicates += 1
            return
        self.revoked[message.revokes] = message.external_id
        self.session.add(RevokedMessage(external_id=message.revokes, revoke_id=message.external_id,
                                        revoked_at=message.sent_at))
        stored = self.session.scalar(select(ChatMessage).where(ChatMessage.external_id == message.revokes))
        if stored is not None:
            self.touched.add(stored.thread_key)
            self.session.delete(stored)
            counts.withdrawn += 1
        self.session.flush()
        counts.revokes += 1

    def _message(self, message: ParsedMessage, counts: FileCounts) -> None:
        if message.external_id in self.revoked:
            counts.withdrawn += 1
            return
        if message.external_id in self.seen:
            counts.duplicates += 1
            return
        self.seen.add(message.external_id)
        placement = place(message, self.directory, self.deals)
        for raw in placement.unmapped:
            self.report.unmapped[raw] += 1
        self.report.ambiguous_deal += placement.ambiguous
        stored = self.session.scalar(select(ChatMessage).where(ChatMessage.external_id == message.external_id))
        if stored is not None:
            self._replace(stored, placement, counts)
            return
        try:
            with self.session.begin_nested():
                self.session.add(self._new_row(message, placement))
        except RowError as exc:
            counts.errors += 1
            self.report.problems.append(Problem(Path(message.source).name, message.line, str(exc)))
            return
        self.touched.add(placement.thread_key)
        counts.imported += 1

    def _replace(self, stored: ChatMessage, placement: Placement, counts: FileCounts) -> None:
        columns = placement.columns()
        changed = {name: value for name, value in columns.items() if getattr(stored, name) != value}
        if not changed:
            counts.duplicates += 1
            return
        self.touched.update({stored.thread_key, placement.thread_key})
        for name, value in changed.items():
            setattr(stored, name, value)
        counts.updated += 1

    def _new_row(self, message: ParsedMessage, placement: Placement) -> ChatMessage:
        fallback = self.languages.get(placement.customer_id, "en")
        text, voice_s = message.text, None
        voices = [item for item in message.attachments if item.kind == "voice"]
        if voices and not text:
            text, voice_s = self.voice.read(voices[0], fallback if fallback in ("en", "zh") else None)
        elif text and self.settings.pii.redact:
            text, _ = redact_text(text, self.settings.pii)
        row = ChatMessage(
            external_id=message.external_id, channel=message.channel, msgtype=message.msgtype,
            sender=message.sender[:300], receivers=message.receivers, room_id=message.room_id,
            sent_at=message.sent_at, subject=message.subject, text=text, voice_s=voice_s,
            language=message_language(text, fallback), source=message.source, **placement.columns(),
        )
        row.files = [self._file(item) for item in message.attachments]
        return row

    def _file(self, item: Attachment) -> MessageFile:
        data = item.data
        if data is None and item.path is not None:
            try:
                data = item.path.read_bytes()
            except OSError as exc:
                raise RowError(f"cannot read {item.path}: {exc.strerror}") from None
        path = sha256 = None
        if data is not None:
            sha256 = hashlib.sha256(data).hexdigest()
            suffix = Path(item.name or (item.path.name if item.path else "")).suffix.lower()[:12]
            target = self.files_dir / f"{sha256}{suffix}"
            if not target.exists():
                self.files_dir.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            path = str(target)
        return MessageFile(kind=item.kind, name=item.name, path=path, size=item.size if data is None else len(data),
                           md5=item.md5, sha256=sha256, evidence_candidate=item.kind in EVIDENCE_KINDS)
