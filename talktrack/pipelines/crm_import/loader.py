"""Import a directory of CRM files (and call transcripts) into the catalog.

Each file is one transaction: its good rows are upserted by key, its bad rows are
reported with file, line and reason. Importing the same files again changes nothing.

    >>> report = import_directory(catalog, settings, Path("crm_export"))
    >>> report.totals()["inserted"]
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Base, ImportRun
from talktrack.core.clock import utcnow
from talktrack.core.config import Settings
from talktrack.core.progress import Progress
from talktrack.pipelines.crm_import.entities import ENTITIES, Entity, ImportContext, RowError
from talktrack.pipelines.crm_import.readers import RawRecord, find_entity_file, read_records
from talktrack.pipelines.crm_import.revenue_entities import REVENUE_ENTITIES
from talktrack.pipelines.crm_import.report import EntityCounts, ImportReport, Problem
from talktrack.pipelines.crm_import.transcripts import import_transcripts

def import_directory(
    catalog: Catalog, settings: Settings, directory: Path, progress: Progress | None = None
) -> ImportReport:
    """Load every entity file found in ``directory``, then the transcripts of its calls."""
    directory = Path(directory).resolve()
    if not directory.is_dir():
        raise FileNotFoundError(f"import source {directory}: not a directory")
    report = ImportReport(str(directory))
    started = utcnow()
    for entity in ENTITIES + REVENUE_ENTITIES:
        path = _entity_file(directory, entity, report)
        if path is not None:
            report.counts.append(_import_file(catalog, settings, entity, path, report, progress))
    import_transcripts(catalog, directory, report, progress)
    _record_run(catalog, report, started)
    return report


def _entity_file(directory: Path, entity: Entity, report: ImportReport) -> Path | None:
    try:
        return find_entity_file(directory, entity.name)
    except ValueError as exc:
        report.problems.append(Problem(entity.name, 0, str(exc)))
        return None


def _import_file(
    catalog: Catalog,
    settings: Settings,
    entity: Entity,
    path: Path,
    report: ImportReport,
    progress: Progress | None,
) -> EntityCounts:
    counts = EntityCounts(entity.name, path.name)
    header, records = read_records(path, settings.import_.encoding)
    problems: list[Problem] = []
    if not _header_ok(entity, path, header, problems):
        report.problems.extend(problems)
        return counts
    records = list(records)
    with catalog.session() as session:
        ctx = ImportContext(settings, path.parent, session)
        upserter = _Upserter(entity, ctx)
        for done, record in enumerate(records, start=1):
            counts.read += 1
            try:
                outcome = upserter.apply(record)
            except RowError as exc:
                counts.rejected += 1
                problems.append(Problem(path.name, record.line, str(exc)))
            else:
                setattr(counts, outcome, getattr(counts, outcome) + 1)
            if progress:
                progress(entity.name, done, len(records))
        if _too_many_bad(counts, settings):
            session.rollback()
            problems.append(_rejected_file(path, counts))
            counts.inserted = counts.updated = counts.unchanged = 0
            counts.rejected = counts.read
    report.problems.extend(problems)
    return counts


def _header_ok(entity: Entity, path: Path, header: list[str], problems: list[Problem]) -> bool:
    if path.suffix != ".csv":
        return True
    required = [name for name, spec in entity.row_model.model_fields.items() if spec.is_required()]
    missing = [name for name in required if name not in header]
    if missing:
        problems.append(Problem(path.name, 1, f"header lacks required column(s) {missing}; file skipped"))
        return False
    unknown = [name for name in header if name not in entity.row_model.model_fields]
    if unknown:
        problems.append(Problem(path.name, 1, f"unknown column(s) {unknown} ignored", "warning"))
    return True


def _too_many_bad(counts: EntityCounts, settings: Settings) -> bool:
    limit = settings.import_.max_bad_row_share
    return limit < 1.0 and counts.read > 0 and counts.rejected / counts.read > limit


def _rejected_file(path: Path, counts: EntityCounts) -> Problem:
    return Problem(
        path.name, 0, f"file rejected: {counts.rejected} of {counts.read} rows are bad (over import.max_bad_row_share)"
    )


class _Upserter:
    """Applies rows of one file: validate, convert, then insert / update / leave alone."""

    def __init__(self, entity: Entity, ctx: ImportContext) -> None:
        self.entity = entity
        self.ctx = ctx
        self.existing = self._load_existing()
        self.seen: dict[tuple, int] = {}

    def _load_existing(self) -> dict[tuple, Base]:
        objects = self.ctx.session.scalars(select(self.entity.table))
        return {tuple(getattr(obj, col) for col in self.entity.key_columns): obj for obj in objects}

    def apply(self, record: RawRecord) -> str:
        """Write one record; return "inserted", "updated" or "unchanged", or raise RowError."""
        if record.error:
            raise RowError(record.error)
        try:
            row = self.entity.row_model.model_validate(record.fields)
        except ValidationError as exc:
            raise RowError(_validation_reason(exc)) from None
        columns = self.entity.to_columns(row, self.ctx)
        key = tuple(columns[col] for col in self.entity.key_columns)
        if key in self.seen:
            raise RowError(f"duplicate {_describe_key(self.entity, key)} (first on line {self.seen[key]})")
        self.seen[key] = record.line
        return self._write(key, columns)

    def _write(self, key: tuple, columns: dict[str, Any]) -> str:
        current = self.existing.get(key)
        if current is None:
            obj = self.entity.table(**columns)
            self.ctx.session.add(obj)
            self.existing[key] = obj
            return "inserted"
        changed = {
            name: value
            for name, value in columns.items()
            if name not in self.entity.insert_only and getattr(current, name) != value
        }
        for name, value in changed.items():
            setattr(current, name, value)
        return "updated" if changed else "unchanged"


def _describe_key(entity: Entity, key: tuple) -> str:
    if entity.key_columns == ("external_id",):
        return f"{entity.id_field} {key[0]!r}"
    return "row for " + ", ".join(f"{col}={value}" for col, value in zip(entity.key_columns, key, strict=True))


def _validation_reason(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        value = error.get("input")
        shown = f" = {value!r}" if where and not isinstance(value, dict) else ""
        parts.append(f"{where}{shown}: {error['msg']}" if where else error["msg"])
    return "; ".join(parts)


def _record_run(catalog: Catalog, report: ImportReport, started: datetime) -> None:
    with catalog.session() as session:
        session.add(
            ImportRun(source=report.source, started_at=started, finished_at=utcnow(), summary=report.to_dict())
        )


