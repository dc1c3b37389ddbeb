"""On-duty staff alerts (AI7) by e-mail: a red message, a draft about to miss its deadline or
its 24-hour window. Each alert is stored before it is mailed (its key makes a second raise a
no-op), mailed to every URGENT_NOTIFY_EMAILS address, and marked; what failed is tried again
by the worker's sweep (`retry_due`), with growing pauses, for a day at most.

The mail names the conversation by its id, the kind and a short summary, and links to the
console when PUBLIC_URL is set: never a name, a number or what the person wrote. Without SMTP
or addresses an alert is stored, logged and counted as undeliverable; raising it never fails
the conversation's run on that account."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from wagate.pipeline.ports import (
    AlertStore,
    MailDeliveryError,
    Mailer,
    MailMessage,
    StaffAlert,
    StoredAlert,
)

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 8  # tries of one alert (30 s, 1, 2, 4 … minutes apart)
RETRY_BASE = timedelta(seconds=30)
RETRY_WINDOW = timedelta(hours=24)  # an older unsent alert is no longer worth mailing
CLAIM_LEASE = timedelta(minutes=2)  # one sender at a time; a crashed one's claim runs out
SWEEP_BATCH = 50
MAX_SUMMARY_CHARS = 300

_KINDS = {
    "urgent": "MENDESAK — pesan darurat, percakapan diserahkan ke manusia",
    "review_due": "Draf tinjauan hampir melewati tenggat",
    "window_closing": "Draf tinjauan hampir kehilangan jendela 24 jam",
    "case_intake": "Pendaftaran perkara baru melalui formulir WhatsApp, menunggu advokat",
}


def console_link(public_url: str | None, conversation_id: int) -> str | None:
    if not public_url:
        return None
    return f"{public_url.rstrip('/')}/console/conversations/{conversation_id}"


def alert_mail(alert: StaffAlert, *, to: str, tenant: str, public_url: str | None) -> MailMessage:
    """The mail for one address: the same Message-ID for every address and every try, so a
    mail sent again is recognisable as the same alert."""
    what = _KINDS.get(alert.kind, alert.kind)
    summary = " ".join(alert.summary.split())[:MAX_SUMMARY_CHARS]
    lines = [
        f"Peringatan untuk staf yang bertugas: {what}.",
        "",
        f"Jenis: {alert.kind}",
        f"Tenant: {tenant}",
        f"Percakapan: {alert.conversation_id}",
        f"Ringkasan: {summary}",
    ]
    link = console_link(public_url, alert.conversation_id)
    if link is not None:
        lines.append(f"Buka: {link}")
    lines += ["", "Pesan otomatis dari wagate; tanpa data pribadi. Buka konsol untuk detailnya."]
    return MailMessage(
        to=to,
        subject=f"[wagate] {alert.kind}: percakapan {alert.conversation_id}",
        body="\n".join(lines) + "\n",
        message_id=f"alert:{tenant}:{alert.key}",
    )


@dataclass(kw_only=True)
class MailedStaffAlerts:
    """`StaffAlerts` over a `Mailer`: one per tenant (its alerts, its store)."""

    store: AlertStore
    mailer: Mailer | None  # None: SMTP is not configured
    addresses: Sequence[str]  # URGENT_NOTIFY_EMAILS
    tenant: str
    clock: Callable[[], datetime]
    public_url: str | None = None

    @property
    def deliverable(self) -> bool:
        return self.mailer is not None and bool(self.addresses)

    async def alert(self, alert: StaffAlert) -> None:
        """Store, then mail (a key raised before is mailed once, whatever happens here)."""
        await self.store.record(alert, at=self.clock())
        if not self.deliverable:
            reason = "SMTP is not configured" if self.mailer is None else "no URGENT_NOTIFY_EMAILS"
            await self.store.undeliverable(alert.key, reason=reason)
            log.warning(
                "staff_alert.undeliverable",
                tenant=self.tenant,
                kind=alert.kind,
                conversation_id=alert.conversation_id,
                reason=reason,
            )
            return
        await self._send(alert.key)

    async def retry_due(self) -> int:
        """The sweep's part: mail the alerts whose earlier try failed; how many were tried."""
        if not self.deliverable:
            return 0
        now = self.clock()
        keys = await self.store.due(at=now, since=now - RETRY_WINDOW, limit=SWEEP_BATCH)
        for key in keys:
            await self._send(key)
        return len(keys)

    async def _send(self, key: str) -> None:
        now = self.clock()
        stored = await self.store.claim(key, at=now, lease=CLAIM_LEASE)
        if stored is None:
            return  # sent already, or another process is on it
        delivered, refused, failures, error = await self._mail(stored)
        left = [a for a in self.addresses if a not in {*stored.delivered_to, *delivered, *refused}]
        finished = not left or stored.attempts >= MAX_ATTEMPTS
        await self.store.outcome(
            key,
            delivered=delivered,
            failures=failures,
            error=error,
            finished=finished,
            next_at=None if finished else now + RETRY_BASE * 2 ** (stored.attempts - 1),
        )
        log.info(
            "staff_alert.mailed" if not failures else "staff_alert.failed",
            tenant=self.tenant,
            kind=stored.alert.kind,
            conversation_id=stored.alert.conversation_id,
            delivered=len(delivered),
            failures=failures,
            attempt=stored.attempts,
            finished=finished,
        )

    async def _mail(self, stored: StoredAlert) -> tuple[list[str], list[str], int, str | None]:
        """(accepted by, refused for good by, failed mails, the last error)."""
        assert self.mailer is not None
        delivered: list[str] = []
        refused: list[str] = []
        failures, error = 0, None
        for address in self.addresses:
            if address in stored.delivered_to:
                continue
            mail = alert_mail(
                stored.alert, to=address, tenant=self.tenant, public_url=self.public_url
            )
            try:
                await self.mailer.send(mail)
            except MailDeliveryError as exc:
                failures, error = failures + 1, str(exc)[:500]
                if exc.permanent:
                    refused.append(address)
            except Exception as exc:  # a mailer bug must not cost the alert its retries
                failures, error = failures + 1, type(exc).__name__
            else:
                delivered.append(address)
        return delivered, refused, failures, error
