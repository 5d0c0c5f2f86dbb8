"""Dependencies shared by the routes, as ``Annotated`` types (``svc: ServiceDep``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from talktrack.serving.state import Service


async def service(request: Request) -> Service:
    """Async: FastAPI runs a plain ``def`` dependency in the thread pool, a hop per request for nothing."""
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(service)]
