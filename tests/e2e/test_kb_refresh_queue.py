"""The knowledge-base refresh on PostgreSQL's job queue (issue 13): one waiting refresh per
tenant (asking again returns it), its state readable only by its own tenant, and a task of
that name registered in the worker's app."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.e2e.harness import fresh_database
from wagate.jobs.worker import build_job_app
from wagate.storage import migrate
from wagate.storage.database import Database
from wagate.storage.knowledge_jobs import KnowledgeRefreshJobs
from wagate.storage.queue import KB_REFRESH_TASK, QUEUE

pytestmark = pytest.mark.e2e


async def test_one_waiting_refresh_per_tenant_and_its_state() -> None:
    with fresh_database() as url:
        migrate.upgrade(url)
        database = Database(url, pool_size=2)
        await database.open()
        try:
            acme = KnowledgeRefreshJobs(database, "acme")
            other = KnowledgeRefreshJobs(database, "other")
            job = await acme.request()
            assert await acme.request() == job  # still waiting: the same job
            assert await acme.state(job) == "todo"
            assert await other.state(job) is None  # another tenant's job is not there
            assert await other.request() != job
            async with database.pool.connection() as conn:
                row = await (
                    await conn.execute(
                        "SELECT queue_name, task_name, args FROM procrastinate_jobs WHERE id = %s",
                        (job,),
                    )
                ).fetchone()
                assert row == {
                    "queue_name": QUEUE,
                    "task_name": KB_REFRESH_TASK,
                    "args": {"tenant": "acme"},
                }
                # Once a worker took it, asking again queues the next refresh.
                await conn.execute(
                    "UPDATE procrastinate_jobs SET status = 'doing' WHERE id = %s", (job,)
                )
            assert await acme.state(job) == "doing"
            assert await acme.request() != job
        finally:
            await database.close()


def test_the_worker_registers_the_refresh_task() -> None:
    services: Any = SimpleNamespace(
        database=SimpleNamespace(url="postgresql://unused/db"),
        tuning=SimpleNamespace(concurrency=1),
    )
    app = build_job_app(services)
    assert KB_REFRESH_TASK in app.tasks
    assert app.tasks[KB_REFRESH_TASK].queue == QUEUE
