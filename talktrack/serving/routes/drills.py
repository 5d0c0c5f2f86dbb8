"""Routes of virtual customer drills (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1/drills", tags=["virtual customer drills"])
