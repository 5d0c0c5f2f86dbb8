"""Plain records of the generated world, shared by the generator's steps.

A leaf module: it imports nothing of the package. Each step fills the records it
owns (``people`` the reps and customers, ``deals`` the timelines and outcomes,
``plans``/``dialogue`` the calls, ``evidence`` the notes) and later steps only read
them, so the order of steps in ``generate.py`` is the whole data flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np


@dataclass(slots=True)
class Team:
    team_id: str
    name: str
    region: str
    manager_id: str = ""


@dataclass(slots=True)
class Rep:
    rep_id: str
    name: str
    first_name: str
    email: str
    team_id: str
    role: str  # "rep" | "manager"
    language: str
    hired_at: date
    general: float  # latent general ability (z-score)
    levels: np.ndarray  # shape: (months, n_dimensions), hidden z-score levels


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    first_name: str
    title: str


@dataclass(frozen=True, slots=True)
class Pain:
    """One concrete pain point of one customer; ``tokens`` are its numbers as written."""

    pain_id: str
    kind: str
    slots: dict[str, str]
    tokens: tuple[str, ...]


@dataclass(slots=True)
class Customer:
    customer_id: str
    name: str
    short_name: str  # what people say in calls (the registered name without city and legal form)
    industry: str
    employees: int
    purchase_frequency: float
    open_positions: int
    sentiment: float
    region: str
    language: str
    created_at: date
    quality: float
    account_rep_id: str
    contacts: tuple[Contact, ...]
    pains: tuple[Pain, ...]
    competitor: str
    budget: str  # as spoken in the customer's language, e.g. "$85,000" or "60万"
    budget_value: float
    deadline: str
    users: int
    decision_maker: str
    committee_size: int


@dataclass(slots=True)
class Deal:
    deal_id: str
    customer_id: str
    rep_id: str
    title: str
    product: str
    amount: float
    currency: str
    created_at: datetime
    durations_days: list[float]  # planned time in lead..negotiation, in pipeline order
    payment_terms_days: int
    discount_pct: float
    standard_contract: bool
    fake_progress: bool = False
    fake_mode: str = ""
    # filled by deals.settle_outcomes:
    stage: str = ""
    status: str = "open"
    closed_at: datetime | None = None
    stage_events: list[tuple[str, datetime]] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict)
    tracks_used: list[str] = field(default_factory=list)
    logit: float = 0.0
    p_win: float = 0.0
    outcome_if_closed: str = ""
    progress_level: str = ""
    backed_progress_level: str = ""


@dataclass(slots=True)
class Utterance:
    speaker: str
    role: str  # "rep" | "customer"
    text: str
    start: float
    end: float
    labels: dict


@dataclass(slots=True)
class Call:
    call_id: str
    deal_id: str
    rep_id: str
    customer_id: str
    started_at: datetime
    stage: str
    channel: str
    language: str
    plan: object = None  # plans.CallPlan
    utterances: list[Utterance] = field(default_factory=list)
    speakers: list[dict] = field(default_factory=list)
    duration_s: float = 0.0
    audio_path: str = ""


@dataclass(slots=True)
class Evidence:
    evidence_id: str
    deal_id: str
    kind: str
    progress_level: str
    submitted_at: datetime
    title: str
    text: str
    authenticity: str  # "authentic" | "template" | "copied"
    source_evidence_id: str = ""
    call_id: str = ""
    template_id: str = ""
    path: str = ""  # a file beside the CSVs (a calendar screenshot), relative to the world folder


@dataclass(slots=True)
class Survey:
    rep_id: str
    period: str
    dimension: str
    source: str
    score: float
    respondents: int
    hidden_level: float


@dataclass(frozen=True, slots=True)
class Course:
    course_id: str
    title: str
    dimension: str
    language: str
    duration_h: float
    url: str


@dataclass(slots=True)
class Contract:
    contract_id: str
    deal_id: str  # "" for a renewal or a contract signed before the world
    customer_id: str
    rep_id: str
    amount: float
    currency: str
    discount_pct: float
    payment_terms_days: int
    contract_type: str  # "standard" | "non_standard"
    product_line: str
    renewal_of: str  # the renewed contract's id, "" for new business
    signed_at: date


@dataclass(frozen=True, slots=True)
class Collection:
    collection_id: str
    contract_id: str
    received_at: date
    amount: float
    currency: str


@dataclass(frozen=True, slots=True)
class Lead:
    lead_id: str
    source: str
    created_at: datetime
    status: str  # "valid" | "invalid"
    rep_id: str
    customer_id: str = ""
    deal_id: str = ""


@dataclass(frozen=True, slots=True)
class Spend:
    source: str
    month: str
    amount: float
    currency: str


@dataclass(frozen=True, slots=True)
class Visit:
    visit_id: str
    rep_id: str
    customer_id: str
    visited_on: date
    logged: str  # "hand" | "captured"
    padded: bool = False  # hidden: a visit logged only to inflate the count


@dataclass(frozen=True, slots=True)
class FieldEntry:
    entity: str  # "deal" | "contract"
    record_id: str
    field: str
    entry: str  # "hand" | "captured"
    captured_from: str = ""  # call | chat | evidence | system, for a captured value
