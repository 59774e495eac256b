"""The data model: one table per feed (feeds.md), plus ingest runs, quarantine, corrections and the audit log.

Keyed feeds use their key as the primary key. Keyless feeds carry `record_key`, a digest of the source, the
record's parsed content and its occurrence number among identical rows of that source, so re-sending a file
or a cumulative extract adds only what is new. Money is integer pence; scores are exact decimal text.
"""
from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel


class Provenance(SQLModel):
    source: str = Field(max_length=300)
    content_hash: str = Field(max_length=64)
    load_id: Optional[int] = Field(default=None, index=True)


class Family(Provenance, table=True):
    __tablename__ = "families"
    family_id: str = Field(primary_key=True, max_length=100)
    attachment_date: dt.date
    keyworker_id: Optional[str] = Field(default=None, max_length=100, index=True)
    closure_date: Optional[dt.date] = None


class Member(Provenance, table=True):
    __tablename__ = "members"
    person_id: str = Field(primary_key=True, max_length=100)
    family_id: str = Field(max_length=100, index=True)
    date_of_birth: Optional[dt.date] = None
    sex: Optional[str] = Field(default=None, max_length=1)
    given_name: Optional[str] = Field(default=None, max_length=200)
    family_name: Optional[str] = Field(default=None, max_length=200)
    postcode: Optional[str] = Field(default=None, max_length=20)


class Keyless(Provenance):
    id: Optional[int] = Field(default=None, primary_key=True)
    record_key: str = Field(max_length=64, unique=True)


class Indicator(Keyless, table=True):
    __tablename__ = "indicators"
    person_id: str = Field(max_length=100, index=True)
    indicator: str = Field(max_length=200)
    identified_date: dt.date


class Event(Keyless, table=True):
    __tablename__ = "events"
    person_id: str = Field(max_length=100, index=True)
    event_type: str = Field(max_length=50)
    event_date: dt.date


class Episode(Keyless, table=True):
    __tablename__ = "episodes"
    person_id: str = Field(max_length=100, index=True)
    episode_type: str = Field(max_length=50)
    start_date: dt.date
    end_date: Optional[dt.date] = None


class Attendance(Provenance, table=True):
    __tablename__ = "attendance"
    person_id: str = Field(primary_key=True, max_length=100)
    term_id: str = Field(primary_key=True, max_length=100)
    possible_sessions: int
    authorised_absence: int
    unauthorised_absence: int


class Term(Provenance, table=True):
    __tablename__ = "terms"
    term_id: str = Field(primary_key=True, max_length=100)
    start_date: dt.date
    end_date: dt.date


class Assessment(Provenance, table=True):
    __tablename__ = "assessments"
    family_id: str = Field(primary_key=True, max_length=100)
    tool: str = Field(primary_key=True, max_length=100)
    domain: str = Field(primary_key=True, max_length=100)
    assessment_date: dt.date = Field(primary_key=True)
    score: str = Field(max_length=40, description="exact decimal, as text")


class GrantPayment(Keyless, table=True):
    __tablename__ = "grant_payments"
    payment_date: dt.date
    amount: int = Field(description="pence; negative for a recovery")
    kind: str = Field(max_length=20)
    reference: Optional[str] = Field(default=None, max_length=200)


class IngestRun(SQLModel, table=True):
    __tablename__ = "ingest_runs"
    id: Optional[int] = Field(default=None, primary_key=True)
    batch: str = Field(max_length=40, index=True)
    source: str = Field(max_length=300)
    table_name: str = Field(max_length=50)
    file_path: str = Field(sa_column=Column(Text))
    sha256: str = Field(max_length=64)
    started_at: dt.datetime
    finished_at: Optional[dt.datetime] = None
    rows_read: int = 0
    loaded: int = 0
    unchanged: int = 0
    quarantined: int = 0
    status: str = Field(max_length=20)
    message: Optional[str] = Field(default=None, sa_column=Column(Text))


class QuarantineEntry(SQLModel, table=True):
    __tablename__ = "quarantine"
    __table_args__ = (Index("ix_quarantine_source", "source"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    load_id: int = Field(index=True)
    source: str = Field(max_length=300)
    table_name: str = Field(max_length=50)
    row_number: int
    column_name: str = Field(max_length=300)
    value: Optional[str] = Field(default=None, sa_column=Column(Text))
    reason: str = Field(sa_column=Column(Text))
    family_id: Optional[str] = Field(default=None, max_length=100, index=True)
    person_id: Optional[str] = Field(default=None, max_length=100)


class Correction(SQLModel, table=True):
    """A keyed record replaced by a later load: what it was and what it became."""
    __tablename__ = "corrections"
    id: Optional[int] = Field(default=None, primary_key=True)
    load_id: int = Field(index=True)
    table_name: str = Field(max_length=50)
    record_key: str = Field(max_length=400)
    before: str = Field(sa_column=Column(Text))
    after: str = Field(sa_column=Column(Text))


class AuditLog(SQLModel, table=True):
    __tablename__ = "audit_log"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: dt.datetime = Field(index=True)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=100)
    entity: str = Field(max_length=100)
    entity_id: str = Field(max_length=200)
    detail: Optional[str] = Field(default=None, sa_column=Column(Text))


FEED_MODELS: dict[str, type[SQLModel]] = {
    "families": Family, "members": Member, "indicators": Indicator, "events": Event, "episodes": Episode,
    "attendance": Attendance, "terms": Term, "assessments": Assessment, "grant_payments": GrantPayment,
}
