"""Accounts, roles, passwords (argon2) and CSRF tokens for the web app."""
from __future__ import annotations

import datetime as dt
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError, InvalidHashError
from sqlalchemy import insert, select

from pbr.store import Store
from pbr.store.models import User

ROLES = ("keyworker", "coordinator", "finance", "auditor")
USERS = User.__table__
_hasher = PasswordHasher()


class UserError(ValueError):
    pass


def add_user(store: Store, name: str, role: str, password: str, keyworker_id: str | None = None) -> None:
    if role not in ROLES:
        raise UserError(f"role {role!r} is not one of {', '.join(ROLES)}")
    for what, value in (("a user name", name), ("a keyworker id", keyworker_id)):
        # the name is also the keyworker id when none is given: both are stored in columns of 100 characters
        if value is not None and (not value.strip() or value != value.strip() or len(value) > 100):
            raise UserError(f"{what} is 1 to 100 characters, without spaces at either end: {value!r}")
    if len(password) < 8:
        raise UserError("a password needs at least 8 characters")
    with store.engine.begin() as connection:
        if connection.execute(select(USERS.c.id).where(USERS.c.name == name)).first():
            raise UserError(f"user {name!r} exists already")
        connection.execute(insert(USERS).values(
            name=name, role=role, password_hash=_hasher.hash(password), created_at=dt.datetime.now(dt.timezone.utc),
            keyworker_id=(keyworker_id or name) if role == "keyworker" else None))
        store.audit(connection, "pbr", "add user", "user", name, f"role {role}")


def authenticate(store: Store, name: str, password: str) -> dict | None:
    if "\x00" in name:  # no stored name holds one, and PostgreSQL refuses the query
        _hasher.hash(password)
        return None
    with store.engine.connect() as connection:
        row = connection.execute(select(USERS).where(USERS.c.name == name)).mappings().first()
    if row is None:
        _hasher.hash(password)  # the same work whether or not the name exists
        return None
    try:
        _hasher.verify(row["password_hash"], password)
    except (VerificationError, InvalidHashError):
        return None
    return {"name": row["name"], "role": row["role"], "keyworker_id": row["keyworker_id"]}


def user_by_name(store: Store, name: str) -> dict | None:
    with store.engine.connect() as connection:
        row = connection.execute(select(USERS).where(USERS.c.name == name)).mappings().first()
    return None if row is None else {"name": row["name"], "role": row["role"], "keyworker_id": row["keyworker_id"]}


def csrf_token(session: dict) -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_ok(session: dict, token: str | None) -> bool:
    expected = session.get("csrf")
    return bool(expected and token and hmac.compare_digest(expected, token))
