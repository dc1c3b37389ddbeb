"""Connections: a psycopg pool for the hot paths, a SQLAlchemy engine for everything else.

The webhook path is one SQL statement per message, so it talks to psycopg directly and skips
the ORM's per-call overhead; listing and admin queries use SQLAlchemy Core.

Connections are not pinged on checkout (that doubled the round trips of every webhook): a
connection that broke while idle fails its statement, the webhook answers 503, the provider
delivers again, and the pool discards the broken connection.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from wagate.storage.urls import libpq_url, sqlalchemy_url


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = libpq_url(url)
        self.pool: AsyncConnectionPool[AsyncConnection[dict[str, Any]]] = AsyncConnectionPool(
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
