"""The one shape every reader turns a chat message or an e-mail into, and the error a bad row raises.

Readers only parse: who is who, which deal and which conversation are decided later, from the catalog.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


class RowError(ValueError):
    """A message that cannot be imported, and why (reported with file and line; the rest goes on)."""


@dataclass(frozen=True)
class Attachment:
    """A file, image or voice recording named by a message; ``path`` is where its bytes are, if anywhere."""

    kind: str  # file | image | voice
    name: str | None = None
    path: Path | None = None
    size: int | None = None
    md5: str | None = None
    data: bytes | None = None  # an e-mail attachment's bytes (they travel inside the message)


@dataclass
class ParsedMessage:
    """One message as read from an export; ``revokes`` names the msgid a revoke message takes back."""

    external_id: str
    channel: str  # chat | email
    msgtype: str  # text | voice | file | image | mixed | email | revoke
    sender: str
    receivers: list[str]
    sent_at: datetime  # naive UTC
    source: str
    line: int
    text: str | None = None
    subject: str | None = None
    room_id: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    revokes: str | None = None

    @property
    def participants(self) -> list[str]:
        return [self.sender, *self.receivers]


@dataclass(frozen=True)
class BadRow:
    """A row a reader could not turn into a message."""

    source: str
    line: int
    reason: str


def utc_naive(value: datetime) -> datetime:
    """Times are stored as naive UTC; a time without an offset is taken as UTC already."""
    if value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def from_epoch(value: float) -> datetime:
    """Seconds or milliseconds since 1970 (a number above 10^11 is milliseconds: WeCom's ``msgtime``)."""
    seconds = value / 1000.0 if value > 1e11 else value
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
