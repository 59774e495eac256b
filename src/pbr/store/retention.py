"""Personal data kept no longer than needed: names and addresses of families whose case closed long ago.

Only the columns the feed contract marks `personal` are removed (given name, family name, postcode, UPRN): dates
of birth, sex and every record stay, so every decision and claim can still be checked. The names go from the
stored rows, from the corrections log's before-and-after copies, from the quarantine's held values and from the
identity kept with the partner rows linked to them alike.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update

from pbr.contract import contracts
from pbr.store import Store
from pbr.store.models import Correction, Family, Member, PartnerRow, QuarantineEntry

CHUNK = 500


@dataclass(frozen=True)
class Redaction:
    families: int
    people: int  # members whose names or postcode were removed now


def personal_columns() -> list[str]:
    """The members columns the feed contract marks personal (the only table holding any)."""
    personal = {
        table: [c.name for c in contract.columns.values() if c.personal] for table, contract in contracts().items()
    }
    elsewhere = sorted(t for t, columns in personal.items() if columns and t != "members")
    if elsewhere:  # the redaction below reaches members only: a contract marking more must extend it first
        raise ValueError(f"the feed contract marks personal columns in {', '.join(elsewhere)}, not only in members")
    return personal["members"]


def redact_closed_before(store: Store, closed_before: dt.date, actor: str, dry_run: bool = False) -> Redaction:
    """Remove the personal columns of every member of a family whose case closed before `closed_before`."""
    columns = personal_columns()
    members, families = Member.__table__, Family.__table__
    closed = select(families.c.family_id).where(families.c.closure_date < closed_before)
    named = or_(*[members.c[c].is_not(None) for c in columns])
    with store.engine.begin() as connection:
        family_count = len(connection.execute(closed).all())
        people = (
            connection.execute(select(members.c.person_id).where(members.c.family_id.in_(closed), named))
            .scalars()
            .all()
        )
        everyone = (
            connection.execute(select(members.c.person_id).where(members.c.family_id.in_(closed))).scalars().all()
        )
        if dry_run:
            return Redaction(family_count, len(people))
        connection.execute(
            update(members).where(members.c.family_id.in_(closed), named).values(**{c: None for c in columns})
        )
        for start in range(0, len(everyone), CHUNK):
            _scrub_corrections(connection, everyone[start : start + CHUNK], columns)
        quarantine = QuarantineEntry.__table__
        connection.execute(
            update(quarantine)
            .where(
                and_(
                    quarantine.c.table_name == "members",
                    quarantine.c.family_id.in_(closed),
                    quarantine.c.column_name.in_(columns),
                )
            )
            .values(value=None)
        )
        partner = _redact_partner_rows(connection, everyone)
        store.audit(
            connection,
            actor,
            "redact personal data",
            "families",
            f"closed before {closed_before}",
            f"{', '.join(columns)} removed for {len(people)} people in {family_count} families"
            + (f", and the identity of {partner} partner rows linked to them" if partner else ""),
        )
    return Redaction(family_count, len(people))


PARTNER_IDENTITY = ("given_name", "family_name", "postcode", "uprn", "partner_ref")


def _redact_partner_rows(connection, person_ids: list[str]) -> int:
    """The names, address and partner reference kept with the partner rows linked to these people."""
    rows = PartnerRow.__table__
    named = or_(*[rows.c[c].is_not(None) for c in PARTNER_IDENTITY])
    done = 0
    for start in range(0, len(person_ids), CHUNK):
        part = person_ids[start : start + CHUNK]
        done += connection.execute(
            update(rows).where(rows.c.person_id.in_(part), named).values(**{c: None for c in PARTNER_IDENTITY})
        ).rowcount
    return done


def _scrub_corrections(connection, person_ids: list[str], columns: list[str]) -> None:
    corrections = Correction.__table__
    rows = connection.execute(
        select(corrections.c.id, corrections.c.before, corrections.c.after).where(
            corrections.c.table_name == "members", corrections.c.record_key.in_(person_ids)
        )
    ).all()
    for row in rows:
        scrubbed = {side: _without(getattr(row, side), columns) for side in ("before", "after")}
        if scrubbed != {"before": row.before, "after": row.after}:
            connection.execute(update(corrections).where(corrections.c.id == row.id).values(**scrubbed))


def _without(text: str, columns: list[str]) -> str:
    content = json.loads(text)
    if not isinstance(content, dict):
        return text
    return json.dumps({k: (None if k in columns else v) for k, v in content.items()})
