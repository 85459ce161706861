"""What goes into a packet: the filter it was made from, its calls, its summary, its time.

Only finalized calls are packed: a record without a chain head has nothing that vouches for
it, and it may still change. How many calls matched the filter but were left out for that
is said in the packet itself, so a reader knows the list is not every call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from p2pcall.domain.history import HistoryFilter
from p2pcall.domain.stats import StatsReport
from p2pcall.domain.text import one_line

PACKET_FORMAT_VERSION = 1
PACKET_FORMATS = ("text", "markdown", "json", "pdf")
# The formats a packet can be checked in: the PDF is for reading (see the README).
CHECKABLE_FORMATS = ("text", "markdown", "json")

LEFT_OUT_REASON = (
    "not finalized: a call still open or not yet finalized has no chain head to vouch for "
    "its record, so it is not packed"
)
INTRO = (
    "This packet gathers the records of peer-to-peer review calls with health plans' "
    "reviewers, written with p2pcall while each call took place. It holds a summary of the "
    "calls, the list of calls, then each call's full record exactly as `p2pcall export` "
    "writes it, with the record's hash-chain head (fixed when it was finalized) and the "
    "SHA-256 digest of that export. Only finalized records are included. `p2pcall verify` "
    "checks a text, Markdown or JSON packet record by record against the database."
)


@dataclass(frozen=True)
class PacketFilter:
    """Which calls to pack. Empty values mean "any"; every condition given must hold.

    insurer / vendor: case-insensitive substrings (vendor: the linked reviewer's UM vendor,
        else the employer given on the call). reviewer: a reviewer's number (as
        `p2pcall reviewers` lists it; merged entries count as one) or part of a name.
    since / until: calendar days in `tz`, both included, compared with the call's creation.
    not_same_specialty: the reviewer was noted as not of the same specialty.
    declined_to_identify: the reviewer declined to give a name.
    outcome: an Outcome value.
    """

    insurer: str = ""
    vendor: str = ""
    reviewer: str = ""
    since: date | None = None
    until: date | None = None
    not_same_specialty: bool = False
    declined_to_identify: bool = False
    outcome: str = ""
    tz: str | None = None

    def history_filter(self) -> HistoryFilter:
        """The part the history list and `stats` already understand."""
        return HistoryFilter(
            insurer=self.insurer, outcome=self.outcome, since=self.since, until=self.until,
            tz=self.tz,
        )  # fmt: skip

    @property
    def reviewer_number(self) -> int | None:
        text = self.reviewer.strip().removeprefix("#")
        return int(text) if text.isascii() and text.isdigit() and len(text) < 19 else None

    def described(self) -> list[tuple[str, str]]:
        """(label, condition) for every condition given, in words; user text on one line."""
        rows: list[tuple[str, str]] = []
        if self.insurer.strip():
            rows.append(("Insurer", f"contains {one_line(self.insurer.strip(), 60)!r}"))
        if self.vendor.strip():
            rows.append(("UM vendor", f"contains {one_line(self.vendor.strip(), 60)!r}"))
        if self.reviewer.strip():
            number = self.reviewer_number
            rows.append(
                (
                    "Reviewer",
                    f"reviewer number {number}"
                    if number is not None
                    else f"name contains {one_line(self.reviewer.strip(), 60)!r}",
                )
            )
        if self.since:
            rows.append(("From", self.since.isoformat()))
        if self.until:
            rows.append(("To", self.until.isoformat()))
        if self.not_same_specialty:
            rows.append(("Specialty", "reviewer not of the same specialty"))
        if self.declined_to_identify:
            rows.append(("Identity", "reviewer declined to give a name"))
        if self.outcome:
            rows.append(("Outcome", self.outcome))
        return rows or [("Calls", "every finalized call")]

    @classmethod
    def from_json(cls, data: object, tz: object) -> PacketFilter | None:
        """The filter a packet states (`as_json`), None when it is not one."""
        if not isinstance(data, dict) or not isinstance(tz, str):
            return None
        texts = {key: data.get(key) for key in ("insurer", "vendor", "reviewer", "outcome")}
        flags = {key: data.get(key) for key in ("not_same_specialty", "declined_to_identify")}
        days = {key: data.get(key) for key in ("since", "until")}
        if set(data) != {*texts, *flags, *days}:
            return None
        if not all(value is None or isinstance(value, str) for value in texts.values()):
            return None
        if not all(isinstance(value, bool) for value in flags.values()):
            return None
        try:
            parsed = {
                key: date.fromisoformat(value) if isinstance(value, str) else None
                for key, value in days.items()
            }
        except ValueError:
            return None
        if not all(value is None or isinstance(value, str) for value in days.values()):
            return None
        return cls(
            insurer=texts["insurer"] or "",
            vendor=texts["vendor"] or "",
            reviewer=texts["reviewer"] or "",
            outcome=texts["outcome"] or "",
            since=parsed["since"],
            until=parsed["until"],
            not_same_specialty=flags["not_same_specialty"] is True,
            declined_to_identify=flags["declined_to_identify"] is True,
            tz=tz,
        )

    def as_json(self) -> dict[str, object]:
        return {
            "insurer": self.insurer.strip() or None,
            "vendor": self.vendor.strip() or None,
            "reviewer": self.reviewer.strip() or None,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "not_same_specialty": self.not_same_specialty,
            "declined_to_identify": self.declined_to_identify,
            "outcome": self.outcome or None,
        }


@dataclass(frozen=True)
class PacketCall:
    """One line of the list of calls, and the record's export as packed."""

    call_id: int
    day: str  # the call's local day, YYYY-MM-DD
    insurer: str
    reviewer: str  # as given on the call (its summary line)
    outcome: str  # the outcome's label, or "not recorded"
    chain_head: str  # recomputed from the record when it was packed
    export_digest: str  # SHA-256 of the export below, as its own footer or member says
    export: str  # the record exactly as `p2pcall export` renders it in the packet's format


@dataclass(frozen=True)
class Packet:
    filter: PacketFilter
    generated_at: datetime  # aware UTC, whole seconds (the exports' own time)
    time_zone: str
    redact: bool
    summary: StatsReport
    calls: list[PacketCall] = field(default_factory=list)
    not_finalized: int = 0  # matched the filter, left out (see LEFT_OUT_REASON)

    @property
    def first_day(self) -> str | None:
        return min((call.day for call in self.calls), default=None)

    @property
    def last_day(self) -> str | None:
        return max((call.day for call in self.calls), default=None)
