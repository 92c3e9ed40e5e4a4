"""Database passwords: kept in the platform keyring, never in the settings file or a command line.

A saved URL is split in two: the settings keep the URL without its password, the keyring keeps
the password under service "GridDesk" and an account named after that URL
(``user@host:port/database``). Where no keyring can be used (a headless Linux box without a
Secret Service), the password is kept in memory for this run only and asked for again at the
next start. A restarted GridDesk gets such a password through GRIDDESK_DB_PASSWORD, set in the
child's environment only; it is taken out of this process's environment at start so that no
process GridDesk starts inherits it.

Plain Python: no Qt, so the command line completes its URLs the same way.
"""

from __future__ import annotations

import contextlib
import enum
import os
from typing import Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

SERVICE = "GridDesk"
PASSWORD_ENV = "GRIDDESK_DB_PASSWORD"
# What SQLAlchemy shows in place of a password (render_as_string(hide_password=True)).
MASK = "***"

# Passwords of this run that no keyring holds, by account.
_session: dict[str, str] = {}
# The password a parent GridDesk handed over in PASSWORD_ENV, until a URL claims it.
_handed_over: str | None = None


class Kept(enum.Enum):
    """Where a saved password went."""

    KEYRING = "keyring"
    SESSION = "session"  # this run only: asked for again at the next start


def _parse(url: str) -> URL | None:
    try:
        return make_url(url)
    except ArgumentError:
        return None


def split_password(url: str) -> tuple[str, str | None]:
    """Return the URL without its password, and the password (None when it has none)."""
    parsed = _parse(url) if url else None
    if parsed is None or parsed.password is None:
        return url, None
    # URL.set ignores None; URL is a NamedTuple, and _replace is its public way to clear a field.
    bare = parsed._replace(password=None).render_as_string(hide_password=False)
    return bare, str(parsed.password)


def with_password(url: str, password: str) -> str:
    """Return ``url`` with ``password`` in it."""
    parsed = _parse(url)
    if parsed is None:
        return url
    return parsed.set(password=password).render_as_string(hide_password=False)


def masked(url: str) -> str:
    """Return the URL as the settings dialog shows it: the password, if any, as ***."""
    parsed = _parse(url) if url else None
    return url if parsed is None else parsed.render_as_string(hide_password=True)


def unmask(url: str, original: str) -> str:
    """Return ``url`` with a password left as *** replaced by the one in ``original`` (the user
    edited the host or database, not the password)."""
    bare, password = split_password(url)
    _, real = split_password(original)
    if password == MASK and real is not None:
        return with_password(bare, real)
    return url


def account(url: str) -> str | None:
    """Return the keyring account of a URL, ``user@host:port/database``; None when the URL
    names no user (SQLite, or a server that needs no password)."""
    parsed = _parse(url) if url else None
    if parsed is None or not parsed.username or parsed.get_backend_name() == "sqlite":
        return None
    port = parsed.port or (5432 if parsed.get_backend_name() in ("postgresql", "postgres") else "")
    return f"{parsed.username}@{parsed.host or ''}:{port}/{parsed.database or ''}"


def _keyring() -> Any | None:
    """Return the keyring module when a real backend is there, else None."""
    try:
        import keyring
        from keyring.backends import fail, null
    except ImportError:  # pragma: no cover - keyring is a dependency, but be robust
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration is the same as none
        return None
    if isinstance(backend, (fail.Keyring, null.Keyring)):
        return None
    return keyring


def keyring_available() -> bool:
    """Return True when passwords can be kept in the platform keyring."""
    return _keyring() is not None


def save_password(url: str, password: str) -> Kept:
    """Keep the password of ``url`` (given apart, or in the URL) and say where it went."""
    key = account(url)
    if key is None:
        return Kept.SESSION
    keyring = _keyring()
    if keyring is not None:
        try:
            keyring.set_password(SERVICE, key, password)
        except Exception:  # locked, refused, D-Bus gone: this run only, never the ini
            pass
        else:
            _session.pop(key, None)
            return Kept.KEYRING
    _session[key] = password
    return Kept.SESSION


def forget_password(url: str) -> None:
    """Forget the password kept for the account of ``url``, in the keyring and in memory."""
    key = account(url)
    if key is None:
        return
    _session.pop(key, None)
    keyring = _keyring()
    if keyring is not None:
        # Nothing stored, or the keyring refused: nothing more to forget.
        with contextlib.suppress(Exception):
            keyring.delete_password(SERVICE, key)


def _from_keyring(key: str) -> str | None:
    keyring = _keyring()
    if keyring is None:
        return None
    try:
        return keyring.get_password(SERVICE, key)
    except Exception:  # a locked or failing keyring: as if it held nothing
        return None


def take_environment_password() -> None:
    """Take the password a parent GridDesk handed over out of the environment, so that no
    process this one starts inherits it; the next URL without a password claims it."""
    global _handed_over
    value = os.environ.pop(PASSWORD_ENV, None)
    if value:
        _handed_over = value


def find_password(url: str) -> str | None:
    """Return the password kept for the account of ``url``: this run's, a handed-over one, or
    the keyring's; None when there is none."""
    global _handed_over
    key = account(url)
    if key is None:
        return None
    if key in _session:
        return _session[key]
    take_environment_password()
    if _handed_over is not None:
        _session[key], _handed_over = _handed_over, None
        return _session[key]
    return _from_keyring(key)


def complete_url(url: str) -> str:
    """Return ``url`` with its password from memory, GRIDDESK_DB_PASSWORD or the keyring (as
    it is when it has one already, or when none is kept)."""
    _, password = split_password(url)
    if password is not None:
        return url
    found = find_password(url)
    return url if found is None else with_password(url, found)


def child_environment(url: str) -> dict[str, str]:
    """Return the variables a restarted GridDesk on ``url`` needs besides the inherited ones:
    the password when the child cannot find it in the keyring ({} otherwise)."""
    bare, password = split_password(url)
    key = account(bare)
    if key is None:
        return {}
    if password is None:
        password = _session.get(key)
    if password is None or _from_keyring(key) == password:
        return {}
    return {PASSWORD_ENV: password}


def without_passwords(arguments: list[str]) -> list[str]:
    """Return command-line arguments with the password taken out of every ``--db`` URL."""
    out: list[str] = []
    after_db = False
    for a in arguments:
        if after_db:
            out.append(split_password(a)[0])
        elif a.startswith("--db="):
            out.append("--db=" + split_password(a[len("--db=") :])[0])
        else:
            out.append(a)
        after_db = a == "--db"
    return out


def forget_session() -> None:
    """Forget this run's passwords and any handed-over one (tests; signing out for good)."""
    global _handed_over
    _session.clear()
    _handed_over = None
