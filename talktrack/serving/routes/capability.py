"""Routes of capability (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/capability", tags=["capability"])
