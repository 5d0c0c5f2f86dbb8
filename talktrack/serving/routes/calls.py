"""Routes of calls (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/calls", tags=["calls"])
