"""Connections: a psycopg pool for the hot paths, a SQLAlchemy engine for everything else.

The webhook path is one SQL statement per message, so it talks to psycopg directly and skips
the ORM's per-call overhead; listing and admin queries use SQLAlchemy Core.

Connections are not pinged on checkout (that doubled the round trips of every webhook): a
connection that broke while idle fails its statement, the webhook answers 503, the provider
delivers again, and the pool discards the broken connection.

Tenant isolation (issue 12): every tenant table has a row-level security policy that shows a
transaction only the rows of the tenant it set in `wagate.tenant` (migration 0008). The setting
is transaction-local (`set_config(…, true)`, i.e. SET LOCAL), so it ends with the transaction
and can never leak to the next user of a pooled connection; a statement run outside these
helpers sets no tenant and sees no tenant rows at all. Work on tenant data therefore goes
through `tenant_connection`, `tenant_pipelined`, `tenant_pipeline` or `tenant_begin` (or
`tenant_rows` / `tenant_batch`); the bare `pool` and `engine` are for platform-level work
(the queue's own tables, the tenant catalogue, health checks).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.pq import TransactionStatus
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection as SqlAlchemyConnection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from wagate.storage.urls import libpq_url, sqlalchemy_url

TENANT_SETTING = "wagate.tenant"
SET_TENANT_SQL = f"SELECT set_config('{TENANT_SETTING}', %(tenant)s, true)"
_SET_TENANT_SQLALCHEMY = text(f"SELECT set_config('{TENANT_SETTING}', :tenant, true)")

Connection = AsyncConnection[dict[str, Any]]


def checked_tenant(tenant: str) -> str:
    """An empty tenant would silently match nothing: refuse it where the mistake is made."""
    if not isinstance(tenant, str) or not tenant.strip():
        raise ValueError("a tenant-scoped transaction needs a tenant id (got an empty one)")
    return tenant


async def _roll_back(conn: Connection) -> None:
    """End a transaction the block could not finish; a broken connection is left to the pool,
    which discards it, and the block's own error is the one that propagates."""
    if conn.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
        with suppress(psycopg.Error):
            await conn.rollback()


@asynccontextmanager
async def tenant_pipeline(conn: Connection, tenant: str) -> AsyncIterator[Connection]:
    """One transaction for `tenant` on `conn` (autocommit), sent as a single round trip.

    In pipeline mode the statements up to the pipeline's Sync run as one implicit transaction:
    PostgreSQL commits them together at the Sync, or rolls them all back if one fails, and the
    transaction-local tenant set first lasts until then. So the tenant and the block's
    statements reach the server in one write, with no BEGIN or COMMIT to send (each is a
    statement the server parses and the client dispatches: the webhook path is CPU-bound).
    Read the cursors' results *after* the block, still inside the pool checkout; fetching
    inside it costs an extra round trip. A failed statement's error propagates at the end of
    the block, with nothing of the block committed.
    """
    checked_tenant(tenant)
    try:
        async with conn.pipeline():
            await conn.execute(SET_TENANT_SQL, {"tenant": tenant})
            yield conn
    except BaseException:
        await _roll_back(conn)  # only if a statement of the block began one explicitly
        raise


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = libpq_url(url)
        self.pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            self.url,
            min_size=2,
            max_size=pool_size,
            kwargs={"autocommit": True, "row_factory": dict_row},
            open=False,
            name="wagate",
        )
        self.engine: AsyncEngine = create_async_engine(
            sqlalchemy_url(url),
            pool_size=4,
            max_overflow=4,
            pool_pre_ping=True,
            # An error's text would otherwise carry the statement's values (personal data).
            hide_parameters=True,
        )

    async def open(self) -> None:
        await self.pool.open(wait=True, timeout=30)

    async def close(self) -> None:
        await self.pool.close()
        await self.engine.dispose()

    async def ping(self) -> bool:
        try:
            async with self.pool.connection(timeout=2) as conn:
                await conn.execute("SELECT 1")
        except Exception:
            return False
        return True

    @asynccontextmanager
    async def tenant_connection(self, tenant: str) -> AsyncIterator[Connection]:
        """A pooled psycopg connection inside one transaction scoped to `tenant`.

        The block's statements commit together when it ends and roll back together if it
        raises. (Outside these helpers the pool's connections are autocommit: code that needs
        one statement to stand even when the next fails opens one block per statement.) A
        `conn.transaction()` inside the block is a savepoint: it lets the block go on after a
        statement it expects may fail.
        """
        checked_tenant(tenant)
        async with self.pool.connection() as conn:
            try:
                # BEGIN and the tenant in one round trip.
                async with conn.pipeline():
                    await conn.execute("BEGIN")
                    await conn.execute(SET_TENANT_SQL, {"tenant": tenant})
                yield conn
            except BaseException:
                await _roll_back(conn)
                raise
            if conn.info.transaction_status == TransactionStatus.INERROR:
                # COMMIT would quietly roll back: a block that swallowed a failed statement
                # (outside a savepoint) must not look as if its other writes were kept.
                await _roll_back(conn)
                raise psycopg.errors.InFailedSqlTransaction(
                    "a statement of this tenant transaction failed and its error was caught "
                    "without a savepoint (conn.transaction()): nothing was committed"
                )
            await conn.commit()

    @asynccontextmanager
    async def tenant_pipelined(self, tenant: str) -> AsyncIterator[Connection]:
        """Like `tenant_connection` (one transaction for `tenant`, committed when the block
        ends, rolled back if it raises), in pipeline mode: statements queue until a result
        is fetched, so BEGIN and the tenant travel with the block's first statement, a write
        whose result is not read travels with the next read, and COMMIT with the last writes.

        Fetch a result only where what comes next depends on it: each fetch is a round trip
        (the pipeline's Sync; inside an explicit BEGIN it does not commit). A statement that
        fails raises at the next fetch or at the end of the block, the statements queued
        after it are aborted by the server, and nothing of the block is committed.
        """
        checked_tenant(tenant)
        async with self.pool.connection() as conn:
            try:
                async with conn.pipeline():
                    await conn.execute("BEGIN")
                    await conn.execute(SET_TENANT_SQL, {"tenant": tenant})
                    yield conn
                    await conn.execute("COMMIT")
            except BaseException:
                await _roll_back(conn)
                raise

    async def tenant_rows(
        self, tenant: str, sql: str, params: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """One statement for `tenant`, alone in its transaction, in a single round trip
        (`tenant_pipeline`): its rows, or [] for a statement that returns none.

        The hot paths' single-statement reads and writes use it: `tenant_connection` costs
        three round trips (BEGIN with the tenant, the statement, COMMIT), each a wake-up of
        the event loop and a message the server parses, for the same one-statement result.
        """
        async with self.pool.connection() as conn:
            async with tenant_pipeline(conn, tenant):
                cursor = await conn.execute(sql, params)
            return await cursor.fetchall() if cursor.description is not None else []

    async def tenant_batch(
        self, tenant: str, statements: Sequence[tuple[str, Mapping[str, Any] | None]]
    ) -> list[list[dict[str, Any]]]:
        """Several statements for `tenant` in one transaction and one round trip: each one's
        rows, in order. All commit together or, if one fails, none does."""
        async with self.pool.connection() as conn:
            async with tenant_pipeline(conn, tenant):
                cursors = [await conn.execute(sql, params) for sql, params in statements]
            return [
                await cursor.fetchall() if cursor.description is not None else []
                for cursor in cursors
            ]

    @asynccontextmanager
    async def tenant_begin(self, tenant: str) -> AsyncIterator[SqlAlchemyConnection]:
        """A SQLAlchemy connection inside one transaction scoped to `tenant` (commit at the
        end of the block, rollback if it raises)."""
        checked_tenant(tenant)
        async with self.engine.begin() as conn:
            await conn.execute(_SET_TENANT_SQLALCHEMY, {"tenant": tenant})
            yield conn
