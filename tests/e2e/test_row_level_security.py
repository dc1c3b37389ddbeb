"""Row-level security (issue 12, item 3) on a real PostgreSQL, connected as the gateway's role.

Two tenants' rows are written into every tenant table by the owner (who is not bound by RLS),
then read and written as the app role: with no tenant set it sees nothing, with tenant A set an
unscoped query sees only A's rows, and writing a row of B from A's context is refused. Last, a
whole gateway (web + worker) runs as the app role and answers a message end to end.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text

from tests.e2e.harness import (
    ADMIN_URL,
    API_TOKEN,
    PHONE_NUMBER_ID,
    FakePeer,
    Gateway,
    fresh_database,
    wait_until,
)
from wagate.fakes.payloads import meta_text
from wagate.storage import migrate
from wagate.storage.database import Database, TenantBoundConnections, tenant_pipeline
from wagate.storage.roles import AppRoleError, ensure_app_role

# Written out here rather than imported from the migration, so a table the migration forgets
# fails the first test below.
TENANT_TABLES = (
    "conversations",
    "inbound_messages",
    "outbound_messages",
    "delivery_statuses",
    "provider_events",
    "conversation_runs",
    "accounts",
    "link_codes",
    "contacts",
    "sessions",
    "turns",
    "consents",
    "pii_vaults",
    "audit_log",
    "audit_head",
    "provider_health",
    "provider_credentials",
    "inbound_failures",
    "inbound_dead_letters",
    "knowledge_documents",
    "knowledge_chunks",
    "knowledge_words",
    "knowledge_lexemes",
    "review_drafts",
    "conversation_holds",
    "staff_alerts",
    "operator_users",
    "knowledge_vocabulary",  # filled by triggers on knowledge_words (migration 0011)
    "metric_counters",
    "case_intakes",
    "media",  # inbound files (migration 0019)
    "media_trash",
    "outbound_files",  # files an operator sends by upload (migration 0020)
)
# Exists only where pgvector does (migration 0009); secured like the others when it does.
OPTIONAL_TENANT_TABLES = {"knowledge_embeddings"}
# Read before any tenant is known (a token, a console cookie): no policy; each statement filters.
CATALOGUE = {"tenants", "tenant_channels", "api_tokens", "tenant_keys", "console_sessions"}

# One statement per tenant that gives every tenant table at least one row of `t`.
_SEED_SQL = """
WITH conv AS (
  INSERT INTO conversations (tenant, provider, channel_id, contact_key, last_inbound_at)
  VALUES (%(t)s, 'meta', 'ch', 'key-' || %(t)s, now()) RETURNING id
), inbound AS (
  INSERT INTO inbound_messages (tenant, conversation_id, provider, provider_message_id, kind,
                                sent_at, content, raw)
  SELECT %(t)s, id, 'meta', 'wamid-' || %(t)s, 'text', now(), '\\x00', '\\x00' FROM conv
  RETURNING id
), outbound AS (
  INSERT INTO outbound_messages (tenant, conversation_id, provider, channel_id, recipient,
                                 idempotency_key, kind, content, status)
  SELECT %(t)s, id, 'meta', 'ch', 'r', 'idem-' || %(t)s, 'text', '\\x00', 'pending' FROM conv
  RETURNING id
), statuses AS (
  INSERT INTO delivery_statuses (tenant, provider, provider_message_id, status, occurred_at)
  VALUES (%(t)s, 'meta', 'out-' || %(t)s, 'sent', now()) RETURNING id
), events AS (
  INSERT INTO provider_events (tenant, provider, field_name, dedup_key, payload)
  VALUES (%(t)s, 'meta', 'f', 'dedup-' || %(t)s, '\\x00') RETURNING id
), runs AS (
  INSERT INTO conversation_runs (tenant, conversation_id, started_at, finished_at,
                                 message_count, marked_read, outcome)
  SELECT %(t)s, id, now(), now(), 1, false, 'answered' FROM conv RETURNING id
), account AS (
  INSERT INTO accounts (tenant, username, pii) VALUES (%(t)s, 'user-' || %(t)s, '\\x00')
  RETURNING id
), codes AS (
  INSERT INTO link_codes (tenant, account_id, phone, code_hash, expires_at)
  SELECT %(t)s, id, 'p', 'h', now() FROM account RETURNING id
), contact AS (
  INSERT INTO contacts (tenant, phone) VALUES (%(t)s, 'phone-' || %(t)s) RETURNING id
), session AS (
  INSERT INTO sessions (tenant, conversation_id) SELECT %(t)s, id FROM conv RETURNING id
), turn AS (
  INSERT INTO turns (tenant, session_id, role, content, run_key)
  SELECT %(t)s, id, 'user', '\\x00', 'run' FROM session RETURNING id
), consent AS (
  INSERT INTO consents (tenant, contact_id, state, provider_message_id, evidence, occurred_at)
  SELECT %(t)s, id, 'granted', 'consent-' || %(t)s, '\\x00', now() FROM contact RETURNING id
), vault AS (
  INSERT INTO pii_vaults (conversation_id, tenant, vault) SELECT id, %(t)s, '\\x00' FROM conv
  RETURNING tenant
), log AS (
  INSERT INTO audit_log (tenant, seq, at, action, actor, details, details_hash, content_hash,
                         prev_hash, hash)
  VALUES (%(t)s, 1, now(), 'a', 'system', '{}', 'd', 'c', 'p', 'h') RETURNING seq
), head AS (
  INSERT INTO audit_head (tenant, seq, hash) VALUES (%(t)s, 1, 'h') RETURNING seq
), health AS (
  INSERT INTO provider_health (tenant, provider, channel_id) VALUES (%(t)s, 'meta', 'ch')
  RETURNING tenant
), credentials AS (
  INSERT INTO provider_credentials (tenant, provider, secret) VALUES (%(t)s, 'meta', '\\x00')
  RETURNING id
), failures AS (
  INSERT INTO inbound_failures (conversation_id, tenant, failures, first_failed_at,
                                last_failed_at)
  SELECT id, %(t)s, 1, now(), now() FROM conv RETURNING tenant
), document AS (
  INSERT INTO knowledge_documents (tenant, source, origin, title, kind, content_hash,
                                   created_at, updated_at)
  VALUES (%(t)s, 'doc-' || %(t)s, 'file', 'T', 'text', 'h', now(), now()) RETURNING id
), chunk AS (
  INSERT INTO knowledge_chunks (tenant, document_id, ordinal, section, text, heading, body)
  SELECT %(t)s, id, 0, '', 'teks', 't', 'teks' FROM document RETURNING id
), word AS (
  INSERT INTO knowledge_words (tenant, document_id, word) SELECT %(t)s, id, 'teks' FROM document
  RETURNING word
), lexeme AS (
  INSERT INTO knowledge_lexemes (tenant, document_id, lexeme, chunks)
  SELECT %(t)s, id, 'teks', 1 FROM document RETURNING lexeme
), draft AS (
  INSERT INTO review_drafts (tenant, conversation_id, run_key, zone, question, draft,
                             created_at, deadline)
  SELECT %(t)s, id, 'run-' || %(t)s, 'yellow', '\\x00', '\\x00', now(), now() FROM conv
  RETURNING id
), hold AS (
  INSERT INTO conversation_holds (tenant, conversation_id, held_by, reason, taken_at)
  SELECT %(t)s, id, 'gateway', 'red', now() FROM conv RETURNING id
), alert AS (
  INSERT INTO staff_alerts (tenant, key, kind, conversation_id, summary, created_at)
  SELECT %(t)s, 'alert-' || %(t)s, 'urgent', id, 's', now() FROM conv RETURNING id
), intake AS (
  INSERT INTO case_intakes (tenant, conversation_id, provider, provider_message_id, answers,
                            response, complete, received_at)
  SELECT %(t)s, id, 'meta', 'flow-' || %(t)s, '\\x00', '\\x00', true, now() FROM conv
  RETURNING id
), file AS (
  INSERT INTO media (tenant, conversation_id, inbound_message_id, media_type)
  SELECT %(t)s, conv.id, inbound.id, 'image' FROM conv, inbound RETURNING id
), trash AS (
  INSERT INTO media_trash (tenant, object_key) VALUES (%(t)s, %(t)s || '/x') RETURNING id
), sent_file AS (
  INSERT INTO outbound_files (tenant, outbound_id, object_key, file_key, file_type, mime_type,
                              size_bytes, details)
  SELECT %(t)s, id, %(t)s || '/sent', '\\x00', 'pdf', 'application/pdf', 1, '\\x00'
    FROM outbound RETURNING id
), operator_user AS (
  INSERT INTO operator_users (tenant, name, role, password_hash, password_changed_at,
                              created_at, updated_at)
  VALUES (%(t)s, 'user-' || %(t)s, 'viewer', 'h', now(), now(), now()) RETURNING id
), metric AS (
  INSERT INTO metric_counters (tenant, name, labels, value)
  VALUES (%(t)s, 'whatsapp_intake_total', '{}', 1) RETURNING tenant
)
INSERT INTO inbound_dead_letters (tenant, conversation_id, message_ids, failures)
SELECT %(t)s, id, ARRAY[1]::bigint[], 3 FROM conv
"""


@pytest.fixture(scope="module")
def owner_url() -> Iterator[str]:
    with fresh_database() as url:
        migrate.upgrade(url)
        for tenant in ("alpha", "beta"):
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(_SEED_SQL, {"t": tenant})
        yield url


@pytest.fixture(scope="module")
def app_url(owner_url: str) -> str:
    return ensure_app_role(owner_url, password="rls-test-password")


def _on(statement: str, table: str) -> sql.Composed:
    return sql.SQL(statement).format(sql.Identifier(table))  # type: ignore[arg-type]


def _scoped(conn: psycopg.Connection[Any], tenant: str | None) -> None:
    if tenant is not None:
        conn.execute("SELECT set_config('wagate.tenant', %s, true)", (tenant,))


def test_every_table_with_a_tenant_column_has_row_level_security(owner_url: str) -> None:
    with psycopg.connect(owner_url) as conn:
        rows = conn.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
            "       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)"
            "  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'r'"
            "   AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid"
            "               AND a.attname = 'tenant' AND NOT a.attisdropped)"
        ).fetchall()
    secured = {name for name, rls, _, policies in rows if rls and policies == 1}
    with_tenant = {name for name, *_ in rows}
    optional = with_tenant & OPTIONAL_TENANT_TABLES
    assert with_tenant - CATALOGUE - optional == set(TENANT_TABLES)
    assert secured == set(TENANT_TABLES) | optional
    # Not FORCEd: the owner (migrations, maintenance) still sees every row.
    assert not any(force for _, _, force, _ in rows)


def test_the_app_role_is_no_superuser_no_owner_and_cannot_bypass_rls(
    owner_url: str, app_url: str
) -> None:
    with psycopg.connect(app_url) as conn:
        row = conn.execute(
            "SELECT r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb"
            "  FROM pg_roles r WHERE r.rolname = current_user"
        ).fetchone()
        assert row == (False, False, False, False)
        owned = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = current_user"
        ).fetchone()
        assert owned == (0,)


def test_with_no_tenant_set_the_app_role_sees_no_rows(app_url: str) -> None:
    with psycopg.connect(app_url) as conn:
        assert conn.execute("SELECT * FROM conversations").fetchall() == []
        for table in TENANT_TABLES:
            assert conn.execute(_on("SELECT count(*) FROM {}", table)).fetchone() == (0,), table
        # An empty tenant (a setting made and reset in the session) matches nothing either.
        _scoped(conn, "")
        for table in TENANT_TABLES:
            assert conn.execute(_on("SELECT count(*) FROM {}", table)).fetchone() == (0,), table


def test_the_owner_still_sees_both_tenants(owner_url: str) -> None:
    with psycopg.connect(owner_url) as conn:
        for table in TENANT_TABLES:
            tenants = {r[0] for r in conn.execute(_on("SELECT tenant FROM {}", table)).fetchall()}
            assert tenants == {"alpha", "beta"}, table


@pytest.mark.parametrize(("mine", "theirs"), [("alpha", "beta"), ("beta", "alpha")])
def test_an_unscoped_query_in_one_tenants_context_returns_none_of_the_others_rows(
    app_url: str, mine: str, theirs: str
) -> None:
    with psycopg.connect(app_url) as conn:
        _scoped(conn, mine)
        for table in TENANT_TABLES:
            tenants = [r[0] for r in conn.execute(_on("SELECT tenant FROM {}", table)).fetchall()]
            assert tenants, f"{table}: {mine} should see its own rows"
            assert set(tenants) == {mine}, table
        # A join through ids of the other tenant finds nothing either.
        leaked = conn.execute(
            "SELECT count(*) FROM turns t JOIN sessions s ON s.id = t.session_id"
            " JOIN conversations c ON c.id = s.conversation_id WHERE c.tenant = %s",
            (theirs,),
        ).fetchone()
        assert leaked == (0,)


def test_writing_another_tenants_row_is_refused(app_url: str) -> None:
    with psycopg.connect(app_url) as conn:
        _scoped(conn, "alpha")
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO conversations (tenant, provider, channel_id, contact_key)"
                " VALUES ('beta', 'meta', 'ch', 'smuggled')"
            )
    for table in TENANT_TABLES:
        if table.startswith("audit_"):
            continue  # their triggers refuse any change of tenant before the policy is asked
        with psycopg.connect(app_url) as conn:
            _scoped(conn, "alpha")
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
                conn.execute(_on("UPDATE {} SET tenant = 'beta'", table))
    # …and the other tenant's rows cannot be touched at all: they are not there to update.
    with psycopg.connect(app_url) as conn:
        _scoped(conn, "alpha")
        done = conn.execute("DELETE FROM conversations WHERE tenant = 'beta'")
        assert done.rowcount == 0
        conn.rollback()


def test_without_a_tenant_nothing_can_be_written(app_url: str) -> None:
    with (
        psycopg.connect(app_url) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"),
    ):
        conn.execute("INSERT INTO contacts (tenant, phone) VALUES ('alpha', 'no-tenant-set')")


async def test_the_database_helpers_scope_each_transaction_and_never_leak(
    app_url: str,
) -> None:
    database = Database(app_url, pool_size=2)
    await database.open()

    async def scoped_read() -> list[Any]:
        async with database.tenant_connection("alpha") as conn:
            await asyncio.sleep(0.05)  # both pooled connections are in use at once
            return await (await conn.execute("SELECT DISTINCT tenant FROM contacts")).fetchall()

    try:
        reads = await asyncio.gather(scoped_read(), scoped_read())
        assert reads == [[{"tenant": "alpha"}]] * 2
        # The same pooled connections afterwards: the tenant ended with its transaction.
        for _ in range(4):
            async with database.pool.connection() as conn:
                cursor = await conn.execute("SELECT count(*) AS n FROM contacts")
                assert await cursor.fetchone() == {"n": 0}
        async with database.pool.connection() as conn:
            async with tenant_pipeline(conn, "beta"):
                cursor = await conn.execute("SELECT DISTINCT tenant FROM contacts")
            assert await cursor.fetchall() == [{"tenant": "beta"}]
            cursor = await conn.execute("SELECT current_setting('wagate.tenant', true) AS t")
            assert (await cursor.fetchone() or {}).get("t") in ("", None)
        async with database.tenant_begin("beta") as sa_conn:
            tenants = (await sa_conn.execute(text("SELECT DISTINCT tenant FROM accounts"))).all()
        assert tenants == [("beta",)]
        with pytest.raises(ValueError, match="tenant"):
            async with database.tenant_connection(""):
                pass
    finally:
        await database.close()


async def test_a_failed_block_commits_nothing_and_leaves_the_connection_usable(
    app_url: str,
) -> None:
    database = Database(app_url, pool_size=2)
    await database.open()
    marker = f"rollback-{uuid.uuid4().hex[:8]}"
    insert = "INSERT INTO contacts (tenant, phone) VALUES ('alpha', %(p)s)"
    try:
        with pytest.raises(psycopg.errors.DivisionByZero):
            async with database.tenant_connection("alpha") as conn:
                await conn.execute(insert, {"p": marker})
                await conn.execute("SELECT 1 / 0")
        with pytest.raises(psycopg.errors.DivisionByZero):
            async with database.pool.connection() as conn, tenant_pipeline(conn, "alpha"):
                await conn.execute(insert, {"p": marker + "-pipelined"})
                await conn.execute("SELECT 1 / 0")
        # A failure caught inside the block without a savepoint: not a silent rollback.
        with pytest.raises(psycopg.errors.InFailedSqlTransaction, match="nothing was committed"):
            async with database.tenant_connection("alpha") as conn:
                await conn.execute(insert, {"p": marker + "-swallowed"})
                with contextlib.suppress(psycopg.errors.DivisionByZero):
                    await conn.execute("SELECT 1 / 0")
        # …whereas inside a savepoint the block goes on and commits the rest.
        async with database.tenant_connection("alpha") as conn:
            with contextlib.suppress(psycopg.errors.DivisionByZero):
                async with conn.transaction():
                    await conn.execute("SELECT 1 / 0")
            await conn.execute(insert, {"p": "kept-" + marker})
        async with database.tenant_connection("alpha") as conn:
            kept = await conn.execute(
                "SELECT count(*) AS n FROM contacts WHERE phone = %(p)s", {"p": "kept-" + marker}
            )
            assert await kept.fetchone() == {"n": 1}
            cursor = await conn.execute(
                "SELECT count(*) AS n FROM contacts WHERE phone LIKE %(p)s", {"p": marker + "%"}
            )
            assert await cursor.fetchone() == {"n": 0}
    finally:
        await database.close()


def test_the_migration_goes_down_and_up_again(owner_url: str) -> None:
    migrate.downgrade(owner_url, "0007_tenants")
    try:
        with psycopg.connect(owner_url) as conn:
            secured = conn.execute(
                "SELECT count(*) FROM pg_class WHERE relrowsecurity AND relname = ANY(%s)",
                (list(TENANT_TABLES),),
            ).fetchone()
        assert secured == (0,)
    finally:
        migrate.upgrade(owner_url)
    assert migrate.current_revision(owner_url) == migrate.head_revision()


# ------------------------------------------------------------------ the app role itself


def _drop_role(role: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_ensure_app_role_is_idempotent_and_safe_to_run_concurrently() -> None:
    role = f"wagate_app_{uuid.uuid4().hex[:8]}"
    urls: list[str] = []
    errors: list[BaseException] = []
    try:
        with fresh_database() as first, fresh_database() as second:
            migrate.upgrade(first)
            migrate.upgrade(second)

            def start(url: str) -> None:
                try:
                    urls.append(ensure_app_role(url, role=role, password="pw one"))
                except BaseException as exc:  # collected: a thread's failure fails the test
                    errors.append(exc)

            threads = [
                threading.Thread(target=start, args=(url,))
                for url in (first, second, first, second)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []
            assert len(urls) == 4
            for url in (first, second):
                app = ensure_app_role(url, role=role, password="pw two")  # a new password
                assert role in app and "pw%20two" in app
                with psycopg.connect(app) as conn:
                    assert conn.execute("SELECT current_user").fetchone() == (role,)
                    conn.execute("SELECT count(*) FROM procrastinate_jobs")
    finally:
        _drop_role(role)


def test_ensure_app_role_refuses_roles_that_would_bypass_rls(owner_url: str) -> None:
    with pytest.raises(AppRoleError, match="owner"):
        ensure_app_role(owner_url, app_url=owner_url)
    role = f"wagate_bypass_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN BYPASSRLS')
    try:
        bypassing = owner_url.replace("postgres@", f"{role}@", 1)
        with pytest.raises(AppRoleError, match="BYPASSRLS"):
            ensure_app_role(owner_url, app_url=bypassing)
        with pytest.raises(AppRoleError, match="BYPASSRLS"):
            ensure_app_role(owner_url, role=role)
    finally:
        _drop_role(role)


def test_with_an_app_url_configured_it_only_grants(owner_url: str) -> None:
    role = f"wagate_given_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        given = owner_url.replace("postgres@", f"{role}@", 1)
        assert ensure_app_role(owner_url, app_url=given) == given
        with psycopg.connect(given) as conn:
            assert conn.execute("SELECT count(*) FROM conversations").fetchone() == (0,)
            conn.rollback()
    finally:
        with psycopg.connect(owner_url, autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{role}"')
        _drop_role(role)


# ------------------------------------------------------------------ the gateway as the app role


@pytest.fixture(scope="module")
def app_gateway(
    workdir: Path, fake_meta: FakePeer, fake_ai: FakePeer
) -> Iterator[tuple[Gateway, str]]:
    """`wagate serve` with its worker, given the owner's URL as every install is: it migrates
    as the owner, then connects as the app role, so every query it makes is bound by the
    policies."""
    with fresh_database() as url:
        gateway = Gateway(
            workdir,
            database_url=url,
            graph_url=f"{fake_meta.url}/v22.0",
            ai_url=f"{fake_ai.url}/v1",
        ).start()
        try:
            yield gateway, url
        finally:
            gateway.stop()


def test_a_gateway_on_the_app_role_stores_and_answers_a_message(
    app_gateway: tuple[Gateway, str], fake_meta: FakePeer, sender: str
) -> None:
    gateway, owner_url = app_gateway
    payload = meta_text(phone_number_id=PHONE_NUMBER_ID, sender=sender, text="halo, apa kabar?")
    assert gateway.post_meta(payload).status_code == 200

    def answers() -> list[str]:
        return [
            r["body"]["text"]["body"]
            for r in fake_meta.requests("send")
            if r["body"].get("to") == sender
        ]

    assert wait_until(answers, timeout=30)
    # The operator API (SQLAlchemy, the tenant's transaction) lists it with both directions.
    conversation = gateway.conversation_for(sender)
    assert conversation is not None
    page = gateway.api(f"/api/conversations/{conversation['id']}/messages", limit=50)
    assert [m["direction"] for m in page["items"]] == ["inbound"]
    assert page["outbound"] and page["outbound"][0]["direction"] == "outbound"
    assert gateway.api("/api/audit", limit=10)["items"]
    metrics = gateway.http.get("/metrics", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert metrics.status_code == 200
    # Written under the configured tenant, as the owner sees it.
    with psycopg.connect(owner_url) as conn:
        tenants = conn.execute(
            "SELECT DISTINCT tenant FROM outbound_messages WHERE conversation_id = %s",
            (conversation["id"],),
        ).fetchall()
    assert tenants == [("default",)]
    assert "row-level security" not in gateway.log()
    assert "InsufficientPrivilege" not in gateway.log()
    # Every connection the gateway holds (web pool, SQLAlchemy, procrastinate) is the app
    # role's, never the owner's.
    database = owner_url.rsplit("/", 1)[1]
    with psycopg.connect(owner_url) as conn:
        users = conn.execute(
            "SELECT DISTINCT usename FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    assert users == [("wagate_app",)]


# ------------------------------------------------------------------ round trips


class _SlowReplies:
    """A TCP proxy to PostgreSQL that holds every reply for `delay` seconds (in order), so a
    block's duration counts its round trips; and counts them (`round_trips`: requests sent
    after the last reply reached the client), which a loaded machine's timings cannot
    blur."""

    def __init__(self, target_port: int, delay: float) -> None:
        self.target_port = target_port
        self.delay = delay
        self.port = 0
        self.round_trips = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> _SlowReplies:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        server_in, server_out = await asyncio.open_connection("127.0.0.1", self.target_port)
        loop = asyncio.get_running_loop()
        replies: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        answered = True  # a request now starts a round trip

        async def forward_requests() -> None:
            nonlocal answered
            while data := await client_in.read(65536):
                if answered:
                    self.round_trips += 1
                    answered = False
                server_out.write(data)

        async def read_replies() -> None:
            while data := await server_in.read(65536):
                await replies.put((loop.time() + self.delay, data))

        async def release_replies() -> None:
            nonlocal answered
            while True:
                due, data = await replies.get()
                await asyncio.sleep(max(0.0, due - loop.time()))
                client_out.write(data)
                answered = True

        tasks = [
            asyncio.create_task(t()) for t in (forward_requests, read_replies, release_replies)
        ]
        try:
            await tasks[0]
        finally:
            for task in tasks:
                task.cancel()
            server_out.close()
            client_out.close()


async def test_a_pipelined_tenant_transaction_is_one_round_trip(app_url: str) -> None:
    delay = 0.2
    parts = urlsplit(app_url)
    async with _SlowReplies(parts.port or 5432, delay) as proxy:
        proxied = app_url.replace(f"@{parts.hostname}:{parts.port}", f"@127.0.0.1:{proxy.port}")
        database = Database(proxied, pool_size=2)
        await database.open()
        try:
            insert = "INSERT INTO contacts (tenant, phone) VALUES ('alpha', %(p)s) RETURNING id"
            async with database.pool.connection() as conn:
                started, trips = time.monotonic(), proxy.round_trips
                async with tenant_pipeline(conn, "alpha"):
                    cursor = await conn.execute(insert, {"p": f"rt-{uuid.uuid4().hex}"})
                assert await cursor.fetchone()
                pipelined = time.monotonic() - started
                pipelined_trips = proxy.round_trips - trips
            started, trips = time.monotonic(), proxy.round_trips
            async with database.tenant_connection("alpha") as conn:
                await conn.execute(insert, {"p": f"rt-{uuid.uuid4().hex}"})
            plain = time.monotonic() - started
            plain_trips = proxy.round_trips - trips
        finally:
            await database.close()
    assert pipelined >= delay and pipelined_trips == 1  # the tenant and the statement: one
    assert plain >= 3 * delay and plain_trips >= 3  # BEGIN + tenant, statement, COMMIT


# ------------------------------------------------ the webhook path's tenant-bound connections


_INSERT_CONTACT = "INSERT INTO contacts (tenant, phone) VALUES (%(t)s, %(p)s) RETURNING tenant"


def _contact(tenant: str, phone: str) -> tuple[Any, dict[str, str]]:
    return (_INSERT_CONTACT, {"t": tenant, "p": phone})


def _phones(owner_url: str, marker: str) -> list[tuple[str, str]]:
    with psycopg.connect(owner_url) as conn:
        rows = conn.execute(
            "SELECT tenant, phone FROM contacts WHERE phone LIKE %s ORDER BY phone",
            (f"{marker}%",),
        ).fetchall()
    return [(str(t), str(p)) for t, p in rows]


async def test_tenant_bound_connections_switch_tenants_and_never_write_across(
    app_url: str, owner_url: str
) -> None:
    bound = TenantBoundConnections(app_url, size=1)  # one connection: every run reuses it
    marker = f"bound-{uuid.uuid4().hex[:8]}-"
    try:
        assert await bound.run("alpha", [_contact("alpha", marker + "1")]) == [{"tenant": "alpha"}]
        # The same tenant again: one autocommit statement on the connection that holds it.
        assert await bound.run("alpha", [_contact("alpha", marker + "2")]) == [{"tenant": "alpha"}]
        # Another tenant: its rows are written, and the session now refuses alpha's.
        assert await bound.run("beta", [_contact("beta", marker + "3")]) == [{"tenant": "beta"}]
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            await bound.run("beta", [_contact("alpha", marker + "4")])
        # Several statements are one transaction: a failing one takes the others with it,
        # including the tenant switch, and the next run sets its tenant again.
        with pytest.raises(psycopg.errors.DivisionByZero):
            await bound.run("alpha", [_contact("alpha", marker + "5"), ("SELECT 1 / 0", {})])
        assert await bound.run("beta", [_contact("beta", marker + "6")]) == [{"tenant": "beta"}]
        rows = await bound.run(
            "alpha", [_contact("alpha", marker + "7"), ("SELECT 1 WHERE false", {})]
        )
        assert rows == [{"tenant": "alpha"}, None]
        with pytest.raises(ValueError, match="tenant"):
            await bound.run("", [_contact("alpha", marker + "8")])
    finally:
        await bound.close()
    assert _phones(owner_url, marker) == [
        ("alpha", marker + "1"),
        ("alpha", marker + "2"),
        ("beta", marker + "3"),
        ("beta", marker + "6"),
        ("alpha", marker + "7"),
    ]
    # The shared pool never saw a session tenant: it still sees nothing without one.
    with psycopg.connect(app_url) as conn:
        assert conn.execute("SELECT count(*) FROM contacts").fetchone() == (0,)


async def test_tenant_rows_and_batches_on_shared_connections_see_only_their_tenant(
    app_url: str, owner_url: str
) -> None:
    """`tenant_rows` / `tenant_batch` run on connections that keep the last tenant: one
    connection here, so each call finds the other tenant's session and must switch."""
    database = Database(app_url, pool_size=2)  # one tenant-statement connection
    await database.open()
    marker = f"rows-{uuid.uuid4().hex[:8]}-"
    count = "SELECT count(*) AS n FROM contacts WHERE phone LIKE %(m)s"
    try:
        await database.tenant_batch("alpha", [_contact("alpha", marker + "1")])
        await database.tenant_rows("beta", *_contact("beta", marker + "2"))
        for tenant in ("alpha", "beta", "beta", "alpha"):
            rows = await database.tenant_rows(tenant, count, {"m": f"{marker}%"})
            assert rows == [{"n": 1}], tenant
        seen = await database.tenant_batch(
            "alpha",
            [("SELECT tenant FROM contacts WHERE phone LIKE %(m)s", {"m": f"{marker}%"})] * 2,
        )
        assert seen == [[{"tenant": "alpha"}]] * 2
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
            await database.tenant_rows("alpha", *_contact("beta", marker + "3"))
        assert await database.tenant_rows("alpha", "SELECT 1 WHERE false") == []
        written = await database.tenant_rows("alpha", *_contact("alpha", marker + "4"))
        assert written == [{"tenant": "alpha"}]
        # The bare pool never holds a session tenant: it sees nothing without one.
        async with database.pool.connection() as conn:
            none = await (await conn.execute(count, {"m": f"{marker}%"})).fetchone()
        assert none == {"n": 0}
    finally:
        await database.close()
    assert _phones(owner_url, marker) == [
        ("alpha", marker + "1"),
        ("beta", marker + "2"),
        ("alpha", marker + "4"),
    ]


async def test_tenant_bound_connections_queue_time_out_and_replace_a_broken_one(
    app_url: str, owner_url: str
) -> None:
    database = Database(app_url, pool_size=2)
    bound = database.tenant_bound
    marker = f"queue-{uuid.uuid4().hex[:8]}-"
    try:
        # Ten runs at once over two connections: each waits its turn, all commit.
        await asyncio.gather(
            *(bound.run("alpha", [_contact("alpha", f"{marker}{i:02d}")]) for i in range(10))
        )
        assert len(_phones(owner_url, marker)) == 10
        # Both connections busy for longer than a waiter's patience: that waiter gets an
        # OperationalError (the webhook's 503), the busy ones finish.
        slow = [("SELECT pg_sleep(0.6)", {})]
        patient = TenantBoundConnections(app_url, size=1, timeout=0.2)
        try:
            held = asyncio.create_task(patient.run("alpha", slow))
            await asyncio.sleep(0.05)
            with pytest.raises(psycopg.OperationalError, match="no database connection free"):
                await patient.run("alpha", [_contact("alpha", marker + "late")])
            await held
            # Killed under it: that run fails, the connection is replaced, the next one works.
            pids = await patient.run("alpha", [("SELECT pg_backend_pid() AS p", {})])
            backend = pids[0]["p"] if pids[0] else None
            with psycopg.connect(owner_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
            with pytest.raises(psycopg.OperationalError):
                await patient.run("alpha", [_contact("alpha", marker + "lost")])
            assert await patient.run("alpha", [_contact("alpha", marker + "new")])
        finally:
            await patient.close()
    finally:
        await database.close()
    assert [p for _, p in _phones(owner_url, marker)][-1] == marker + "new"
    assert marker + "late" not in [p for _, p in _phones(owner_url, marker)]
    assert marker + "lost" not in [p for _, p in _phones(owner_url, marker)]


async def test_a_tenant_bound_statement_is_one_round_trip(app_url: str) -> None:
    delay = 0.2
    parts = urlsplit(app_url)
    async with _SlowReplies(parts.port or 5432, delay) as proxy:
        proxied = app_url.replace(f"@{parts.hostname}:{parts.port}", f"@127.0.0.1:{proxy.port}")
        bound = TenantBoundConnections(proxied, size=1)
        try:
            await bound.run("alpha", [("SELECT 1", {})])  # connect, set
            timings, trips = [], []
            for tenant in ("alpha", "beta"):  # held already; then a switch, pipelined
                started, before = time.monotonic(), proxy.round_trips
                await bound.run(tenant, [_contact(tenant, uuid.uuid4().hex)])
                timings.append(time.monotonic() - started)
                trips.append(proxy.round_trips - before)
        finally:
            await bound.close()
    assert all(t >= delay for t in timings) and trips == [1, 1], (timings, trips)
