"""Accounts, roles, passwords (argon2) and CSRF tokens for the web app."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update

from pbr.periods import utc_now
from pbr.store import Store
from pbr.store.models import User, WebSession

ROLES = ("keyworker", "coordinator", "finance", "auditor")
USERS = User.__table__
SESSIONS = WebSession.__table__
SESSION_HOURS = 8
NAME_MAX = 200  # the longest user name an account holds (pbr.store.models.User.name)
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
    _check_password(password)
    with store.engine.begin() as connection:
        if connection.execute(select(USERS.c.id).where(USERS.c.name == name)).first():
            raise UserError(f"user {name!r} exists already")
        connection.execute(
            insert(USERS).values(
                name=name,
                role=role,
                password_hash=_hasher.hash(password),
                created_at=dt.datetime.now(dt.UTC),
                keyworker_id=(keyworker_id or name) if role == "keyworker" else None,
            )
        )
        store.audit(connection, "pbr", "add user", "user", name, f"role {role}")


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise UserError("a password needs at least 8 characters")


def _account(row) -> dict:
    return {
        "name": row["name"],
        "role": row["role"],
        "keyworker_id": row["keyworker_id"],
        "session_epoch": row["session_epoch"],
    }


def authenticate(store: Store, name: str, password: str) -> dict | None:
    """The account, when the name and password match an account that is not disabled."""
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
    return None if row["disabled_at"] is not None else _account(row)


def user_by_name(store: Store, name: str) -> dict | None:
    """An account that may use the app now: None once it is disabled."""
    with store.engine.connect() as connection:
        row = connection.execute(select(USERS).where(USERS.c.name == name)).mappings().first()
    return None if row is None or row["disabled_at"] is not None else _account(row)


def list_users(store: Store) -> list[dict]:
    with store.engine.connect() as connection:
        rows = (
            connection.execute(
                select(
                    USERS.c.name, USERS.c.role, USERS.c.keyworker_id, USERS.c.created_at, USERS.c.disabled_at
                ).order_by(USERS.c.name)
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(store: Store, name: str) -> str:
    """A new session for a user who signed in: the random token their cookie holds. Sessions older than a
    working day are cleared on the way."""
    token = secrets.token_urlsafe(32)
    now = utc_now()
    with store.engine.begin() as connection:
        connection.execute(delete(SESSIONS).where(SESSIONS.c.created_at < now - dt.timedelta(hours=SESSION_HOURS)))
        connection.execute(insert(SESSIONS).values(token_sha256=_digest(token), user_name=name, created_at=now))
    return token


def session_open(store: Store, name: str, token: str | None) -> bool:
    """Whether the session holding `token` is still open for `name`: not signed out, not older than a day's work."""
    if not token:
        return False
    with store.engine.connect() as connection:
        started = connection.execute(
            select(SESSIONS.c.created_at).where(
                (SESSIONS.c.token_sha256 == _digest(token)) & (SESSIONS.c.user_name == name)
            )
        ).scalar_one_or_none()
    return started is not None and utc_now() - started < dt.timedelta(hours=SESSION_HOURS)


def close_session(store: Store, token: str | None) -> None:
    """Sign-out: the session ends on the server, so a copy of its cookie no longer signs anyone in."""
    if token:
        with store.engine.begin() as connection:
            connection.execute(delete(SESSIONS).where(SESSIONS.c.token_sha256 == _digest(token)))


def _change(store: Store, name: str, action: str, detail: str, **values) -> None:
    """Change one account and end its open sessions, in one transaction with its audit entry."""
    with store.engine.begin() as connection:
        changed = connection.execute(
            update(USERS).where(USERS.c.name == name).values(session_epoch=USERS.c.session_epoch + 1, **values)
        )
        if changed.rowcount != 1:
            raise UserError(f"no user {name!r}")
        connection.execute(delete(SESSIONS).where(SESSIONS.c.user_name == name))
        store.audit(connection, "pbr", action, "user", name, detail)


def set_password(store: Store, name: str, password: str) -> None:
    """A new password; the sessions signed in with the old one end."""
    _check_password(password)
    _change(store, name, "set password", "password changed; open sessions ended", password_hash=_hasher.hash(password))


def disable_user(store: Store, name: str) -> None:
    """No sign-in from now on, and the account's open sessions end; its history stays."""
    _change(store, name, "disable user", "disabled; open sessions ended", disabled_at=dt.datetime.now(dt.UTC))


def enable_user(store: Store, name: str) -> None:
    _change(store, name, "enable user", "enabled", disabled_at=None)


def csrf_token(session: dict) -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_ok(session: dict, token: str | None) -> bool:
    expected = session.get("csrf")
    return bool(expected and token and hmac.compare_digest(expected, token))


class SignInThrottle:
    """Slows password guessing: after `limit` failed sign-ins for one name within `window` seconds, that name is
    refused until `window` seconds after its latest failure, whatever password is given.

    NCSC password guidance: allow about ten attempts before locking out. Kept in the app's memory, so a restart
    forgets it; names are counted whether or not an account holds them, so a refusal says nothing of which do.
    A name is kept as its SHA-256 and at most `names_kept` of them, so guessing with long or many names cannot
    fill the memory.
    """

    def __init__(
        self,
        limit: int = 10,
        window: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
        names_kept: int = 10_000,
    ):
        self.limit, self.window, self.clock, self.names_kept = limit, window, clock, names_kept
        self._failures: OrderedDict[bytes, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(name: str) -> bytes:
        return hashlib.sha256(name.encode("utf-8", "surrogatepass")).digest()

    def _recent(self, key: bytes, now: float) -> deque[float]:
        failures = self._failures.get(key, deque(maxlen=self.limit))
        while failures and now - failures[0] >= self.window:
            failures.popleft()
        return failures

    def wait_seconds(self, name: str) -> float:
        """How long `name` must wait before its next attempt is checked (0: it may try now)."""
        with self._lock:
            now = self.clock()
            failures = self._recent(self._key(name), now)
            return self.window - (now - failures[-1]) if len(failures) >= self.limit else 0.0

    def failed(self, name: str) -> None:
        key = self._key(name)
        with self._lock:
            now = self.clock()
            failures = self._recent(key, now)
            failures.append(now)  # at most `limit` kept: the lock-out needs no more
            self._failures[key] = failures
            self._failures.move_to_end(key)
            while len(self._failures) > self.names_kept:  # guessing at many names cannot fill the memory
                self._failures.popitem(last=False)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failures.pop(self._key(name), None)

    def names(self) -> list[bytes]:
        """The keys kept, for a look at what the throttle holds."""
        with self._lock:
            return list(self._failures)
