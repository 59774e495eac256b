"""Partner rows of people the council never works with, removed when their retention period ends (matching.md).

A row that stayed unmatched (or quarantined) since it was read more than `retention.unmatched_days` ago goes,
identity and record alike: it was shared to find families, and found none. Every removal is audited.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from pbr.store import Store
from pbr.store.models import PartnerRow

FORGOTTEN = ("unmatched", "quarantined")


@dataclass(frozen=True)
class Forgotten:
    before: dt.datetime
    rows: int
    by_source: dict[str, int]


def forget_unmatched(store: Store, now: dt.datetime, days: int, actor: str, dry_run: bool = False) -> Forgotten:
    """Remove the unmatched and quarantined partner rows read more than `days` days before `now`."""
    rows = PartnerRow.__table__
    before = now - dt.timedelta(days=days)
    expired = (rows.c.status.in_(FORGOTTEN), rows.c.read_at < before)
    with store.writing() as connection:
        counts = dict(
            connection.execute(select(rows.c.source, func.count()).where(*expired).group_by(rows.c.source)).all()
        )
        found = Forgotten(before, sum(counts.values()), counts)
        if dry_run or not found.rows:
            return found
        connection.execute(delete(rows).where(*expired))
        store.audit(
            connection,
            actor,
            "match retention",
            "partner_rows",
            f"read before {before.date().isoformat()}",
            json.dumps({"removed": found.rows, "by_source": counts, "retention_days": days}),
        )
    return found
