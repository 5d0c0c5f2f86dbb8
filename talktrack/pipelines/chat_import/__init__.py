"""Chat and e-mail import: WeCom conversation archives, plain chat exports (CSV/JSONL), .eml and mbox."""

from talktrack.pipelines.chat_import.loader import import_chats
from talktrack.pipelines.chat_import.report import ChatImportReport, FileCounts

__all__ = ["ChatImportReport", "FileCounts", "import_chats"]
