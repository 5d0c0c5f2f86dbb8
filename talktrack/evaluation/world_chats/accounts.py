"""The addresses people have in chats: WeCom user ids (reps) and external user ids (contacts), phones,
e-mails. Drawn from the seed, so the same world and seed give the same addresses."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from talktrack.evaluation.world_chats.world import World


@dataclass(frozen=True)
class Account:
    person_id: str  # rep_id, or contact_id
    name: str
    first: str  # how the other side addresses them
    wecom: str
    phone: str
    email: str
    customer_id: str | None = None  # contacts only
    title: str = ""


def rep_accounts(world: World, rng: random.Random) -> dict[str, Account]:
    accounts = {}
    for rep in world.reps.values():
        userid = rep.email.split("@")[0] if rep.email else rep.rep_id.lower()
        accounts[rep.rep_id] = Account(rep.rep_id, rep.name, rep.name.split()[0] if rep.language == "en" else rep.name,
                                       userid, _phone(rng, "zh" if rep.language == "zh" else "en"), rep.email)
    return accounts


def contact_accounts(world: World, rng: random.Random) -> dict[str, list[Account]]:
    """Per customer, one account per contact (``contact_id`` = ``CUS-0001-C1``, ...)."""
    accounts: dict[str, list[Account]] = {}
    for customer in world.customers.values():
        domain = _domain(customer.name, customer.customer_id)
        people = []
        for number, contact in enumerate(customer.contacts, start=1):
            local = re.sub(r"[^a-z.]", "", contact.name.lower().replace(" ", ".")) or f"contact{number}"
            people.append(Account(
                f"{customer.customer_id}-C{number}", contact.name, contact.address, external_userid(rng),
                _phone(rng, customer.language), f"{local}@{domain}", customer.customer_id, contact.title,
            ))
        accounts[customer.customer_id] = people
    return accounts


def external_userid(rng: random.Random) -> str:
    """A WeCom external user id (``wm`` + 30 characters), as the archive writes a customer."""
    return "wm" + "".join(rng.choice("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(30))


def _phone(rng: random.Random, language: str) -> str:
    if language == "zh":
        return f"+86 1{rng.choice('3578')}{rng.randint(0, 9)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
    return f"+1 415 {rng.randint(200, 999)} {rng.randint(1000, 9999)}"


def _domain(name: str, customer_id: str) -> str:
    ascii_words = re.findall(r"[a-z]+", name.lower())
    return f"{ascii_words[0]}.example" if ascii_words else f"{customer_id.lower()}.example.cn"
