"""The access policy: may this caller see or change this call, deal, rep, team, customer, drill, job?

One role table, :data:`POLICY`, says how far each role reaches for reading and for writing:
every thing (``all``), its team's (``team``), its own (``own``) or nothing (``none``). Every
route asks :class:`Access` about each id a request names (path, query, JSON body or form field)
before it does any work; which *routes* a role may use at all is the other half, checked by
:func:`talktrack.serving.auth.Allowed`.

=========  ======  ======  ================================================================
role       read    write   notes
=========  ======  ======  ================================================================
admin      all     all
coach      all     all     reviews tracks, runs drills for any rep
crm        all     all     the system of record: posts calls, stages, evidence for any deal
ml         all     none    reads models' inputs and outputs; changes no call or deal
manager    team    team    the calls, deals, reps, drills of their team
director   all     none    every team's management figures (revenue, ...); changes nothing
rep        own     own     their own calls, deals, drills; customers they have a deal with
=========  ======  ======  ================================================================

"Write" never means re-assigning: a call's rep, deal and customer are set once (see
:mod:`talktrack.serving.uploads`). Denials never name who owns the thing.

Example::

    access = Access(svc.catalog, caller)
    owner = access.call("CALL-000001")                       # 404 unknown, 403 out of scope
    access.deal(form_deal_id, field="form.deal_id")          # 422 unknown, 403 out of scope
    rep = access.pin_rep(requested_rep)                      # a rep key: always its own rep
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from talktrack.core.catalog import Catalog
from talktrack.core.catalog.schema import Call, Customer, Deal, EvidenceDocument, Rep, Team
from talktrack.pipelines import stage_timers
from talktrack.serving.errors import ApiError
from talktrack.serving.keys import Caller

Reach = Literal["all", "team", "own", "none"]


@dataclass(frozen=True)
class RoleReach:
    read: Reach
    write: Reach


POLICY: dict[str, RoleReach] = {
    "admin": RoleReach(read="all", write="all"),
    "coach": RoleReach(read="all", write="all"),
    "crm": RoleReach(read="all", write="all"),
    "ml": RoleReach(read="all", write="none"),
    "manager": RoleReach(read="team", write="team"),
    "rep": RoleReach(read="own", write="own"),
    "director": RoleReach(read="all", write="none"),
}


@dataclass(frozen=True)
class Owner:
    """Whose a thing is: the reps and teams it belongs to (a customer may have deals of several)."""

    kind: str
    id: str
    reps: frozenset[str] = frozenset()
    teams: frozenset[str] = frozenset()

    @classmethod
    def of(cls, kind: str, id_: str, rep: str | None, team: str | None) -> Owner:
        return cls(kind, id_, frozenset({rep} - {None}), frozenset({team} - {None}))

    @property
    def rep(self) -> str | None:
        """The one rep of a call, deal or drill (None when it has none)."""
        return next(iter(self.reps), None) if len(self.reps) == 1 else None


def reaches(caller: Caller, owner: Owner, reach: Reach) -> bool:
    """Whether ``reach`` from ``caller`` covers ``owner``."""
    if reach == "all":
        return True
    if reach == "team":
        return caller.team is not None and caller.team in owner.teams
    if reach == "own":
        return caller.rep is not None and caller.rep in owner.reps
    return False


def may_read(caller: Caller, owner: Owner) -> bool:
    return reaches(caller, owner, POLICY[caller.role].read)


def may_change(caller: Caller, owner: Owner) -> bool:
    return reaches(caller, owner, POLICY[caller.role].write)


def may_read_job(caller: Caller, creator: dict) -> bool:
    """A job is read by an admin, and by keys of its creator's role within that role's reach of the
    creator (the same rep for a rep key, the same team for a manager key; the CRM what the CRM posted)."""
    if caller.role == "admin":
        return True
    if caller.role != creator.get("role"):
        return False
    return may_read(caller, Owner.of("job", "", creator.get("rep"), creator.get("team")))


class Access:
    """The policy applied to one caller over the catalog: resolves ids to owners, refuses what is out of reach.

    ``field`` names where an id came from (``form.deal_id``, ``body.call_id``): an unknown id named
    in a body or form is a 422 for that field; one in the path is a 404.
    """

    def __init__(self, catalog: Catalog, caller: Caller) -> None:
        self.catalog, self.caller = catalog, caller

    # -- pinning list filters ----------------------------------------------------------------------
    def pin_rep(self, requested: str | None) -> str | None:
        """The rep filter to apply: a rep key is pinned to its own rep (403 when asking for another); a
        manager key may name its team's reps only (403 for another team's, 404 for none)."""
        reach = POLICY[self.caller.role].read
        if reach == "own":
            if requested is not None and requested != self.caller.rep:
                raise ApiError(403, f"a rep key sees only its own rep ({self.caller.rep}), not {requested!r}")
            return self.caller.rep
        if requested is not None and reach != "all":
            self.rep(requested)
        return requested

    def pin_team(self, requested: str | None) -> str | None:
        """The team filter to apply: a manager key is pinned to its own team (403 when asking for another)."""
        if POLICY[self.caller.role].read != "team":
            return requested
        if requested is not None and requested != self.caller.team:
            raise ApiError(403, f"a manager key sees only its own team ({self.caller.team}), not {requested!r}")
        return self.caller.team

    def team_filter(self, requested: str | None) -> str | None:
        """:meth:`pin_team`, then a 404 for a team the catalog does not hold (an empty list would look
        like a quiet team)."""
        team = self.pin_team(requested)
        if team is not None and not stage_timers.team_exists(self.catalog, team):
            raise ApiError(404, f"unknown team {team!r}", code="team_not_found")
        return team

    # -- things ----------------------------------------------------------------------------------
    def call(self, call_id: str, *, write: bool = False, field: str | None = None) -> Owner:
        owner = self._one("call", call_id, field, _call_owner(self.catalog, call_id))
        return self._check(owner, write)

    def deal(self, deal_id: str, *, write: bool = False, field: str | None = None) -> Owner:
        owner = self._one("deal", deal_id, field, _deal_owner(self.catalog, deal_id))
        return self._check(owner, write)

    def rep(self, rep_id: str, *, write: bool = False, field: str | None = None) -> Owner:
        owner = self._one("rep", rep_id, field, _rep_owner(self.catalog, rep_id))
        return self._check(owner, write)

    def team(self, team_id: str, *, field: str | None = None) -> Owner:
        owner = self._one("team", team_id, field, _team_owner(self.catalog, team_id))
        return self._check(owner, write=False)

    def customer(self, customer_id: str, *, write: bool = False, field: str | None = None) -> Owner:
        owner = self._one("customer", customer_id, field, _customer_owner(self.catalog, customer_id))
        return self._check(owner, write)

    def drill(self, owner: dict, drill_id: str, *, write: bool = False) -> Owner:
        """A drill's owner (``{"rep", "team"}`` from the drill engine), checked."""
        return self._check(Owner.of("drill", drill_id, owner.get("rep"), owner.get("team")), write)

    def check(self, owner: Owner, *, write: bool = False) -> Owner:
        """An owner resolved elsewhere (e.g. in bulk), checked."""
        return self._check(owner, write)

    # -- bulk visibility for redaction -------------------------------------------------------------
    def readable_calls(self, call_ids: Iterable[str]) -> set[str]:
        """Those of ``call_ids`` the caller may read (one query)."""
        ids = set(call_ids)
        if POLICY[self.caller.role].read == "all" or not ids:
            return ids
        with self.catalog.session() as session:
            rows = session.execute(_call_query().where(Call.external_id.in_(ids))).all()
        return {call_id for call_id, rep, team in rows if may_read(self.caller, Owner.of("call", call_id, rep, team))}

    def readable_evidence(self, evidence_ids: Iterable[str]) -> set[str]:
        """Those of ``evidence_ids`` the caller may read: evidence of deals in reach (one query)."""
        ids = set(evidence_ids)
        if POLICY[self.caller.role].read == "all" or not ids:
            return ids
        query = (select(EvidenceDocument.external_id, Rep.external_id, Team.external_id)
                 .join(Deal, Deal.id == EvidenceDocument.deal_id).join(Rep, Rep.id == Deal.rep_id)
                 .outerjoin(Team, Team.id == Rep.team_id).where(EvidenceDocument.external_id.in_(ids)))
        with self.catalog.session() as session:
            rows = session.execute(query).all()
        return {eid for eid, rep, team in rows if may_read(self.caller, Owner.of("evidence", eid, rep, team))}

    # -- internals -------------------------------------------------------------------------------
    def _one(self, kind: str, id_: str, field: str | None, owner: Owner | None) -> Owner:
        if owner is None:
            if field is not None:
                raise ApiError(422, f"{field}: {kind} {id_!r} is not in the catalog")
            raise ApiError(404, f"{kind} {id_!r} is not in the catalog", code=f"{kind}_not_found")
        return owner

    def _check(self, owner: Owner, write: bool) -> Owner:
        allowed = may_change(self.caller, owner) if write else may_read(self.caller, owner)
        if not allowed:
            verb = "change" if write else "read"
            reach = {"own": "its own", "team": "its team's", "none": "no"}[
                POLICY[self.caller.role].write if write else POLICY[self.caller.role].read]
            raise ApiError(403, f"a {self.caller.role} key may not {verb} {owner.kind} {owner.id!r}: "
                                f"it reaches {reach} {owner.kind}s only")
        return owner


# -- owner lookups (one small query each) -----------------------------------------------------------
def _call_query():
    return (select(Call.external_id, Rep.external_id, Team.external_id)
            .outerjoin(Rep, Rep.id == Call.rep_id).outerjoin(Team, Team.id == Rep.team_id))


def _call_owner(catalog: Catalog, call_id: str) -> Owner | None:
    with catalog.session() as session:
        row = session.execute(_call_query().where(Call.external_id == call_id)).first()
    return Owner.of("call", *row) if row else None


def _deal_owner(catalog: Catalog, deal_id: str) -> Owner | None:
    query = (select(Deal.external_id, Rep.external_id, Team.external_id).outerjoin(Rep, Rep.id == Deal.rep_id)
             .outerjoin(Team, Team.id == Rep.team_id).where(Deal.external_id == deal_id))
    with catalog.session() as session:
        row = session.execute(query).first()
    return Owner.of("deal", *row) if row else None


def _rep_owner(catalog: Catalog, rep_id: str) -> Owner | None:
    query = (select(Rep.external_id, Rep.external_id, Team.external_id).outerjoin(Team, Team.id == Rep.team_id)
             .where(Rep.external_id == rep_id))
    with catalog.session() as session:
        row = session.execute(query).first()
    return Owner.of("rep", *row) if row else None


def _team_owner(catalog: Catalog, team_id: str) -> Owner | None:
    with catalog.session() as session:
        found = session.scalar(select(Team.external_id).where(Team.external_id == team_id))
    return Owner("team", found, frozenset(), frozenset({found})) if found else None


def _customer_owner(catalog: Catalog, customer_id: str) -> Owner | None:
    """A customer belongs to the reps (and their teams) who hold a deal with it."""
    with catalog.session() as session:
        customer_pk = session.scalar(select(Customer.id).where(Customer.external_id == customer_id))
        if customer_pk is None:
            return None
        rows = session.execute(select(Rep.external_id, Team.external_id).select_from(Deal)
                               .join(Rep, Rep.id == Deal.rep_id).outerjoin(Team, Team.id == Rep.team_id)
                               .where(Deal.customer_id == customer_pk)).all()
    return Owner("customer", customer_id, frozenset(r for r, _ in rows if r), frozenset(t for _, t in rows if t))
