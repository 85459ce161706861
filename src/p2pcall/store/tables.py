"""SQLModel tables. The DDL that creates them lives in schema.py, one step per version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table
from sqlmodel import Field, SQLModel

from p2pcall.store.types import UTCDateTime


class CallRow(SQLModel, table=True):
    __tablename__ = "call"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    tz: str
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = None
    finalized_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    chain_head: str | None = None


class FieldRow(SQLModel, table=True):
    """The current value of one structured field of a call."""

    __tablename__ = "call_field"

    call_id: int = Field(foreign_key="call.id", primary_key=True)
    key: str = Field(primary_key=True)
    value: str = ""
    declined: bool = False
    updated_at: datetime = Field(sa_type=UTCDateTime)
    late: bool = False


class FieldEditRow(SQLModel, table=True):
    """Append-only history of committed field values, with their times."""

    __tablename__ = "field_edit"

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id")
    key: str
    value: str = ""
    declined: bool = False
    edited_at: datetime = Field(sa_type=UTCDateTime)
    late: bool = False


class NoteRow(SQLModel, table=True):
    __tablename__ = "note"

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id")
    section: str
    kind: str
    body: str
    started_at: datetime = Field(sa_type=UTCDateTime)
    saved_at: datetime = Field(sa_type=UTCDateTime)
    late: bool = False
    reason: str = ""
    corrects_id: int | None = Field(default=None, foreign_key="note.id")


# The note table with its schema-v7 idempotency key (`client_key`), for the statements that
# write or look up a note by key. NoteRow leaves the key out: every other read and write of
# a note stays the same on every schema version, and the key never reaches the record.
NOTE_WITH_KEY = Table(
    "note",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("call_id", Integer, nullable=False),
    Column("section", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("body", String, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("saved_at", UTCDateTime, nullable=False),
    Column("late", Boolean, nullable=False),
    Column("reason", String, nullable=False),
    Column("corrects_id", Integer),
    Column("client_key", String),
)


class DraftRow(SQLModel, table=True):
    """Unsent text of a note field, one per call and section."""

    __tablename__ = "draft"

    call_id: int = Field(foreign_key="call.id", primary_key=True)
    section: str = Field(primary_key=True)
    kind: str
    body: str
    started_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class FollowUpRow(SQLModel, table=True):
    __tablename__ = "followup"

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id")
    action: str
    status: str = "planned"
    created_at: datetime = Field(sa_type=UTCDateTime)
    rule_id: str | None = None
    computed_due: datetime | None = Field(default=None, sa_type=UTCDateTime)
    due_override: datetime | None = Field(default=None, sa_type=UTCDateTime)
    override_reason: str = ""
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str = ""
    legal_due: datetime | None = Field(default=None, sa_type=UTCDateTime)  # schema v3
    received: str | None = None  # schema v6: "received" / "not_received" (promises)
    received_on: str | None = None  # schema v6: YYYY-MM-DD


class LetterEditRow(SQLModel, table=True):
    """The user's edited text of one letter of a call (not part of the record)."""

    __tablename__ = "letter_edit"

    call_id: int = Field(foreign_key="call.id", primary_key=True)
    kind: str = Field(primary_key=True)
    body: str
    updated_at: datetime = Field(sa_type=UTCDateTime)


class LetterFileRow(SQLModel, table=True):
    """A letter written to a file: when, which kind and format, where."""

    __tablename__ = "letter_file"

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id")
    kind: str
    format: str
    path: str
    edited: bool = False
    written_at: datetime = Field(sa_type=UTCDateTime)


class ReviewerRow(SQLModel, table=True):
    """A reviewer met across calls (schema v6; not part of any call's record)."""

    __tablename__ = "reviewer"

    id: int | None = Field(default=None, primary_key=True)
    name: str
    name_key: str
    credentials: str = ""
    specialty: str = ""
    board: str = ""
    license_states: str = ""
    npi: str = ""
    vendor: str = ""
    created_at: datetime = Field(sa_type=UTCDateTime)
    merged_into: int | None = Field(default=None, foreign_key="reviewer.id")
    merged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CallReviewerRow(SQLModel, table=True):
    """Which reviewer a call is linked to (metadata beside the record)."""

    __tablename__ = "call_reviewer"

    call_id: int = Field(foreign_key="call.id", primary_key=True)
    reviewer_id: int = Field(foreign_key="reviewer.id")
    linked_at: datetime = Field(sa_type=UTCDateTime)


class ReviewerLinkLogRow(SQLModel, table=True):
    """Every link, unlink, merge and unmerge, with its time."""

    __tablename__ = "reviewer_link_log"

    id: int | None = Field(default=None, primary_key=True)
    action: str
    call_id: int | None = Field(default=None, foreign_key="call.id")
    reviewer_id: int = Field(foreign_key="reviewer.id")
    other_id: int | None = Field(default=None, foreign_key="reviewer.id")
    at: datetime = Field(sa_type=UTCDateTime)
