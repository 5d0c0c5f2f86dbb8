"""Routes of field voice notes (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/crm/voice-notes", tags=["CRM"])
