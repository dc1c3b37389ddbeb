"""The gateway's own database role (issue 12): it may use the tables, not own them.

Row-level security does not restrict a table's owner (the policies are not FORCEd) nor a
superuser nor a role with BYPASSRLS. Migrations run as the owner (DATABASE_URL); the web app and
the worker connect as a separate LOGIN role without any of those powers, so the policies of
migration 0008 bind every query they make.

`ensure_app_role` is called after migrating, with the owner's URL:

* no app URL configured: it creates the role if missing (or sets its password), grants it what
  the gateway needs, and returns the owner's URL with the role's name and password in it;
* an app URL configured: the role is someone else's to create; it only grants, to the URL's
  user, and returns that URL.

Roles are cluster-wide while grants are per database, and several processes (or test databases
on one server) may start at once: creating a role that another process just created is not an
error, and the grants of one database are serialised by the migration lock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from wagate.storage.migrate import LOCK_KEY
from wagate.storage.urls import libpq_url

DEFAULT_APP_ROLE = "wagate_app"

# Concurrent ALTER ROLE / GRANT on one catalogue row can fail with "tuple concurrently
# updated" (an internal error, SQLSTATE XX000): the other process did the same thing, so retry.
_ATTEMPTS = 5


class AppRoleError(RuntimeError):
    """The app role cannot be used safely (it could bypass row-level security)."""


def app_url_for(owner_url: str, role: str, password: str | None) -> str:
    """`owner_url` with its user and password replaced (host, port, database and options
    kept)."""
    parts = urlsplit(libpq_url(owner_url))
    host = parts.netloc.rpartition("@")[2]
    user = quote(role, safe="")
    credentials = f"{user}:{quote(password, safe='')}" if password is not None else user
    return urlunsplit(parts._replace(netloc=f"{credentials}@{host}"))


def role_of(url: str) -> str:
    """The user a libpq URL logs in as."""
    user = urlsplit(libpq_url(url)).username
    if not user:
        raise AppRoleError("the app database URL names no user")
    return unquote(user)


def ensure_app_role(
    owner_url: str,
    *,
    role: str = DEFAULT_APP_ROLE,
    password: str | None = None,
    app_url: str | None = None,
) -> str:
    """Make the gateway's role ready on the database of `owner_url`; returns the URL the
    gateway connects with. `password` None: the role gets no password (trust or peer
    authentication only)."""
    if app_url is not None:
        role = role_of(app_url)
    _check_name(role)
    with psycopg.connect(libpq_url(owner_url), autocommit=True) as conn:
        owner = _current_user(conn)
        if role == owner:
            raise AppRoleError(
                f"the app role {role!r} is the tables' owner: row-level security would not apply"
            )
        if app_url is None:
            _retrying(lambda: _create_or_update(conn, role, password))
        _refuse_powerful(conn, role)
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            _retrying(lambda: _grant(conn, role, owner))
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    return app_url if app_url is not None else app_url_for(owner_url, role, password)


def _check_name(role: str) -> None:
    if not role or len(role) > 63 or "\x00" in role:
        raise AppRoleError(f"{role!r} is not a usable role name")


def _current_user(conn: psycopg.Connection[tuple[object, ...]]) -> str:
    row = conn.execute("SELECT current_user").fetchone()
    assert row is not None
    return str(row[0])


def _retrying(action: Callable[[], None]) -> None:
    for attempt in range(_ATTEMPTS):
        try:
            action()
            return
        except psycopg.errors.InternalError:
            if attempt == _ATTEMPTS - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _create_or_update(
    conn: psycopg.Connection[tuple[object, ...]], role: str, password: str | None
) -> None:
    secret = sql.Literal(password) if password is not None else sql.SQL("NULL")
    name = sql.Identifier(role)
    try:
        conn.execute(
            sql.SQL(
                "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD {}"
            ).format(name, secret)
        )
        return
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        # There already, or created by a concurrent start this very moment (which shows as a
        # unique violation of the role catalogue): keep it, with the configured password.
        pass
    # Only LOGIN and the password: naming SUPERUSER / BYPASSRLS at all needs a superuser.
    conn.execute(sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD {}").format(name, secret))


def _refuse_powerful(conn: psycopg.Connection[tuple[object, ...]], role: str) -> None:
    row = conn.execute(
        "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", (role,)
    ).fetchone()
    if row is None:
        raise AppRoleError(f"the app role {role!r} does not exist")
    if row[0] or row[1]:
        raise AppRoleError(
            f"the app role {role!r} is a superuser or has BYPASSRLS: row-level security would "
            "not apply; use a plain LOGIN role"
        )


_GRANTS = (
    "GRANT CONNECT ON DATABASE {database} TO {role}",
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
    # procrastinate's worker calls its plpgsql functions (fetch, finish, retry, heartbeat…).
    "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO {role}",
    # Tables a later migration adds are usable without running this again first.
    "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
    "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
    "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
    "GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}",
    "ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
    "GRANT EXECUTE ON FUNCTIONS TO {role}",
)


def _grant(conn: psycopg.Connection[tuple[object, ...]], role: str, owner: str) -> None:
    row = conn.execute("SELECT current_database()").fetchone()
    assert row is not None
    names = {
        "database": sql.Identifier(str(row[0])),
        "role": sql.Identifier(role),
        "owner": sql.Identifier(owner),
    }
    with conn.transaction():
        for statement in _GRANTS:
            conn.execute(sql.SQL(statement).format(**names))
