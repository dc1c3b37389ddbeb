"""Data subjects' rights and retention (CP7, CP8): export everything held about a contact,
erase it on request, and purge what has outlived the tenant's retention period.

Contacts are found by their phone number's blind-index digest: the number itself is not in the
database. Erasure and retention leave the audit chain verifiable: audit entries hold ids and
facts, never content, and redaction keeps their hashes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from wagate.domain.identity import displayed
from wagate.domain.json_keys import camel_keys
from wagate.domain.phone import normalise_phone
from wagate.security.sealing import SealContext, Sealer, UnreadableEnvelope
from wagate.storage import blind
from wagate.storage.blind import Indexer
from wagate.storage.database import Database
from wagate.storage.intake import conversation_seal_key
from wagate.storage.media import PostgresMedia
from wagate.storage.statuses import IN_FLIGHT

_CONVERSATIONS_SQL = """
SELECT id, provider, channel_id, contact_key, profile, contact_id, created_at, last_inbound_at
  FROM conversations
 WHERE tenant = %(tenant)s AND (contact_phone = %(phone)s OR contact_key = %(key)s
       OR contact_id IN (SELECT id FROM contacts WHERE tenant = %(tenant)s AND phone = %(phone)s))
 ORDER BY id
"""

# What retention removes: message content and everything derived from it. Contacts,
# conversations (as keys), consent evidence and the audit chain stay.
_PURGE_SQL = (
    (
        "inbound_messages",
        "DELETE FROM inbound_messages WHERE tenant = %(tenant)s "
        "AND received_at < %(cutoff)s AND processed_at IS NOT NULL",
    ),
    (
        "outbound_messages",
        "DELETE FROM outbound_messages WHERE tenant = %(tenant)s "
        "AND created_at < %(cutoff)s "
        f"AND status NOT IN {IN_FLIGHT}",  # still to be sent: kept
    ),
    (
        "sessions",
        "DELETE FROM sessions WHERE tenant = %(tenant)s AND last_activity_at < %(cutoff)s",
    ),  # their turns go with them
    ("pii_vaults", "DELETE FROM pii_vaults WHERE tenant = %(tenant)s AND updated_at < %(cutoff)s"),
    (
        "provider_events",
        "DELETE FROM provider_events WHERE tenant = %(tenant)s AND received_at < %(cutoff)s",
    ),
    (
        "delivery_statuses",
        "DELETE FROM delivery_statuses WHERE tenant = %(tenant)s AND received_at < %(cutoff)s",
    ),
    (
        "conversation_runs",
        "DELETE FROM conversation_runs WHERE tenant = %(tenant)s AND finished_at < %(cutoff)s",
    ),
    ("link_codes", "DELETE FROM link_codes WHERE tenant = %(tenant)s AND created_at < %(cutoff)s"),
    (
        "review_drafts",
        "DELETE FROM review_drafts WHERE tenant = %(tenant)s AND created_at < %(cutoff)s "
        "AND status <> 'pending'",  # a draft waiting for a lawyer never expires silently
    ),
    (
        "case_intakes",
        "DELETE FROM case_intakes WHERE tenant = %(tenant)s AND created_at < %(cutoff)s "
        "AND status <> 'new'",  # nor does an intake no lawyer has reviewed yet
    ),
)


class ContactRights:
    def __init__(
        self,
        database: Database,
        sealer: Sealer,
        indexer: Indexer,
        tenant: str,
        *,
        media: PostgresMedia | None = None,
    ) -> None:
        self._database = database
        self._sealer = sealer
        self._indexer = indexer
        self._tenant = tenant
        self._media = media  # files (MD1): listed in exports, removed with their rows

    def _open(self, table: str, key: str, sealed: Any) -> Any:
        if sealed is None:
            return None
        try:
            plain = self._sealer.open(
                bytes(sealed), SealContext(tenant=self._tenant, table=table, key=key)
            )
        except UnreadableEnvelope:
            return {"unreadable": True}
        try:
            return orjson.loads(plain)
        except orjson.JSONDecodeError:
            return plain.decode(errors="replace")

    def _text(self, table: str, key: str, sealed: Any) -> str | None:
        """A sealed plain text (not JSON), opened."""
        if sealed is None:
            return None
        try:
            plain = self._sealer.open(
                bytes(sealed), SealContext(tenant=self._tenant, table=table, key=key)
            )
        except UnreadableEnvelope:
            return None
        return plain.decode(errors="replace")

    def _lookup(self, phone: str) -> dict[str, Any]:
        number = normalise_phone(phone)
        return {
            "tenant": self._tenant,
            "number": number,
            "phone": self._indexer.digest(number, purpose=blind.PHONE),
            "key": self._indexer.digest(number, purpose=blind.CONTACT),
        }

    async def export(self, phone: str) -> dict[str, Any]:
        """Everything held about the contact with this number, opened (CP8)."""
        params = self._lookup(phone)
        async with self._database.tenant_connection(self._tenant) as conn:
            conversations = await (await conn.execute(_CONVERSATIONS_SQL, params)).fetchall()
            ids = [c["id"] for c in conversations]
            contacts = await (
                await conn.execute(
                    "SELECT id, consent_state, consent_changed_at, created_at FROM contacts "
                    "WHERE tenant = %(tenant)s AND (phone = %(phone)s OR id = ANY(%(ids)s))",
                    {**params, "ids": [c["contact_id"] for c in conversations if c["contact_id"]]},
                )
            ).fetchall()
            consents = await (
                await conn.execute(
                    "SELECT contact_id, state, provider_message_id, evidence, occurred_at "
                    "FROM consents WHERE contact_id = ANY(%(ids)s) ORDER BY id",
                    {"ids": [c["id"] for c in contacts]},
                )
            ).fetchall()
            inbound = await (
                await conn.execute(
                    "SELECT conversation_id, provider, provider_message_id, kind, sent_at, content "
                    "FROM inbound_messages WHERE conversation_id = ANY(%(ids)s) "
                    "ORDER BY sent_at, id",
                    {"ids": ids},
                )
            ).fetchall()
            outbound = await (
                await conn.execute(
                    "SELECT conversation_id, idempotency_key, kind, status, created_at, content "
                    "FROM outbound_messages WHERE conversation_id = ANY(%(ids)s) ORDER BY id",
                    {"ids": ids},
                )
            ).fetchall()
            turns = await (
                await conn.execute(
                    "SELECT s.conversation_id, t.session_id, t.run_key, t.role, t.content, "
                    "t.created_at FROM turns t JOIN sessions s ON s.id = t.session_id "
                    "WHERE s.conversation_id = ANY(%(ids)s) ORDER BY t.id",
                    {"ids": ids},
                )
            ).fetchall()
            drafts = await (
                await conn.execute(
                    "SELECT conversation_id, id, run_key, status, zone, created_at, decided_at, "
                    "question, draft, final_text FROM review_drafts "
                    "WHERE conversation_id = ANY(%(ids)s) ORDER BY id",
                    {"ids": ids},
                )
            ).fetchall()
            intakes = await (
                await conn.execute(
                    "SELECT conversation_id, id, provider, provider_message_id, status, "
                    "received_at, reviewed_at, answers, response FROM case_intakes "
                    "WHERE conversation_id = ANY(%(ids)s) ORDER BY id",
                    {"ids": ids},
                )
            ).fetchall()
            accounts = await (
                await conn.execute(
                    "SELECT id, username, role, approved, pii, linked_at FROM accounts "
                    "WHERE tenant = %(tenant)s AND linked_phone = %(phone)s",
                    params,
                )
            ).fetchall()
        # Files (MD1): what was received and kept, with their names and types; the files
        # themselves are downloaded by id (`GET /api/media/{id}`, `contacts export --files`).
        files = await self._media.list(ids) if self._media is not None and ids else []
        # Rows and opened documents carry the database's and the domain's snake_case names;
        # the export speaks the API's camelCase throughout.
        export: dict[str, Any] = camel_keys(
            {
                "phone": params["number"],
                "contacts": [dict(c) for c in contacts],
                "media": files,
                "consents": [
                    {
                        **{k: v for k, v in c.items() if k != "evidence"},
                        "evidence": self._open(
                            "consents",
                            f"{c['contact_id']}:{c['provider_message_id']}",
                            c["evidence"],
                        ),
                    }
                    for c in consents
                ],
                "conversations": [
                    {
                        "id": c["id"],
                        "provider": c["provider"],
                        "createdAt": c["created_at"],
                        "lastInboundAt": c["last_inbound_at"],
                        "profile": self._open(
                            "conversations",
                            conversation_seal_key(c["provider"], c["channel_id"], c["contact_key"]),
                            c["profile"],
                        ),
                    }
                    for c in conversations
                ],
                "inboundMessages": [
                    {
                        "conversationId": m["conversation_id"],
                        "kind": m["kind"],
                        "sentAt": m["sent_at"],
                        "message": self._open(
                            "inbound_messages.content",
                            f"{m['provider']}:{m['provider_message_id']}",
                            m["content"],
                        ),
                    }
                    for m in inbound
                ],
                "outboundMessages": [
                    {
                        "conversationId": m["conversation_id"],
                        "kind": m["kind"],
                        "status": m["status"],
                        "createdAt": m["created_at"],
                        "message": displayed(
                            str(m["kind"]),
                            self._open(
                                "outbound_messages.content", m["idempotency_key"], m["content"]
                            ),
                        ),
                    }
                    for m in outbound
                ],
                "history": [
                    {
                        "conversationId": t["conversation_id"],
                        "role": t["role"],
                        "createdAt": t["created_at"],
                        "text": self._open(
                            "turns", f"{t['session_id']}:{t['run_key']}:{t['role']}", t["content"]
                        ),
                    }
                    for t in turns
                ],
                # Answers held for a lawyer (AI7), as stored: the person's data still as
                # placeholders in the question and the draft.
                "reviewDrafts": [
                    {
                        "conversationId": d["conversation_id"],
                        "id": d["id"],
                        "status": d["status"],
                        "zone": d["zone"],
                        "createdAt": d["created_at"],
                        "decidedAt": d["decided_at"],
                        **{
                            name: self._text(f"review_drafts.{column}", d["run_key"], d[column])
                            for name, column in (
                                ("question", "question"),
                                ("draft", "draft"),
                                ("finalText", "final_text"),
                            )
                        },
                    }
                    for d in drafts
                ],
                # Case registrations from WhatsApp Flows (FL1): the answers as kept, and the reply
                # as it came.
                "caseIntakes": [
                    {
                        "conversationId": i["conversation_id"],
                        "id": i["id"],
                        "status": i["status"],
                        "receivedAt": i["received_at"],
                        "reviewedAt": i["reviewed_at"],
                        "answers": self._open(
                            "case_intakes.answers",
                            f"{i['provider']}:{i['provider_message_id']}",
                            i["answers"],
                        ),
                        "response": self._text(
                            "case_intakes.response",
                            f"{i['provider']}:{i['provider_message_id']}",
                            i["response"],
                        ),
                    }
                    for i in intakes
                ],
                "accounts": [
                    {
                        "id": a["id"],
                        "role": a["role"],
                        "approved": a["approved"],
                        "linkedAt": a["linked_at"],
                        "details": self._open("accounts", a["username"], a["pii"]),
                    }
                    for a in accounts
                ],
            }
        )
        return export

    async def erase(self, phone: str) -> dict[str, int]:
        """Erase the contact with this number (CP8). Conversations go with everything in them
        (messages, replies, history, vaults, runs), then the contact and its consents; a linked
        account loses the link, and an account made automatically for the number goes."""
        params = self._lookup(phone)
        username = self._indexer.digest(f"whatsapp_{params['number']}", purpose=blind.USERNAME)
        counts: dict[str, int] = {}
        async with self._database.tenant_connection(self._tenant) as conn:
            conversations = await (await conn.execute(_CONVERSATIONS_SQL, params)).fetchall()
            ids = [c["id"] for c in conversations]
            contact_ids = {c["contact_id"] for c in conversations if c["contact_id"]}
            found = await (
                await conn.execute(
                    "SELECT id FROM contacts WHERE tenant = %(tenant)s AND phone = %(phone)s",
                    params,
                )
            ).fetchall()
            contact_ids |= {row["id"] for row in found}
            steps = (
                (
                    "jobs",
                    "DELETE FROM procrastinate_jobs WHERE lock = ANY(%(locks)s) "
                    "AND status = 'todo'",
                ),
                # (they go with their conversation too; counted on their own)
                ("case_intakes", "DELETE FROM case_intakes WHERE conversation_id = ANY(%(ids)s)"),
                ("conversations", "DELETE FROM conversations WHERE id = ANY(%(ids)s)"),
                ("contacts", "DELETE FROM contacts WHERE id = ANY(%(contacts)s)"),
                (
                    "accounts_removed",
                    "DELETE FROM accounts WHERE tenant = %(tenant)s AND username = %(username)s",
                ),
                (
                    "accounts_unlinked",
                    "UPDATE accounts SET linked_phone = NULL, linked_at = NULL "
                    "WHERE tenant = %(tenant)s AND linked_phone = %(phone)s",
                ),
            )
            values = {
                **params,
                "ids": ids,
                "contacts": list(contact_ids),
                "username": username,
                "locks": [f"conversation:{i}" for i in ids],
            }
            if self._media is not None:
                # Files first, with their objects' names kept for deletion: the rows would
                # otherwise go with the conversations and leave the objects behind.
                row = await (await conn.execute(self._media.erase_sql(), values)).fetchone()
                counts["media"] = int(row["removed"]) if row else 0
            for name, sql in steps:
                counts[name] = (await conn.execute(sql, values)).rowcount
        if self._media is not None:
            await self._media.empty_trash()
        return counts

    async def purge(self, *, cutoff: datetime) -> dict[str, int]:
        """Retention (CP7): remove message content and derived data older than `cutoff`."""
        counts: dict[str, int] = {}
        if self._media is not None:
            # Files before their messages (whose deletion would take the rows along).
            counts["media"] = await self._media.purge(cutoff=cutoff)
        # One transaction per table, as when each DELETE committed on its own: a purge that
        # fails half-way keeps what it already removed, and no lock outlives its table.
        for table, sql in _PURGE_SQL:
            async with self._database.tenant_connection(self._tenant) as conn:
                counts[table] = (
                    await conn.execute(sql, {"tenant": self._tenant, "cutoff": cutoff})
                ).rowcount
        if self._media is not None:
            # Files operators uploaded went with their outbound rows (a trigger named their
            # objects in the trash): deleted now, not at the next run.
            await self._media.empty_trash()
        return counts
