"""Where a message goes: who sent it (rep, customer or unknown), which contact, customer and deal it is
about, the deal's stage at that moment, and the thread it is grouped in.

A thread is one deal's messages on one channel with one contact (or one group room); without a deal, the
customer's; without a customer, the sender's. Participants no address maps are listed for the report.
"""

from __future__ import annotations

from dataclasses import dataclass

from talktrack.models.embedding import detect_language
from talktrack.pipelines.chat_import.deals import DealFinder
from talktrack.pipelines.chat_import.people import Directory, Person
from talktrack.pipelines.chat_import.records import ParsedMessage


@dataclass(frozen=True)
class Placement:
    role: str
    rep_id: int | None
    contact_id: int | None
    customer_id: int | None
    deal_id: int | None
    stage: str | None
    thread_key: str
    unmapped: tuple[str, ...]
    ambiguous: bool  # another open deal of the customer was as likely

    def columns(self) -> dict[str, object]:
        return {"role": self.role, "rep_id": self.rep_id, "contact_id": self.contact_id,
                "customer_id": self.customer_id, "deal_id": self.deal_id, "stage": self.stage,
                "thread_key": self.thread_key}


def place(message: ParsedMessage, directory: Directory, deals: DealFinder) -> Placement:
    people = [(raw, directory.find(raw)) for raw in message.participants]
    sender = people[0][1]
    rep = _first(people, "rep")
    contact = _first(people, "customer")
    customer_id = contact.customer_id if contact else None
    hint = f"{message.subject or ''} {message.text or ''}"
    deal, ambiguous = deals.find(customer_id, rep.rep_id if rep else None, message.sent_at, hint)
    owner = f"deal:{deal.id}" if deal else f"customer:{customer_id}" if customer_id else "unmapped"
    party = (f"room:{message.room_id}" if message.room_id else
             f"contact:{contact.contact_id}" if contact else f"sender:{message.sender.lower()}")
    return Placement(
        role=sender.role if sender else "unknown",
        rep_id=rep.rep_id if rep else (deal.rep_id if deal else None),
        contact_id=contact.contact_id if contact else None,
        customer_id=customer_id,
        deal_id=deal.id if deal else None,
        stage=deal.stage_at(message.sent_at) if deal else None,
        thread_key=f"{message.channel}:{owner}:{party}",
        unmapped=tuple(raw for raw, person in people if person is None),
        ambiguous=ambiguous,
    )


def _first(people: list[tuple[str, Person | None]], role: str) -> Person | None:
    return next((person for _, person in people if person is not None and person.role == role), None)


def message_language(text: str | None, fallback: str) -> str:
    return detect_language(text) if text and text.strip() else fallback
