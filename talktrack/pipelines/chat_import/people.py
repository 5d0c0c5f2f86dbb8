"""Who is who in a chat: customer contacts and the addresses of reps and contacts, and the lookup from
an address as an export writes it (a WeCom user id, a phone, an e-mail) to a rep or a contact.

Two optional files beside the exports feed it (upserted, so importing them again changes nothing):
``contacts.csv`` (``contact_id, customer_id, name, title, email, phone, wecom_id``) and
``rep_accounts.csv`` (``rep_id, wecom_id, phone, email``); several values in one cell are separated by
``;``. A rep's e-mail in the CRM (``reps.email``) is an address without any file.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from talktrack.core.catalog.schema import Contact, Customer, Identity, Rep
from talktrack.pipelines.chat_import.records import BadRow, RowError
from talktrack.pipelines.chat_import.text_files import read_text

ADDRESS_COLUMNS = {"wecom_id": "wecom", "phone": "phone", "email": "email"}


@dataclass(frozen=True)
class Person:
    role: str  # rep | customer
    rep_id: int | None = None
    contact_id: int | None = None
    customer_id: int | None = None


def normalise(kind: str, value: str) -> str:
    """The form addresses are stored and looked up in: e-mail and WeCom ids lower case, phones as digits
    without China's +86 prefix."""
    value = value.strip()
    if kind == "phone":
        digits = re.sub(r"\D", "", value)
        return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits
    return value.lower()


def address_kinds(raw: str) -> list[tuple[str, str]]:
    """The (kind, normalised value) pairs a raw participant id could be, most specific first."""
    raw = raw.strip()
    if "@" in raw:
        return [("email", normalise("email", raw)), ("wecom", normalise("wecom", raw))]
    pairs = [("wecom", normalise("wecom", raw))]
    if re.fullmatch(r"\+?[\d\s\-()]{7,20}", raw):
        pairs.append(("phone", normalise("phone", raw)))
    return pairs


class Directory:
    """Address → :class:`Person`, loaded once per import from the catalog."""

    def __init__(self, session: Session) -> None:
        self.by_address: dict[tuple[str, str], Person] = {}
        customers = dict(session.execute(select(Contact.id, Contact.customer_id)).all())
        for kind, value, rep_id, contact_id in session.execute(
            select(Identity.kind, Identity.value, Identity.rep_id, Identity.contact_id)
        ):
            role = "rep" if rep_id is not None else "customer"
            self.by_address[(kind, value)] = Person(role, rep_id, contact_id, customers.get(contact_id))
        for rep_id, email in session.execute(select(Rep.id, Rep.email).where(Rep.email.is_not(None))):
            self.by_address.setdefault(("email", normalise("email", email)), Person("rep", rep_id=rep_id))

    def find(self, raw: str) -> Person | None:
        for pair in address_kinds(raw):
            if pair in self.by_address:
                return self.by_address[pair]
        return None


def load_people(session: Session, folder: Path) -> tuple[dict[str, int], list[BadRow]]:
    """Upsert ``contacts.csv`` and ``rep_accounts.csv`` of ``folder``; (counts, bad rows)."""
    counts, problems = {"contacts": 0, "addresses": 0}, []
    for name, apply in (("contacts.csv", _contact_row), ("rep_accounts.csv", _rep_row)):
        path = folder / name
        if not path.is_file():
            continue
        text, _ = read_text(path)
        for line, row in _rows(text):
            try:
                with session.begin_nested():  # a bad row leaves no half-written contact
                    added = apply(session, row)
            except RowError as exc:
                problems.append(BadRow(name, line, str(exc)))
                continue
            counts["contacts"] += added[0]
            counts["addresses"] += added[1]
    return counts, problems


def _rows(text: str):
    reader = csv.DictReader(io.StringIO(text, newline=""))
    for row in reader:
        yield reader.line_num, {key.strip(): (value or "").strip() for key, value in row.items() if key}


def _contact_row(session: Session, row: dict[str, str]) -> tuple[int, int]:
    external_id, customer_ref = row.get("contact_id", ""), row.get("customer_id", "")
    if not external_id or not row.get("name"):
        raise RowError("contact_id and name are required")
    customer_id = session.scalar(select(Customer.id).where(Customer.external_id == customer_ref))
    if customer_id is None:
        raise RowError(f"unknown customer_id {customer_ref!r} (import the CRM first)")
    contact = session.scalar(select(Contact).where(Contact.external_id == external_id))
    added = contact is None
    if added:
        contact = Contact(external_id=external_id, customer_id=customer_id, name=row["name"])
        session.add(contact)
    contact.customer_id, contact.name, contact.title = customer_id, row["name"], row.get("title") or None
    session.flush()
    return int(added), _addresses(session, row, contact_id=contact.id)


def _rep_row(session: Session, row: dict[str, str]) -> tuple[int, int]:
    rep_id = session.scalar(select(Rep.id).where(Rep.external_id == row.get("rep_id", "")))
    if rep_id is None:
        raise RowError(f"unknown rep_id {row.get('rep_id')!r} (import the CRM first)")
    return 0, _addresses(session, row, rep_id=rep_id)


def _addresses(session: Session, row: dict[str, str], *, rep_id: int | None = None,
               contact_id: int | None = None) -> int:
    added = 0
    for column, kind in ADDRESS_COLUMNS.items():
        for raw in filter(None, (part.strip() for part in row.get(column, "").split(";"))):
            value = normalise(kind, raw)
            current = session.scalar(select(Identity).where(Identity.kind == kind, Identity.value == value))
            if current is None:
                session.add(Identity(kind=kind, value=value, rep_id=rep_id, contact_id=contact_id))
                added += 1
            elif (current.rep_id, current.contact_id) != (rep_id, contact_id):
                raise RowError(f"{column} {raw!r} already belongs to someone else")
    session.flush()
    return added
