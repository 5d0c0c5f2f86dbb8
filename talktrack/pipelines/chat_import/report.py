"""What a chat import did: counts per file, participants no address maps, and every bad row with its reason."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from talktrack.pipelines.crm_import.report import Problem

COUNTS = ("read", "imported", "duplicates", "updated", "revokes", "withdrawn", "skipped", "errors")


@dataclass
class FileCounts:
    """``withdrawn``: messages not stored (or removed) because their sender revoked them."""

    file: str
    kind: str
    encoding: str | None = None
    read: int = 0
    imported: int = 0
    duplicates: int = 0
    updated: int = 0
    revokes: int = 0
    withdrawn: int = 0
    skipped: int = 0
    errors: int = 0


@dataclass
class ChatImportReport:
    source: str
    files: list[FileCounts] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unmapped: Counter = field(default_factory=Counter)  # participant as written -> messages it appears in
    skipped_types: Counter = field(default_factory=Counter)
    people: dict[str, int] = field(default_factory=dict)
    conversations: int = 0
    ambiguous_deal: int = 0  # messages placed on the latest of several equally likely open deals

    def totals(self) -> dict[str, int]:
        return {key: sum(getattr(counts, key) for counts in self.files) for key in COUNTS}

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "totals": self.totals(),
            "files": [asdict(counts) for counts in self.files],
            "unmapped": dict(self.unmapped.most_common()),
            "skipped_types": dict(self.skipped_types),
            "people": self.people,
            "conversations_rebuilt": self.conversations,
            "ambiguous_deal": self.ambiguous_deal,
            "problems": [asdict(problem) for problem in self.problems],
        }
