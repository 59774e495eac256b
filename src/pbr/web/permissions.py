"""Who may do what in the web app: one table, one function. Every route names the action it performs and asks
`can`; a keyworker's actions on a family are allowed for their own families only."""

from __future__ import annotations

ROLES = ("keyworker", "coordinator", "finance", "auditor")
PUBLIC = "public"  # reachable without signing in: the sign-in page and the app's own scripts and styles
CASE_ROLES = frozenset({"keyworker", "coordinator", "auditor"})

PERMISSIONS: dict[str, frozenset[str]] = {
    "use the app": frozenset(ROLES),  # a home page, who am I, the API description
    "see families": CASE_ROLES,  # the family list and a family's page (their own, keyworkers)
    # members' names beside their families: keyworkers (their own families) and coordinators; never finance
    "see names": frozenset({"keyworker", "coordinator"}),
    "record outcomes": frozenset({"keyworker", "coordinator"}),
    "see the dashboard": frozenset({"coordinator", "auditor"}),
    "see claims": frozenset({"coordinator", "auditor", "finance"}),
    "download claim workbooks": frozenset({"coordinator", "auditor", "finance"}),
    "download evidence packs": frozenset({"coordinator", "auditor"}),
    "prepare claims": frozenset({"coordinator"}),
    "draw audit samples": frozenset({"coordinator", "auditor"}),
    "record verdicts": frozenset({"auditor"}),
    "record full reviews": frozenset({"coordinator"}),
    "submit claims": frozenset({"coordinator"}),
    "record payments": frozenset({"finance", "coordinator"}),
    "book recoveries": frozenset({"coordinator"}),
    "see quarantine": frozenset({"coordinator"}),
    # partner rows carry names, dates of birth and addresses of people who may be no member: coordinators only
    "review partner rows": frozenset({"coordinator"}),
    "see finance": frozenset({"finance", "coordinator"}),
    "download returns": frozenset({"coordinator"}),  # progress return, outcomes report, decisions
    "download personal data": frozenset({"coordinator"}),  # the impact-study return
}
HOME = {"keyworker": "/families", "coordinator": "/dashboard", "auditor": "/claims", "finance": "/finance"}


def can(user: dict | None, action: str, family: dict | None = None) -> bool:
    """Whether `user` may perform `action` (on `family`, a stored families row, when the action is about one)."""
    if action == PUBLIC:
        return True
    if user is None or user.get("role") not in PERMISSIONS[action]:
        return False
    if family is not None and user["role"] == "keyworker":
        return family.get("keyworker_id") == user.get("keyworker_id")
    return True
