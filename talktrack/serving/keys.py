"""API keys: created once (the plain key is shown a single time), stored as a hash, revocable.

A key is ``tt_`` + 43 random URL-safe characters (256 bits). With that much entropy a plain
SHA-256 is as safe as a slow KDF and costs microseconds per request, which the scoring latency
target needs; a salted KDF only pays off for low-entropy secrets such as passwords. The first
8 characters (``key_prefix``) are stored in clear to find the row and to name a key in lists.

Example::

    key, record = create_key(catalog, "coach", name="coaching team")
    caller = authenticate(catalog, key)   # Caller(role="coach", ...)
    revoke_key(catalog, record["id"])
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import ApiKey
from talktrack.core.clock import utcnow

ROLES = ("admin", "coach", "manager", "rep", "ml", "crm", "director")
KEY_PREFIX = "tt_"
PREFIX_CHARS = 8
# last_used_at is written at most this often per key, so authenticating stays a read.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyError(ValueError):
    """A key request that cannot be done (unknown role, a rep key without a rep, ...)."""


class KeyNotFound(LookupError):
    """No key with that id."""


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key's id and name, its role, and the rep/team it is scoped to."""

    key_id: int
    role: str
    rep: str | None = None
    team: str | None = None
    name: str | None = None

    @property
    def actor(self) -> str:
        """How the caller appears in audit trails: the key's name, else ``key:<id>``."""
        return self.name or f"key:{self.key_id}"



def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(
    catalog: Catalog, role: str, *, rep: str | None = None, team: str | None = None, name: str | None = None
) -> tuple[str, dict]:
    """A new key for ``role``: returns ``(plain key, record)``; only the hash is stored."""
    _check_scope(role, rep, team)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        key_prefix=key[:PREFIX_CHARS],
        key_hash=hash_key(key),
        role=role,
        rep_external_id=rep,
        team_external_id=team,
        name=name,
        created_at=utcnow(),
    )
    with catalog.session() as session:
        session.add(row)
        session.flush()
        return key, key_dict(row)


def _check_scope(role: str, rep: str | None, team: str | None) -> None:
    if role not in ROLES:
        raise ApiKeyError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    if role == "rep" and not rep:
        raise ApiKeyError("a rep key needs --rep (the rep's external id): a rep sees only their own data")
    if role == "manager" and not team:
        raise ApiKeyError(
            "a manager key needs --team (the team's external id): a manager sees only their team"
        )


def list_keys(catalog: Catalog) -> list[dict]:
    with catalog.session() as session:
        return [key_dict(row) for row in session.scalars(select(ApiKey).order_by(ApiKey.id))]


def revoke_key(catalog: Catalog, key_id: int) -> dict:
    """Revoke a key (idempotent: an already revoked key keeps its first revocation time)."""
    with catalog.session() as session:
        row = session.get(ApiKey, key_id)
        if row is None:
            raise KeyNotFound(f"API key {key_id}: not found (list them with `talktrack keys list`)")
        row.revoked_at = row.revoked_at or utcnow()
        return key_dict(row)


def authenticate(catalog: Catalog, key: str) -> Caller | None:
    """The caller a key belongs to; None for an unknown, malformed or revoked key.

    Runs on every request: a plain column query (no ORM objects), and a write only when
    ``last_used_at`` is older than :data:`LAST_USED_RESOLUTION`.
    """
    if not key.startswith(KEY_PREFIX) or len(key) < PREFIX_CHARS + 8:
        return None
    digest = hash_key(key)
    columns = (ApiKey.id, ApiKey.key_hash, ApiKey.role, ApiKey.rep_external_id, ApiKey.team_external_id,
               ApiKey.name, ApiKey.revoked_at, ApiKey.last_used_at)
    with catalog.engine.connect() as connection:
        rows = connection.execute(select(*columns).where(ApiKey.key_prefix == key[:PREFIX_CHARS])).all()
    for row in rows:
        if hmac.compare_digest(row.key_hash, digest) and row.revoked_at is None:
            _touch(catalog, row.id, row.last_used_at)
            return Caller(row.id, row.role, row.rep_external_id, row.team_external_id, row.name)
    return None


def _touch(catalog: Catalog, key_id: int, last_used_at: datetime | None) -> None:
    now = utcnow()
    if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
        with catalog.engine.begin() as connection:
            connection.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))


def key_dict(row: ApiKey) -> dict:
    return {
        "id": row.id,
        "key_prefix": row.key_prefix,
        "role": row.role,
        "rep": row.rep_external_id,
        "team": row.team_external_id,
        "name": row.name,
        "created_at": _iso(row.created_at),
        "revoked_at": _iso(row.revoked_at),
        "last_used_at": _iso(row.last_used_at),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
