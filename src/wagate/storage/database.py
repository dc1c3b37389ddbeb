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

The webhook path is the exception, for speed (issue 18): `TenantBoundConnections` are a small
pool of its own whose connections keep a tenant for their session, so a delivery for the tenant
a connection already holds is one autocommit statement, not a pipeline of two. Nothing else
ever gets those connections, and every row the intake writes names its tenant, which the
policies' WITH CHECK compares with the session's: a mismatch would fail, never write across.
`tenant_rows` and `tenant_batch` run the same way on a second set (`tenant_statements`): they
hand the connection no block of code, only their statements, so nothing else runs on it
either, and the bare `pool` never holds a session tenant.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any, LiteralString, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg.pq import ExecStatus, TransactionStatus
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection as SqlAlchemyConnection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from wagate.storage.urls import libpq_url, sqlalchemy_url

# psycopg converts a statement's `%(name)s` placeholders with a regular expression and keeps
# the result for statements up to 4,096 bytes (longer ones, it reasons, are an ORM's one-off
# texts). wagate's statements are a fixed set, and the run's finishing statement (a handful
# of shapes, storage/conversations.py) passes that length: converted anew at every call it
# cost the worker about 0.2 ms per reply (issue 18). The limit is psycopg's module setting,
# read at each call; a psycopg without that module or setting is left alone (the conversion
# is then only slower): a private name must never stop the gateway from starting.
_STATEMENT_CACHE_LIMIT = 16_384
_psycopg_queries = getattr(psycopg, "_queries", None)
if getattr(_psycopg_queries, "MAX_CACHED_STATEMENT_LENGTH", _STATEMENT_CACHE_LIMIT) < (
    _STATEMENT_CACHE_LIMIT
):
    _psycopg_queries.MAX_CACHED_STATEMENT_LENGTH = _STATEMENT_CACHE_LIMIT  # type: ignore[union-attr]

TENANT_SETTING = "wagate.tenant"
SET_TENANT_SQL = f"SELECT set_config('{TENANT_SETTING}', %(tenant)s, true)"
_SET_SESSION_TENANT_SQL = f"SELECT set_config('{TENANT_SETTING}', %(tenant)s, false)"
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


Statement = tuple[LiteralString, Mapping[str, Any]]
_Read = TypeVar("_Read")


class TenantBoundConnections:
    """Connections that keep the tenant of their last transaction for the session.

    `run(tenant, statements)` commits the statements as one transaction scoped to `tenant`.
    When the connection it gets already holds that tenant and there is one statement, that is
    a single autocommit statement: one message to PostgreSQL, as the leanest handler would
    send. Otherwise the tenant (session-level) and the statements go as one pipeline, which
    PostgreSQL runs as one implicit transaction: they all commit at its end, or none does and
    the session's tenant falls back with them (so a connection is only trusted to hold a
    tenant after a block committed on it).

    A handful of connections, handed out without a pool's machinery (issue 18: psycopg_pool's
    checkout was 5 % of a webhook's CPU): an idle one if there is one, a new one while fewer
    than `size` are open, else the next one returned, first come first served, for at most
    `timeout` seconds (then `psycopg.OperationalError`: the webhook answers 503). Connections
    open on first use, so processes that never take webhooks (`wagate worker`) open none; one
    that comes back broken or inside a transaction is closed, not reused.
    """

    def __init__(self, url: str, *, size: int, timeout: float = 30.0) -> None:
        self._url = url
        self._size = size
        self._timeout = timeout
        self._idle: list[Connection] = []
        self._open = 0  # connections open or being opened
        self._waiters: deque[asyncio.Future[Connection]] = deque()
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()
        # What each live connection's session holds; a discarded connection drops out.
        self._tenant_of: weakref.WeakKeyDictionary[Connection, str] = weakref.WeakKeyDictionary()

    async def run(
        self, tenant: str, statements: Sequence[Statement]
    ) -> list[dict[str, Any] | None]:
        """Each statement's first row (None when it returns none), once all have committed.
        Raises what PostgreSQL raises, with nothing of the statements committed."""
        return (await self._run([(tenant, statements)], _first_row))[0]

    async def run_blocks(
        self, blocks: Sequence[tuple[str, Sequence[Statement]]]
    ) -> list[list[dict[str, Any] | None]]:
        """Several tenants' statements as ONE transaction: each block's statements run
        scoped to its tenant (the session's tenant is set before each block whose tenant
        differs from the one before), and all commit together or none does. Each block's
        statements' first rows. Lets the deliveries of many tenants share one commit
        (storage.intake) instead of one each."""
        return await self._run(blocks, _first_row)

    async def rows(
        self, tenant: str, statements: Sequence[tuple[str, Mapping[str, Any] | None]]
    ) -> list[list[dict[str, Any]]]:
        """Like `run`, each statement's rows ([] for a statement that returns none)."""
        return (await self._run([(tenant, statements)], _all_rows))[0]

    async def _run(
        self,
        blocks: Sequence[tuple[str, Sequence[tuple[Any, Mapping[str, Any] | None]]]],
        read: Callable[[psycopg.AsyncCursor[dict[str, Any]]], Awaitable[_Read]],
    ) -> list[list[_Read]]:
        for tenant, _ in blocks:
            checked_tenant(tenant)
        conn = await self._checkout()
        try:
            held = self._tenant_of.get(conn)
            if len(blocks) == 1 and held == blocks[0][0] and len(blocks[0][1]) == 1:
                sql, params = blocks[0][1][0]
                return [[await read(await conn.execute(sql, params))]]
            self._tenant_of.pop(conn, None)
            cursors: list[list[psycopg.AsyncCursor[dict[str, Any]]]] = []
            current = held
            try:
                async with conn.pipeline():
                    for tenant, statements in blocks:
                        if tenant != current:
                            await conn.execute(_SET_SESSION_TENANT_SQL, {"tenant": tenant})
                            current = tenant
                        cursors.append(
                            [await conn.execute(sql, params) for sql, params in statements]
                        )
            except BaseException:
                await _roll_back(conn)
                raise
            if current is not None:
                self._tenant_of[conn] = current
            return [[await read(cursor) for cursor in block] for block in cursors]
        finally:
            self._checkin(conn)

    async def _checkout(self) -> Connection:
        if self._closed:
            raise psycopg.OperationalError("the tenant-bound connections are closed")
        if self._idle:
            return self._idle.pop()
        if self._open < self._size:
            return await self._connect()
        waiter: asyncio.Future[Connection] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        handed = False
        try:
            async with asyncio.timeout(self._timeout):
                conn = await waiter
                handed = True
                return conn
        except TimeoutError:
            raise psycopg.OperationalError(
                f"no database connection free within {self._timeout:g} s"
            ) from None
        finally:
            if not handed:
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                    self._checkin(waiter.result())  # it arrived as we gave up: pass it on
                else:
                    waiter.cancel()
                    with suppress(ValueError):
                        self._waiters.remove(waiter)

    async def _connect(self) -> Connection:
        self._open += 1
        try:
            async with asyncio.timeout(self._timeout):
                return await AsyncConnection.connect(
                    self._url, autocommit=True, row_factory=dict_row
                )
        except BaseException:
            self._open -= 1
            self._replace_for_waiter()
            raise

    def _checkin(self, conn: Connection) -> None:
        usable = not (self._closed or conn.closed or conn.broken)
        if usable and conn.info.transaction_status != TransactionStatus.IDLE:
            usable = False  # a transaction left open: never hand that on
        if not usable:
            self._open -= 1
            self._background(_close_quietly(conn))
            self._replace_for_waiter()
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        self._idle.append(conn)

    def _replace_for_waiter(self) -> None:
        """A connection was lost while someone waits: open one for the first in line."""
        if self._closed or not self._waiters or self._open >= self._size:
            return
        waiter = self._waiters.popleft()
        if waiter.done():
            return

        async def open_for_waiter() -> None:
            try:
                conn = await self._connect()
            except Exception as exc:
                if not waiter.done():
                    waiter.set_exception(exc)
                return
            if waiter.done():
                self._checkin(conn)
            else:
                waiter.set_result(conn)

        self._background(open_for_waiter())

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)  # the loop keeps only a weak reference
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        self._closed = True
        for waiter in self._waiters:
            waiter.cancel()
        self._waiters.clear()
        idle, self._idle = self._idle, []
        for conn in idle:
            await _close_quietly(conn)
        self._open -= len(idle)


async def _close_quietly(conn: Connection) -> None:
    with suppress(Exception):
        await conn.close()


async def _all_rows(cursor: psycopg.AsyncCursor[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every row the statement returned ([] for a statement that returns none)."""
    result = cursor.pgresult
    if result is None or result.status != ExecStatus.TUPLES_OK:
        return []
    return await cursor.fetchall()


async def _first_row(cursor: psycopg.AsyncCursor[dict[str, Any]]) -> dict[str, Any] | None:
    """The first row the statement returned (None for a statement that returns none), read
    from the result already received. (`cursor.description` would build column objects.)"""
    result = cursor.pgresult
    if result is None or result.status != ExecStatus.TUPLES_OK:
        return None
    return await cursor.fetchone()


# At most this many connections of a process serve webhooks (docs/production.md counts them).
WEBHOOK_CONNECTIONS = 6


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = libpq_url(url)
        # The webhook path's own connections (see TenantBoundConnections). Each webhook holds
        # one for a single statement, so a few keep two cores busy; more would only raise what
        # every process may open against `max_connections`.
        self.tenant_bound = TenantBoundConnections(
            self.url, size=min(pool_size, WEBHOOK_CONNECTIONS)
        )
        # `tenant_rows` and `tenant_batch` (the conversation job's reads and writes) run on
        # connections of the same kind, a set of their own (issue 18): on a connection that
        # already holds the tenant, a statement goes without the tenant's `set_config`, a
        # third of the job's statements before. Half of `pool_size` is theirs, so a process
        # opens no more connections than before; the pool keeps the rest (at least two).
        bound = max(1, pool_size // 2)
        self.tenant_statements = TenantBoundConnections(self.url, size=bound)
        self.pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            self.url,
            min_size=2,
            max_size=max(2, pool_size - bound),
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
        await self.tenant_bound.close()
        await self.tenant_statements.close()
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
        """One statement for `tenant`, alone in its transaction, in a single round trip:
        its rows, or [] for a statement that returns none.

        The hot paths' single-statement reads and writes use it: `tenant_connection` costs
        three round trips (BEGIN with the tenant, the statement, COMMIT), each a wake-up of
        the event loop and a message the server parses, for the same one-statement result.
        It runs on `tenant_statements` (a connection that holds the tenant: the statement
        alone, autocommit; else the tenant and the statement as one pipeline).
        """
        return (await self.tenant_statements.rows(tenant, [(sql, params)]))[0]

    async def tenant_batch(
        self, tenant: str, statements: Sequence[tuple[str, Mapping[str, Any] | None]]
    ) -> list[list[dict[str, Any]]]:
        """Several statements for `tenant` in one transaction and one round trip: each one's
        rows, in order. All commit together or, if one fails, none does."""
        return await self.tenant_statements.rows(tenant, statements)

    @asynccontextmanager
    async def tenant_begin(self, tenant: str) -> AsyncIterator[SqlAlchemyConnection]:
        """A SQLAlchemy connection inside one transaction scoped to `tenant` (commit at the
        end of the block, rollback if it raises)."""
        checked_tenant(tenant)
        async with self.engine.begin() as conn:
            await conn.execute(_SET_TENANT_SQLALCHEMY, {"tenant": tenant})
            yield conn
