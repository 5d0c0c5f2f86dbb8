"""Dependencies shared by the routes, as ``Annotated`` types (``svc: ServiceDep``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from talktrack.serving.state import Service


def service(request: Request) -> Service:
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(service)]
