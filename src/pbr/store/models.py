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
    source_row: Optional[int] = None  # the row of the source file it was loaded from (a header is row 1)


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
    uprn: Optional[str] = Field(default=None, max_length=12)
    address: Optional[str] = Field(default=None, max_length=300)
    ni_number: Optional[str] = Field(default=None, max_length=13)


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


class Milestone(Provenance, table=True):
    """A step of the way of working recorded for a family (feeds.md, milestones.csv)."""

    __tablename__ = "milestones"
    family_id: str = Field(primary_key=True, max_length=100)
    milestone: str = Field(primary_key=True, max_length=50)
    milestone_date: dt.date = Field(primary_key=True)


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


class MatchRun(SQLModel, table=True):
    """One `pbr match`: when, by whom, the model that scored its rows (splink's settings with the m- and
    u-probabilities used, as JSON), how its parameters were found, the thresholds, and what its rows became."""

    __tablename__ = "match_runs"
    id: Optional[int] = Field(default=None, primary_key=True)
    started_at: dt.datetime
    finished_at: Optional[dt.datetime] = None
    actor: str = Field(max_length=200)
    members: int = 0
    trained: str = Field(sa_column=Column(Text))
    model_json: str = Field(sa_column=Column(Text))
    thresholds: str = Field(sa_column=Column(Text))
    rows_read: int = 0
    linked: int = 0
    review: int = 0
    unmatched: int = 0
    quarantined: int = 0


class PartnerRow(SQLModel, table=True):
    """A row of a partner file (matching.md) and what it became: linked to a member (and loaded as a record,
    `record_key`), waiting for review, unmatched, or quarantined. The identity is kept as the partner sent it.
    `latest` marks the rows of the latest load of each source; `version` moves with each decision, so two people
    deciding one row at once cannot both win."""

    __tablename__ = "partner_rows"
    __table_args__ = (Index("ix_partner_rows_source_latest", "source", "latest"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    run_id: int = Field(index=True)
    source: str = Field(max_length=300)
    table_name: str = Field(max_length=50)
    row_number: int
    row_digest: str = Field(max_length=64, index=True)
    latest: bool = True
    read_at: dt.datetime
    given_name: Optional[str] = Field(default=None, max_length=200)
    family_name: Optional[str] = Field(default=None, max_length=200)
    date_of_birth: Optional[str] = Field(default=None, max_length=40, description="as sent: it may be no date")
    sex: Optional[str] = Field(default=None, max_length=40)
    postcode: Optional[str] = Field(default=None, max_length=40)
    uprn: Optional[str] = Field(default=None, max_length=40)
    partner_ref: Optional[str] = Field(default=None, max_length=100)
    payload: str = Field(sa_column=Column(Text), description="the table's own columns as sent, JSON")
    status: str = Field(max_length=20)  # linked, review, unmatched, quarantined
    person_id: Optional[str] = Field(default=None, max_length=100, index=True)
    best_person_id: Optional[str] = Field(default=None, max_length=100)
    match_probability: Optional[float] = None
    match_weight: Optional[float] = None
    second_weight: Optional[float] = None
    candidates: Optional[str] = Field(default=None, sa_column=Column(Text))
    reason: Optional[str] = Field(default=None, sa_column=Column(Text))
    link_id: Optional[str] = Field(default=None, max_length=40)
    record_key: Optional[str] = Field(default=None, max_length=400)
    decided_by: Optional[str] = Field(default=None, max_length=200)
    decided_at: Optional[dt.datetime] = None
    note: Optional[str] = Field(default=None, sa_column=Column(Text))
    version: int = 0


FEED_MODELS: dict[str, type[SQLModel]] = {
    "families": Family,
    "members": Member,
    "indicators": Indicator,
    "events": Event,
    "episodes": Episode,
    "attendance": Attendance,
    "terms": Term,
    "assessments": Assessment,
    "milestones": Milestone,
    "grant_payments": GrantPayment,
}


class Claim(SQLModel, table=True):
    """A claim for one window. From `submitted` on it is immutable (database triggers), but for `paid`."""

    __tablename__ = "claims"
    ref: str = Field(primary_key=True, max_length=120)
    window_id: str = Field(max_length=100, index=True)
    evidence_date: dt.date
    opens: Optional[dt.date] = None
    closes: Optional[dt.date] = None
    status: str = Field(max_length=20)  # draft, sampled, submitted, paid
    results_payment_pence: int
    sample_seed: Optional[int] = None
    full_review_by: Optional[str] = Field(default=None, max_length=200)
    full_review_note: Optional[str] = Field(default=None, sa_column=Column(Text))
    late_reason: Optional[str] = Field(default=None, sa_column=Column(Text))
    submitted_by: Optional[str] = Field(default=None, max_length=200)
    submitted_at: Optional[dt.datetime] = None
    created_at: dt.datetime
    # the plan the lines were decided by, as its YAML text: submission decides again by it (none before 0005)
    plan_name: Optional[str] = Field(default=None, max_length=200)
    plan_sha256: Optional[str] = Field(default=None, max_length=64)
    plan_text: Optional[str] = Field(default=None, sa_column=Column(Text))


class ClaimLine(SQLModel, table=True):
    """One family's result in a claim, with the evidence that decided it."""

    __tablename__ = "claim_lines"
    __table_args__ = (Index("ix_claim_lines_claim_family", "claim_ref", "family_id", unique=True),)
    id: Optional[int] = Field(default=None, primary_key=True)
    claim_ref: str = Field(max_length=120, foreign_key="claims.ref")
    family_id: str = Field(max_length=100, index=True)
    attachment_date: dt.date
    themes_at_attachment: str = Field(max_length=300)
    claim_route: str = Field(max_length=10)
    amount_pence: int
    evidence: str = Field(sa_column=Column(Text))
    status: str = Field(max_length=20)  # live, withdrawn, recovered (recovery is booked in `recoveries`)
    sampled: bool = False
    verdict: Optional[str] = Field(default=None, max_length=10)
    verdict_by: Optional[str] = Field(default=None, max_length=200)
    verdict_note: Optional[str] = Field(default=None, sa_column=Column(Text))
    withdrawn_reason: Optional[str] = Field(default=None, sa_column=Column(Text))


class ClaimHeld(SQLModel, table=True):
    """A claimable family left out of a claim, and why (nothing is silently left out)."""

    __tablename__ = "claim_held"
    id: Optional[int] = Field(default=None, primary_key=True)
    claim_ref: str = Field(max_length=120, foreign_key="claims.ref", index=True)
    family_id: str = Field(max_length=100)
    reason: str = Field(sa_column=Column(Text))


class FamilyResult(SQLModel, table=True):
    """The register of results: one row per family whose live line sits in a submitted or paid claim.

    Its primary key is the one-result-per-family rule, enforced by the database under concurrency.
    """

    __tablename__ = "family_results"
    family_id: str = Field(primary_key=True, max_length=100)
    claim_ref: str = Field(max_length=120, foreign_key="claims.ref")
    line_id: int = Field(foreign_key="claim_lines.id")


class ClaimPayment(SQLModel, table=True):
    __tablename__ = "claim_payments"
    id: Optional[int] = Field(default=None, primary_key=True)
    claim_ref: str = Field(max_length=120, foreign_key="claims.ref", index=True)
    amount_pence: int
    reference: str = Field(max_length=200)
    recorded_at: dt.datetime


class Recovery(SQLModel, table=True):
    """A paid line found invalid: a negative amount booked against it; the line itself stays as it was."""

    __tablename__ = "recoveries"
    id: Optional[int] = Field(default=None, primary_key=True)
    line_id: int = Field(foreign_key="claim_lines.id", unique=True)
    claim_ref: str = Field(max_length=120, foreign_key="claims.ref", index=True)
    family_id: str = Field(max_length=100)
    amount_pence: int = Field(description="negative")
    reason: str = Field(sa_column=Column(Text))
    booked_on: dt.date = Field(description="the day the recovery is booked (reconciliation year)")
    recorded_by: str = Field(max_length=200)
    recorded_at: dt.datetime


class JobRun(SQLModel, table=True):
    """One run of a scheduled job: when, how it ended, what it counted, and the error if it failed."""

    __tablename__ = "job_runs"
    id: Optional[int] = Field(default=None, primary_key=True)
    job_id: str = Field(max_length=100, index=True)
    attempt: int = 1
    started_at: dt.datetime
    finished_at: Optional[dt.datetime] = None
    outcome: str = Field(max_length=20)  # running, ok, failed, skipped, interrupted
    counts: Optional[str] = Field(default=None, sa_column=Column(Text))
    error: Optional[str] = Field(default=None, sa_column=Column(Text))
    host: Optional[str] = Field(default=None, max_length=200)


class JobLease(SQLModel, table=True):
    """Who is running a job now, until when: two schedulers on one database never run a job twice at once."""

    __tablename__ = "job_leases"
    job_id: str = Field(primary_key=True, max_length=100)
    owner: Optional[str] = Field(default=None, max_length=200)
    until: Optional[dt.datetime] = None


class DecisionSnapshot(SQLModel, table=True):
    __tablename__ = "decision_snapshots"
    id: Optional[int] = Field(default=None, primary_key=True)
    as_of: dt.date = Field(index=True)
    taken_at: dt.datetime
    plan_sha256: str = Field(max_length=64)
    families: int
    eligible: int
    claimable: int


class DecisionSnapshotRow(SQLModel, table=True):
    __tablename__ = "decision_snapshot_rows"
    snapshot_id: int = Field(primary_key=True, foreign_key="decision_snapshots.id")
    family_id: str = Field(primary_key=True, max_length=100)
    eligible: bool
    ssp_met: bool
    ce_met: bool
    claimable: bool
    claim_route: Optional[str] = Field(default=None, max_length=10)
    earliest_claimable_date: Optional[dt.date] = None
    quarantined_records: int = 0


class User(SQLModel, table=True):
    """A person who signs in to the web app. Keyworkers see the families whose keyworker_id is theirs."""

    __tablename__ = "users"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True)
    role: str = Field(max_length=20)  # keyworker, coordinator, finance, auditor
    keyworker_id: Optional[str] = Field(default=None, max_length=100)
    password_hash: str = Field(max_length=300)
    created_at: dt.datetime
    # a sign-in is refused from this moment (someone who left); their open sessions end at their next request
    disabled_at: Optional[dt.datetime] = None
    # moves on each password change or disabling: a session holds the value it signed in under, so older ones end
    session_epoch: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class WebSession(SQLModel, table=True):
    """A signed-in session of the web app, until its user signs out (or is disabled, or changes password).

    The cookie holds a random token; only its SHA-256 is kept here, so the table cannot be used to sign in.
    """

    __tablename__ = "web_sessions"
    token_sha256: str = Field(primary_key=True, max_length=64)
    user_name: str = Field(max_length=200, index=True)
    created_at: dt.datetime
