"""What an import did: counts per entity and every problem with file, line and reason."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from talktrack.core.progress import Progress


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    reason: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class EntityCounts:
    entity: str
    file: str
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


@dataclass
class ImportReport:
    source: str
    counts: list[EntityCounts] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        keys = ("read", "inserted", "updated", "unchanged", "rejected")
        return {key: sum(getattr(count, key) for count in self.counts) for key in keys}

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "counts": [asdict(count) for count in self.counts],
            "problems": [asdict(problem) for problem in self.problems],
            "totals": self.totals(),
        }
