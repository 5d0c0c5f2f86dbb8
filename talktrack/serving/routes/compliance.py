"""Routes of SOP, key questions and evidence (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1", tags=["SOP, key questions and evidence"])
