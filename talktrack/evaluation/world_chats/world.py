"""What the chat generator reads of an already generated world: reps, customers with their contacts and
slots (competitor, budget, deadline, decider), deals with their stage history. Read-only."""

from __future__ import annotations

import csv
import json
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

NEEDED = ("reps.csv", "customers.csv", "deals.csv", "stage_events.csv", "truth.json")


@dataclass(frozen=True)
class WorldRep:
    rep_id: str
    name: str
    email: str
    language: str


@dataclass(frozen=True)
class WorldContact:
    name: str
    address: str  # how people address them ("Olivia", "王总")
    title: str


@dataclass(frozen=True)
class WorldCustomer:
    customer_id: str
    name: str
    language: str
    contacts: tuple[WorldContact, ...]
    slots: dict[str, str]  # competitor, budget, deadline, decider


@dataclass(frozen=True)
class WorldDeal:
    deal_id: str
    customer_id: str
    rep_id: str
    title: str
    created_at: datetime
    ends_at: datetime  # closed_at, or the world's end for an open deal
    events: tuple[tuple[datetime, str], ...]

    def stage_at(self, at: datetime) -> str:
        index = bisect_right([entered for entered, _ in self.events], at)
        return self.events[max(index - 1, 0)][1]


@dataclass(frozen=True)
class World:
    reps: dict[str, WorldRep]
    customers: dict[str, WorldCustomer]
    deals: list[WorldDeal]


def read_world(folder: Path) -> World:
    missing = [name for name in NEEDED if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} is not a generated world (missing {', '.join(missing)})")
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    world_end = datetime.fromisoformat(truth["world_end"])
    reps = {row["rep_id"]: WorldRep(row["rep_id"], row["name"], row["email"], row["language"])
            for row in _rows(folder / "reps.csv")}
    customers = {row["customer_id"]: _customer(row, truth["customers"].get(row["customer_id"], {}))
                 for row in _rows(folder / "customers.csv")}
    events: dict[str, list[tuple[datetime, str]]] = {}
    for row in _rows(folder / "stage_events.csv"):
        events.setdefault(row["deal_id"], []).append((datetime.fromisoformat(row["entered_at"]), row["stage"]))
    deals = [
        WorldDeal(row["deal_id"], row["customer_id"], row["rep_id"], row["title"],
                  datetime.fromisoformat(row["created_at"]),
                  datetime.fromisoformat(row["closed_at"]) if row["closed_at"] else world_end,
                  tuple(sorted(events.get(row["deal_id"], []))))
        for row in _rows(folder / "deals.csv")
    ]
    return World(reps, customers, deals)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _customer(row: dict[str, str], truth: dict) -> WorldCustomer:
    contacts = tuple(WorldContact(c["name"], c.get("address") or c["name"], c.get("title", ""))
                     for c in truth.get("contacts", ())) or (WorldContact(row["name"], row["name"], ""),)
    slots = {"competitor": truth.get("competitor", "another vendor"), "budget": truth.get("budget", ""),
             "deadline": truth.get("deadline", ""), "decider": truth.get("decision_maker", "")}
    return WorldCustomer(row["customer_id"], row["name"], row["language"], contacts, slots)
