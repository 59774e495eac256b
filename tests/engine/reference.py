"""A deliberately simple, per-family reading of outcome-plan.md, written apart from the engine.

It imports nothing from pbr: it reads the plan YAML itself and walks plain Python lists, day by day where
that is the simplest reading (the forecast tries every day in turn).
"""

from __future__ import annotations

import calendar
import datetime as dt
from fractions import Fraction

ONE = dt.timedelta(days=1)


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def frozen(data: dict, cutoff: dt.date) -> dict:
    """The records as they stood on the cut-off (episodes ending later become open)."""
    terms_end = {t["term_id"]: t["end_date"] for t in data["terms"]}
    return {
        "cutoff": cutoff,
        "members": data["members"],
        "indicators": [r for r in data["indicators"] if r["identified_date"] <= cutoff],
        "events": [r for r in data["events"] if r["event_date"] <= cutoff],
        "episodes": [
            {**r, "end_date": r["end_date"] if r["end_date"] and r["end_date"] <= cutoff else None}
            for r in data["episodes"]
            if r["start_date"] <= cutoff
        ],
        "attendance": [r for r in data["attendance"] if terms_end[r["term_id"]] <= cutoff],
        "assessments": [r for r in data["assessments"] if r["assessment_date"] <= cutoff],
        "milestones": [r for r in data.get("milestones", []) if r["milestone_date"] <= cutoff],
        "terms": sorted(data["terms"], key=lambda t: t["end_date"]),
    }


def absent(record: dict, kind: str) -> int:
    return record["unauthorised"] if kind == "unauthorised" else record["authorised"] + record["unauthorised"]


def pct_at_least(record: dict, kind: str, percent) -> bool:
    return Fraction(100 * absent(record, kind), record["possible"]) >= Fraction(str(percent))


def overlaps(episode: dict, low_exclusive: dt.date, high: dt.date) -> bool:
    end = episode["end_date"] or dt.date.max
    return episode["start_date"] <= high and end > low_exclusive


def latest_terms(terms: list[dict], day: dt.date, count: int) -> list[dict]:
    ended = [t for t in terms if t["end_date"] <= day]
    return ended[-count:] if count else []


class Reference:
    def __init__(self, plan: dict):
        self.plan = plan
        self.lookback = plan.get("eligibility_lookback_months", 12)

    def flagged(self, family: dict, rec: dict) -> dict[str, set[str]]:
        a = family["attachment_date"]
        return self._fired(family, rec, add_months(a, -self.lookback), a, since=False)

    def emerged(self, family: dict, rec: dict, present: dict[str, set[str]]) -> dict[str, set[str]]:
        """Themes not present at attachment whose criteria fire over A < d <= D."""
        fired = self._fired(family, rec, family["attachment_date"], rec["cutoff"], since=True)
        return {theme: people for theme, people in fired.items() if theme not in present}

    def _fired(self, family, rec, low, high, since) -> dict[str, set[str]]:
        people = [m["person_id"] for m in rec["members"] if m["family_id"] == family["family_id"]]
        result: dict[str, set[str]] = {}
        for theme, body in self.plan["themes"].items():
            for crit in body["eligibility"]:
                for p in people:
                    if self.fires(crit, theme, p, high, low, rec, since):
                        result.setdefault(theme, set()).add(p)
        return result

    def fires(self, crit, theme, p, a, low, rec, since=False) -> bool:
        """Whether a criterion fires for person p over low < d <= a (a: the attachment day, or D since it)."""
        kind = crit["kind"]
        if kind == "recorded_indicator":
            return any(
                r["person_id"] == p and r["indicator"].split(".")[0] == theme and low < r["identified_date"] <= a
                for r in rec["indicators"]
            )
        if kind == "event_count":
            n = sum(
                1
                for r in rec["events"]
                if r["person_id"] == p and r["event_type"] in crit["event_types"] and low < r["event_date"] <= a
            )
            return n >= crit["min_count"]
        if kind == "episode_open":
            for r in rec["episodes"]:
                if r["person_id"] != p or r["episode_type"] not in crit["episode_types"]:
                    continue
                end = r["end_date"] or dt.date.max
                if crit.get("at_attachment", False) and not since:
                    if r["start_date"] <= a <= end:
                        return True
                elif r["start_date"] <= a and end > low:
                    return True
            return False
        if kind == "attendance_below":
            if since:
                ids = {t["term_id"] for t in rec["terms"] if low < t["end_date"] <= a}
            else:
                ids = {t["term_id"] for t in latest_terms(rec["terms"], a, crit["terms"])}
            return any(
                r["person_id"] == p
                and r["term_id"] in ids
                and pct_at_least(r, crit.get("absence", "overall"), crit["min_absence_percent"])
                for r in rec["attendance"]
            )
        raise AssertionError(kind)

    def measure(self, m, theme, family, flagged, rec, day) -> bool:
        a = family["attachment_date"]
        fid = family["family_id"]
        everyone = {x["person_id"] for x in rec["members"] if x["family_id"] == fid}
        scope = flagged if m.get("scope", "family") == "flagged" else everyone
        kind = m["kind"]
        # the day the window must start on or after: attachment, or a case closure recorded by the cut-off
        closed = family.get("closure_date")
        anchor = (
            a
            if m.get("window_after", "attachment") == "attachment"
            else (closed if closed is not None and closed <= rec["cutoff"] else None)
        )
        if kind in ("no_events", "events_reduced", "no_episodes"):
            s = add_months(day, -m["months"])
            if anchor is None or s < anchor:
                return False
            if kind == "no_episodes":
                return not any(
                    r["person_id"] in scope and r["episode_type"] in m["episode_types"] and overlaps(r, s, day)
                    for r in rec["episodes"]
                )
            chosen = [r for r in rec["events"] if r["person_id"] in scope and r["event_type"] in m["event_types"]]
            after = sum(1 for r in chosen if s < r["event_date"] <= day)
            if kind == "no_events":
                return after == 0
            before = sum(1 for r in chosen if add_months(a, -m["months"]) < r["event_date"] <= a)
            return 100 * after <= (100 - Fraction(str(m["reduction_percent"]))) * before
        if kind == "attendance_sustained":
            terms = latest_terms(rec["terms"], day, m["terms"])
            if len(terms) < m["terms"] or anchor is None or any(t["start_date"] <= anchor for t in terms):
                return False
            in_scope = flagged | (everyone if m.get("scope", "family") == "family" else set())
            born = {x["person_id"]: x["date_of_birth"] for x in rec["members"]}
            ids = {t["term_id"] for t in terms}
            for t in terms:
                for p in flagged:
                    dob = born[p]
                    if dob is None or (add_months(t["start_date"], -192) < dob <= add_months(t["start_date"], -60)):
                        if not any(r["person_id"] == p and r["term_id"] == t["term_id"] for r in rec["attendance"]):
                            return False
            for r in rec["attendance"]:
                if (
                    r["person_id"] in in_scope
                    and r["term_id"] in ids
                    and pct_at_least(r, m.get("absence", "overall"), m["max_absence_percent"])
                ):
                    return False
            first, last = terms[0]["start_date"], terms[-1]["end_date"]
            ex = [r for r in rec["events"] if r["person_id"] in in_scope and first <= r["event_date"] <= last]
            fixed = sum(1 for r in ex if r["event_type"] == "exclusion_fixed")
            permanent = sum(1 for r in ex if r["event_type"] == "exclusion_permanent")
            return fixed <= m.get("max_fixed_exclusions", 0) and permanent == 0
        if kind == "score_improved":
            rows = sorted(
                (
                    r
                    for r in rec["assessments"]
                    if r["family_id"] == fid
                    and r["tool"] == m["tool"]
                    and r["domain"] == m["domain"]
                    and r["assessment_date"] <= day
                ),
                key=lambda r: r["assessment_date"],
            )
            low, high = add_months(a, -self.lookback), a + dt.timedelta(days=m.get("baseline_grace_days", 0))
            base = [r for r in rows if low < r["assessment_date"] <= high]
            if not base:
                return False
            baseline = base[-1]
            target = baseline["score"] + Fraction(str(m["min_improvement"]))
            later = [r for r in rows if r["assessment_date"] > baseline["assessment_date"]]
            run = []
            for r in reversed(later):
                if r["score"] >= target:
                    run.insert(0, r)
                else:
                    break
            if not run:
                return False
            if m.get("window_after", "attachment") == "closure":  # seen again `months` after the case closed
                return anchor is not None and any(r["assessment_date"] >= add_months(anchor, m["months"]) for r in run)
            t1 = run[0]["assessment_date"]
            return any(r["assessment_date"] >= add_months(t1, m["months"]) for r in run)
        raise AssertionError(kind)

    def employment(self, family, rec, day) -> bool:
        rules = self.plan.get("continuous_employment", {}).get("benefit_types", {})
        a = family["attachment_date"]
        for member in (x for x in rec["members"] if x["family_id"] == family["family_id"]):
            p = member["person_id"]
            mine = [r for r in rec["episodes"] if r["person_id"] == p]
            qualifying = {
                r["episode_type"]
                for r in mine
                if r["episode_type"] in rules and r["start_date"] <= a <= (r["end_date"] or dt.date.max)
            }
            if not qualifying:
                continue
            monday = a + ONE
            while monday.weekday() != 0:
                monday += ONE
            counted = []
            while monday + 6 * ONE <= day:
                week = [monday + k * ONE for k in range(7)]
                worked = all(
                    any(
                        r["episode_type"] == "employment" and r["start_date"] <= d <= (r["end_date"] or dt.date.max)
                        for r in mine
                    )
                    for d in week
                )
                on_benefit = any(
                    r["episode_type"] in rules and r["start_date"] <= d <= (r["end_date"] or dt.date.max)
                    for r in mine
                    for d in week
                )
                if worked and not on_benefit:
                    counted.append(monday)
                monday += 7 * ONE
            for benefit in qualifying:
                need, within = rules[benefit]["weeks_employed"], rules[benefit]["within_weeks"]
                for i in range(len(counted) - need + 1):
                    if (counted[i + need - 1] - counted[i]).days // 7 <= within - 1:
                        return True
        return False

    def decide(self, family: dict, data: dict, as_of: dt.date, forecast: bool = True) -> dict:
        rec = frozen(data, as_of)
        empty = {
            "eligible": False,
            "themes_at_attachment": "",
            "themes_progress_met": "",
            "ssp_met": False,
            "ce_met": False,
            "claimable": False,
            "claim_route": "",
            "earliest_claimable_date": None,
            "themes_emerged": "",
        }
        if family["attachment_date"] > as_of:
            return empty
        flagged = self.flagged(family, rec)
        order = list(self.plan["themes"])
        present = [t for t in order if t in flagged]
        if self.plan.get("needs", "at_attachment") == "at_attachment_and_since":
            emerged = self.emerged(family, rec, flagged)
        else:
            emerged = {}
        everyone = {**flagged, **emerged}
        needed = [t for t in order if t in everyone]
        result = self.at(family, rec, as_of, everyone, present, needed)
        result["themes_at_attachment"] = ";".join(present)
        result["themes_emerged"] = ";".join(t for t in order if t in emerged)
        result["earliest_claimable_date"] = None
        if forecast and result["eligible"] and not result["claimable"]:
            for k in range(1, 731):
                day = as_of + k * ONE
                if self.at(family, rec, day, everyone, present, needed)["claimable"]:
                    result["earliest_claimable_date"] = day
                    break
        return result

    def has_child(self, family, rec) -> bool:
        a = family["attachment_date"]
        rule = self.plan.get("dependent_child") or {}
        months = 12 * rule.get("under_age", 18)
        ours = [x for x in rec["members"] if x["family_id"] == family["family_id"]]
        if any(x["date_of_birth"] is not None and add_months(a, -months) < x["date_of_birth"] <= a for x in ours):
            return True
        people = {x["person_id"] for x in ours}
        return bool(rule.get("pregnancy")) and any(
            r["person_id"] in people
            and r["episode_type"] == "pregnancy"
            and r["start_date"] <= a
            and (r["end_date"] is None or r["end_date"] >= a)
            for r in rec["episodes"]
        )

    def at(self, family, rec, day, flagged, present, needed=None) -> dict:
        needed = present if needed is None else needed
        eligible = len(present) >= self.plan.get("min_themes", 2) and (
            self.has_child(family, rec) or not self.plan.get("require_dependent_child", True)
        )
        met = [
            t
            for t in needed
            if all(self.measure(m, t, family, flagged[t], rec, day) for m in self.plan["themes"][t].get("progress", []))
        ]
        ssp = eligible and len(met) == len(needed)
        after = self.plan.get("result_after_closure_months")
        if after is not None:
            closed = family.get("closure_date")
            ssp = ssp and closed is not None and closed <= rec["cutoff"] and closed <= add_months(day, -after)
        ce = self.employment(family, rec, day)
        recorded = {r["milestone"] for r in rec["milestones"] if r["family_id"] == family["family_id"]}
        way = all(m in recorded for m in self.plan.get("way_of_working", []))
        claimable = eligible and (ssp or ce) and way
        return {
            "eligible": eligible,
            "themes_progress_met": ";".join(met),
            "ssp_met": ssp,
            "ce_met": ce,
            "claimable": claimable,
            "claim_route": "ce" if claimable and ce else ("ssp" if claimable else ""),
        }
