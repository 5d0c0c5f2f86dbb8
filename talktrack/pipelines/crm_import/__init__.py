"""CRM import: CSV/JSONL entity files and call transcripts into the catalog."""

from talktrack.pipelines.crm_import.loader import import_directory
from talktrack.pipelines.crm_import.report import ImportReport, Problem

__all__ = ["ImportReport", "Problem", "import_directory"]
