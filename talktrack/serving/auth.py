"""Who may call what: ``Authorization: Bearer KEY`` → a :class:`Caller`, checked against a route's roles.

Usage in a route::

    @router.get("/v1/tracks")
    def tracks(caller: Allowed("coach", "admin")): ...

Which calls, deals, reps and teams a caller may see or change is the access policy's
(:mod:`talktrack.serving.access`); this module only says who is calling and which routes their
role may use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from talktrack.serving.errors import ApiError
from talktrack.serving.key_cache import key_cache
from talktrack.serving.keys import ROLES, Caller

_bearer = HTTPBearer(auto_error=False, description="An API key from `talktrack keys create`.")
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def current_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    """The caller of a valid, unrevoked key; 401 otherwise. Async, so that a key seen within
    ``serving.key_cache_ttl_s`` is answered on the event loop (no thread hop, no query); only a
    lookup goes to the thread pool."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "missing API key: send `Authorization: Bearer KEY`", headers=_CHALLENGE)
    keys = key_cache(request.app.state.service)
    caller = keys.peek(credentials.credentials) or await run_in_threadpool(keys.get, credentials.credentials)
    if caller is None:
        raise ApiError(401, "invalid or revoked API key", headers=_CHALLENGE)
    request.state.caller = caller
    return caller


def require(*roles: str) -> Callable[..., Caller]:
    """A dependency that returns the caller when its role is one of ``roles`` (403 otherwise)."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown or not roles:
        raise ValueError(f"require(): unknown roles {unknown}; expected some of {', '.join(ROLES)}")

    async def dependency(caller: Annotated[Caller, Depends(current_caller)]) -> Caller:
        if caller.role not in roles:
            raise ApiError(403, f"role {caller.role!r} may not use this route (allowed: {', '.join(roles)})")
        return caller

    return dependency


def Allowed(*roles: str) -> Any:
    """``caller: Allowed("coach", "admin")``: the caller, when their role is one of ``roles``."""
    return Annotated[Caller, Depends(require(*roles))]
