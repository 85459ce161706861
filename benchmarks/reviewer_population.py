"""Who was on the line for the ten-year generator (history_scale.py): about 600 reviewers
across 40 insurers and 8 UM vendors, with the skew seen in practice.

Insurers follow a Zipf-like share of calls; each insurer sends most of its reviews to one
vendor, some to a second, and keeps a few reviewers in-house. Within a vendor a handful of
reviewers take most calls. Some reviewers decline to give their name (the call is then not
linked); most named ones were linked by the user. Promised documents are followed up with
received / not received, and the plan's written decision is chased until it comes.

Has its own random stream, so the notes and fields history_scale.py draws stay the same.
All names are invented.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

MORE_INSURERS = [
    "Evergreen Mutual Health", "Riverbend Health Plan", "Oakmont Benefit Trust",
    "Highland Community Care", "Sunrise Medicaid Partners", "Tidewater Health",
    "Clearwater Member Plan", "Pioneer Valley Health", "Northgate Assurance",
    "Willow Creek Health", "Beacon Family Plan", "Frontier Benefit Health",
    "Maplewood Care Plan", "Stonebridge Health", "Horizon Ridge Health",
    "Golden Plains Medicaid", "Cascade Employee Health", "Union Square Benefits",
    "Pinecrest Medicare Plan", "Bluewater Health Trust", "Crescent City Health",
    "Lantern Health Cooperative", "Copperfield Health", "Westbrook Care Alliance",
]  # fmt: skip
VENDORS = [
    "Carelign Review", "Northstar UM", "Peerpoint Medical Review", "Allied Utilization",
    "Keystone Review Group", "MedVantage UM", "ClearPath Review", "Sentinel Physician Review",
]  # fmt: skip
VENDOR_WEIGHTS = [30, 20, 15, 10, 8, 7, 5, 5]
FIRST = [
    "Alan", "Beth", "Carla", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
    "Karen", "Luis", "Maya", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara",
    "Umar", "Vera", "Wen", "Ximena", "Yusuf", "Zoe", "Anil", "Bianca", "Colin", "Dana",
]  # fmt: skip
REVIEWER_SPECIALTIES = [
    ("Psychiatry", 30), ("Family medicine", 20), ("Internal medicine", 20),
    ("Child and adolescent psychiatry", 8), ("Emergency medicine", 8),
    ("Pediatrics", 6), ("Addiction medicine", 4), ("Psychology", 4),
]  # fmt: skip
PSYCHIATRY = {"Psychiatry", "Child and adolescent psychiatry", "Addiction medicine"}
STATES = ["NY", "NJ", "CA", "TX", "IL", "MA", "WA", "FL", "PA", "OH"]
VENDOR_REVIEWERS = 480
IN_HOUSE_PER_INSURER = 3


def _zipf(count: int, s: float) -> list[float]:
    return [1 / (rank**s) for rank in range(1, count + 1)]


@dataclass
class Person:
    id: int
    name: str
    credentials: str
    specialty: str
    board: str
    states: str
    npi: str
    vendor: str


@dataclass
class Assignment:
    insurer: str
    fields: dict[str, str]
    declined: list[str]


@dataclass
class Population:
    rng: random.Random
    insurers: list[str]
    people: list[Person] = field(default_factory=list)
    links: list[tuple[int, int, str]] = field(default_factory=list)  # call, reviewer, at
    followups: list[tuple] = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = self.rng
        names = rng.sample([f"{f} {s}" for f in FIRST for s in SURNAMES_FOR_NAMES], 600)
        specialties = [name for name, _ in REVIEWER_SPECIALTIES]
        weights = [w for _, w in REVIEWER_SPECIALTIES]
        self.pool: dict[str, list[Person]] = {}
        owners = [v for v, w in zip(VENDORS, VENDOR_WEIGHTS, strict=True) for _ in range(w)]
        homes = [rng.choice(owners) for _ in range(VENDOR_REVIEWERS)]
        for insurer in self.insurers:
            homes += [insurer] * IN_HOUSE_PER_INSURER
        for number, (name, home) in enumerate(zip(names, homes, strict=False), start=1):
            specialty = rng.choices(specialties, weights)[0]
            person = Person(
                id=number,
                name=name,
                credentials=rng.choice(["MD", "MD", "MD", "DO", "PhD"]),
                specialty=specialty,
                board=rng.choice(["ABPN", "ABFM", "ABIM", "none stated"]),
                states=", ".join(sorted(rng.sample(STATES, rng.randint(1, 3)))),
                npi=str(1_000_000_000 + rng.randint(0, 999_999_999)),
                vendor=home,
            )
            self.people.append(person)
            self.pool.setdefault(home, []).append(person)
        self.weights = {home: _zipf(len(group), 1.1) for home, group in self.pool.items()}
        self.insurer_weights = _zipf(len(self.insurers), 1.0)
        self.primary = {
            insurer: rng.choices(VENDORS, VENDOR_WEIGHTS, k=2) for insurer in self.insurers
        }

    def assign(self, call_id: int, start: datetime, ended: bool) -> Assignment:
        rng = self.rng
        insurer = rng.choices(self.insurers, self.insurer_weights)[0]
        roll = rng.random()
        # A quarter in-house; the rest mostly to the insurer's main vendor.
        home = insurer if roll < 0.25 else self.primary[insurer][0 if roll < 0.85 else 1]
        person = rng.choices(self.pool[home], self.weights[home])[0]
        fields = {
            "reviewer_credentials": person.credentials,
            "reviewer_specialty": person.specialty,
            "reviewer_employer": person.vendor,
        }
        declined: list[str] = []
        if rng.random() < 0.08:
            declined.append("reviewer_name")
            if rng.random() < 0.5:
                declined.append("reviewer_board")
        else:
            fields["reviewer_name"] = f"Dr. {person.name}"
            if rng.random() < 0.85:
                self.links.append((call_id, person.id, _stamp(start + timedelta(minutes=3))))
        if rng.random() < 0.9:
            same = person.specialty in PSYCHIATRY
            fields["reviewer_same_specialty"] = "yes" if same else "no"
        if ended:
            self._followups(call_id, start)
        return Assignment(insurer, fields, declined)

    def _followups(self, call_id: int, start: datetime) -> None:
        rng = self.rng
        created = _stamp(start + timedelta(minutes=40))
        if rng.random() < 0.3:
            due = start + timedelta(days=5)
            roll = rng.random()
            status, received, on, done = "planned", None, None, None
            if roll < 0.42:
                received, on = "received", (start + timedelta(days=rng.randint(1, 5))).date()
            elif roll < 0.6:
                received, on = "received", (start + timedelta(days=rng.randint(6, 20))).date()
            elif roll < 0.75:
                received, on = "not_received", (start + timedelta(days=7)).date()
            if received == "received":
                status, done = "done", _stamp(datetime.combine(on, start.timetz()))
            self.followups.append(
                (call_id, "chase_documents", status, created, _stamp(due), done, received,
                 on.isoformat() if on else None)
            )  # fmt: skip
        if rng.random() < 0.5:
            decided = start + timedelta(days=rng.uniform(1, 20))
            self.followups.append(
                (call_id, "chase_plan", "done", created, _stamp(start + timedelta(days=15)),
                 _stamp(decided), None, None)
            )  # fmt: skip

    def insert(self, db) -> None:  # type: ignore[no-untyped-def]
        from p2pcall.domain.reviewers import name_key

        db.executemany(
            "INSERT INTO reviewer (id, name, name_key, credentials, specialty, board, "
            "license_states, npi, vendor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (p.id, p.name, name_key(p.name), p.credentials, p.specialty, p.board, p.states,
                 p.npi, p.vendor, "2016-11-01T14:00:00.000000Z")
                for p in self.people
            ],
        )  # fmt: skip
        db.executemany(
            "INSERT INTO call_reviewer (call_id, reviewer_id, linked_at) VALUES (?, ?, ?)",
            self.links,
        )
        db.executemany(
            "INSERT INTO followup (call_id, action, status, created_at, computed_due, done_at, "
            "received, received_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            self.followups,
        )


SURNAMES_FOR_NAMES = [
    "Ruiz", "Okafor", "Lindqvist", "Tanaka", "Moreau", "Haddad", "Kowalski", "Nguyen",
    "Brennan", "Castillo", "Abernathy", "Petrovic", "Osei", "Fischer", "Iyer", "Dubois",
    "Whitfield", "Zamora", "Achterberg", "Sorensen", "Mbeki", "Yamamoto", "Quintero",
]  # fmt: skip


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
