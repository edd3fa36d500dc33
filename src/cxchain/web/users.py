"""Accounts, sessions and API tokens of the web app, kept in the workspace's operational store.

Tables (created on first use in ``ops.sqlite``, SQLite in WAL mode, so several web workers and the CLI
can write at once)::

    users(username, password_hash, role, area, created_at)
    sessions(id, username, csrf, created_at, expires_at)
    api_tokens(token_hash, username, name, created_at, last_used_at)

Passwords are hashed with scrypt (standard library, a memory-hard KDF) and a per-user random salt;
the stored form is ``scrypt$n$r$p$salt_hex$hash_hex`` so the cost can be raised later.  API tokens
and session ids are random; only the SHA-256 of a token is stored, so a copy of the database does
not leak usable tokens.  Every change is written to the audit log.

    >>> add_user(ws, "ada", "correct horse battery", role="admin")  # doctest: +SKIP
    >>> create_token(ws, "ada", name="nightly export")              # doctest: +SKIP
    'cxt_...'
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from ..errors import CxchainError, NotFoundError
from ..workspace import Workspace

__all__ = ["ROLES", "User", "add_user", "list_users", "remove_user", "get_user", "verify_password", "authenticate",
           "hash_password", "check_password", "create_token", "user_for_token", "create_session", "session_user",
           "end_session", "upsert_external_user", "MIN_PASSWORD_LENGTH"]

#: Roles and what each may do (the web app enforces these; see :mod:`cxchain.web.app`).
ROLES: dict[str, str] = {
    "admin": "Everything, including users and settings.",
    "analyst": "Data, taxonomy, story and priorities: may re-play quarantine and run analyses.",
    "owner": "A business area's owner: reads everything, changes only their own area.",
    "viewer": "Reads everything; changes nothing.",
}
MIN_PASSWORD_LENGTH = 10
SESSION_HOURS = 12
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


@dataclass(frozen=True)
class User:
    """A signed-in person or script: ``role`` is one of :data:`ROLES`; ``area`` is set for owners."""

    username: str
    role: str
    area: str | None = None
    created_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ops(ws: Workspace) -> sqlite3.Connection:
    con = ws.store.ops()
    con.execute("""CREATE TABLE IF NOT EXISTS users (username TEXT PRIMARY KEY, password_hash TEXT NOT NULL,
                   role TEXT NOT NULL, area TEXT, created_at TEXT NOT NULL)""")
    con.execute("""CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, username TEXT NOT NULL, csrf TEXT NOT NULL,
                   created_at TEXT NOT NULL, expires_at TEXT NOT NULL)""")
    con.execute("""CREATE TABLE IF NOT EXISTS api_tokens (token_hash TEXT PRIMARY KEY, username TEXT NOT NULL,
                   name TEXT, created_at TEXT NOT NULL, last_used_at TEXT)""")
    return con


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


# --- passwords -------------------------------------------------------------------------------------

def hash_password(password: str) -> str:
    """scrypt with a fresh 16-byte salt, as ``scrypt$n$r$p$salt$hash`` (hex)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, maxmem=64 * 1024 * 1024, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash made by :func:`hash_password` (constant-time compare)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32,
                         maxmem=64 * 1024 * 1024)
    return hmac.compare_digest(got.hex(), digest)


# A fixed dummy hash so that an unknown username costs as much time as a wrong password.
_DUMMY_HASH = hash_password(secrets.token_hex(8))


# --- users -----------------------------------------------------------------------------------------

def add_user(ws: Workspace, username: str, password: str, *, role: str = "viewer", area: str | None = None,
             actor: str = "cli") -> User:
    """Create a user; ``area`` is required for (and only for) the ``owner`` role."""
    if not _USERNAME.match(username):
        raise CxchainError("A username is 2-64 letters, digits or . _ @ -.")
    if role not in ROLES:
        raise CxchainError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    if role == "owner" and not area:
        raise CxchainError("A business-area owner needs --area (the business area they own).")
    if role != "owner":
        area = None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CxchainError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    user = User(username, role, area, _now().isoformat())
    con = _ops(ws)
    try:
        with con:
            con.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                        (username, hash_password(password), role, area, user.created_at))
    except sqlite3.IntegrityError:
        raise CxchainError(f"User {username} already exists; remove it first or choose another name.") from None
    finally:
        con.close()
    ws.store.audit(actor, "user.add", username, {"role": role, "area": area})
    return user


# Stored instead of a password hash for people who sign in through single sign-on: not a scrypt hash,
# so check_password() can never accept any password for them.
EXTERNAL_HASH_PREFIX = "sso$"


def upsert_external_user(ws: Workspace, username: str, *, role: str, area: str | None, subject: str) -> tuple[User, bool]:
    """Create or update a user vouched for by the identity provider; ``(user, role_or_area_changed)``.

    Refuses to take over a local (password) account of the same name.
    """
    if role not in ROLES:
        raise CxchainError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    user = User(username, role, area if role == "owner" else None, _now().isoformat())
    con = _ops(ws)
    try:
        with con:
            old = con.execute("SELECT password_hash, role, area FROM users WHERE username = ?", (username,)).fetchone()
            if old is not None and not str(old[0]).startswith(EXTERNAL_HASH_PREFIX):
                raise CxchainError(f"A local (password) account named {username} already exists; an admin must remove "
                                   "it before that person can use single sign-on.")
            con.execute("""INSERT INTO users VALUES (?, ?, ?, ?, ?) ON CONFLICT(username)
                           DO UPDATE SET role = excluded.role, area = excluded.area""",
                        (username, EXTERNAL_HASH_PREFIX + subject, user.role, user.area, user.created_at))
    finally:
        con.close()
    return user, old is None or (old[1], old[2]) != (user.role, user.area)


def list_users(ws: Workspace) -> list[User]:
    """All users, by username (never their password hashes)."""
    con = _ops(ws)
    try:
        rows = con.execute("SELECT username, role, area, created_at FROM users ORDER BY username").fetchall()
    finally:
        con.close()
    return [User(*r) for r in rows]


def get_user(ws: Workspace, username: str) -> User | None:
    """One user, or None."""
    con = _ops(ws)
    try:
        row = con.execute("SELECT username, role, area, created_at FROM users WHERE username = ?", (username,)).fetchone()
    finally:
        con.close()
    return User(*row) if row else None


def remove_user(ws: Workspace, username: str, *, actor: str = "cli") -> None:
    """Delete a user with their sessions and API tokens."""
    con = _ops(ws)
    try:
        with con:
            n = con.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount
            con.execute("DELETE FROM sessions WHERE username = ?", (username,))
            con.execute("DELETE FROM api_tokens WHERE username = ?", (username,))
    finally:
        con.close()
    if not n:
        raise NotFoundError(f"No user {username}.")
    ws.store.audit(actor, "user.remove", username, {})


def verify_password(ws: Workspace, username: str, password: str) -> User | None:
    """The user if the password is right, else None (timing does not reveal whether the user exists)."""
    con = _ops(ws)
    try:
        row = con.execute("SELECT username, role, area, created_at, password_hash FROM users WHERE username = ?",
                          (username,)).fetchone()
    finally:
        con.close()
    if row is None:
        check_password(password, _DUMMY_HASH)
        return None
    return User(*row[:4]) if check_password(password, row[4]) else None


def authenticate(ws: Workspace, username: str, password: str, *, ip: str = "") -> User | None:
    """:func:`verify_password` plus an audit record of the attempt (success or failure)."""
    user = verify_password(ws, username, password)
    ws.store.audit(username or "-", "signin" if user else "signin.failed", username, {"ip": ip})
    return user


# --- API tokens ------------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(ws: Workspace, username: str, *, name: str = "", actor: str = "cli") -> str:
    """A new API token for ``username`` (shown once; only its hash is kept).  Use it as ``Authorization: Bearer``."""
    if get_user(ws, username) is None:
        raise NotFoundError(f"No user {username}.")
    token = "cxt_" + secrets.token_urlsafe(32)
    con = _ops(ws)
    try:
        with con:
            con.execute("INSERT INTO api_tokens VALUES (?, ?, ?, ?, NULL)",
                        (_token_hash(token), username, name, _now().isoformat()))
    finally:
        con.close()
    ws.store.audit(actor, "token.create", username, {"name": name})
    return token


def user_for_token(ws: Workspace, token: str) -> User | None:
    """The user an API token belongs to, or None."""
    con = _ops(ws)
    try:
        row = con.execute("""SELECT u.username, u.role, u.area, u.created_at FROM api_tokens t JOIN users u USING (username)
                             WHERE t.token_hash = ?""", (_token_hash(token),)).fetchone()
    finally:
        con.close()
    return User(*row) if row else None


# --- sessions --------------------------------------------------------------------------------------

def create_session(ws: Workspace, username: str) -> tuple[str, str]:
    """A new server-side session: ``(session_id, csrf_token)``."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = _now()
    con = _ops(ws)
    try:
        with con:
            con.execute("DELETE FROM sessions WHERE expires_at < ?", (now.isoformat(),))
            con.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                        (sid, username, csrf, now.isoformat(), (now + timedelta(hours=SESSION_HOURS)).isoformat()))
    finally:
        con.close()
    return sid, csrf


def session_user(ws: Workspace, sid: str) -> tuple[User, str] | None:
    """``(user, csrf_token)`` of a live session, or None when unknown or expired."""
    con = _ops(ws)
    try:
        row = con.execute("""SELECT u.username, u.role, u.area, u.created_at, s.csrf FROM sessions s JOIN users u USING (username)
                             WHERE s.id = ? AND s.expires_at >= ?""", (sid, _now().isoformat())).fetchone()
    finally:
        con.close()
    return (User(*row[:4]), row[4]) if row else None


def end_session(ws: Workspace, sid: str) -> None:
    """Forget a session (sign-out)."""
    con = _ops(ws)
    try:
        with con:
            con.execute("DELETE FROM sessions WHERE id = ?", (sid,))
    finally:
        con.close()
