"""On-duty staff alerts (issue 14, item 2's e-mail) on the in-memory ports: stored first, mailed
once per key and address, retried by the sweep, never an error when nothing can send them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wagate.pipeline.ports import MailDeliveryError, MailMessage, StaffAlert
from wagate.pipeline.staff_alerts import MAX_ATTEMPTS, MailedStaffAlerts, alert_mail
from wagate.testing import Clock, Mailbox, MemoryAlerts, MemoryAlertStore

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STAFF = ("jaga@firma.co.id", "ani@firma.co.id")
RED = StaffAlert(
    kind="urgent", key="urgent:42:run:42:7", conversation_id=42, summary="rule: kekerasan"
)


class PickyMailbox(Mailbox):
    """Refuses mail to some addresses: for a while (transient) or for good."""

    def __init__(self, *, busy: set[str] | None = None, refusing: set[str] | None = None) -> None:
        super().__init__()
        self.busy = busy or set()
        self.refusing = refusing or set()

    async def send(self, message: MailMessage) -> None:
        if message.to in self.refusing:
            raise MailDeliveryError("550 no such user", permanent=True)
        if message.to in self.busy:
            raise MailDeliveryError("451 try later", permanent=False)
        self.sent.append(message)


def _alerts(mailer: Mailbox | None, addresses: tuple[str, ...] = STAFF) -> MailedStaffAlerts:
    return MailedStaffAlerts(
        store=MemoryAlertStore(),
        mailer=mailer,
        addresses=addresses,
        tenant="firma",
        clock=Clock(T0),
        public_url="https://wagate.firma.co.id",
    )


async def test_an_alert_raised_twice_is_mailed_once_to_each_address() -> None:
    mailbox = Mailbox()
    alerts = _alerts(mailbox)
    await alerts.alert(RED)
    await alerts.alert(RED)
    assert sorted(m.to for m in mailbox.sent) == sorted(STAFF)
    assert {m.message_id for m in mailbox.sent} == {"alert:firma:urgent:42:run:42:7"}
    assert await alerts.retry_due() == 0  # nothing left to send
    assert len(mailbox.sent) == 2


def test_the_mail_names_the_conversation_links_the_console_and_nothing_personal() -> None:
    mail = alert_mail(RED, to=STAFF[0], tenant="firma", public_url="https://w.firma.co.id/")
    assert mail.subject == "[wagate] urgent: percakapan 42"
    assert "Percakapan: 42" in mail.body and "rule: kekerasan" in mail.body
    assert "Buka: https://w.firma.co.id/console/conversations/42" in mail.body
    assert "Buka:" not in alert_mail(RED, to=STAFF[0], tenant="firma", public_url=None).body


async def test_without_smtp_or_addresses_an_alert_is_stored_undeliverable_and_no_error() -> None:
    for alerts in (_alerts(None), _alerts(Mailbox(), addresses=())):
        await alerts.alert(RED)
        store = alerts.store
        assert isinstance(store, MemoryAlertStore)
        row = store.rows[RED.key]
        assert row.undeliverable and row.last_error and row.sent_at is None
        assert await alerts.retry_due() == 0


async def test_a_busy_mail_server_is_tried_again_by_the_sweep_for_the_missing_address() -> None:
    mailbox = PickyMailbox(busy={STAFF[1]})
    alerts = _alerts(mailbox)
    await alerts.alert(RED)
    assert [m.to for m in mailbox.sent] == [STAFF[0]]
    assert await alerts.retry_due() == 0  # not due yet: 30 s pause first
    assert isinstance(alerts.clock, Clock)
    alerts.clock.now += timedelta(seconds=30)
    mailbox.busy.clear()
    assert await alerts.retry_due() == 1
    assert [m.to for m in mailbox.sent] == [STAFF[0], STAFF[1]]
    store = alerts.store
    assert isinstance(store, MemoryAlertStore)
    row = store.rows[RED.key]
    assert row.sent_at is not None and row.failures == 1 and row.attempts == 2


async def test_an_address_refused_for_good_is_not_retried_and_a_dead_server_gives_up() -> None:
    refusing = PickyMailbox(refusing={STAFF[1]})
    alerts = _alerts(refusing)
    await alerts.alert(RED)
    store = alerts.store
    assert isinstance(store, MemoryAlertStore)
    assert store.rows[RED.key].sent_at is not None  # done: one reached, one refused for good

    down = PickyMailbox(busy=set(STAFF))
    alerts = _alerts(down)
    clock = alerts.clock
    assert isinstance(clock, Clock)
    await alerts.alert(RED)
    for _ in range(MAX_ATTEMPTS + 3):
        clock.now += timedelta(hours=2)
        await alerts.retry_due()
    store = alerts.store
    assert isinstance(store, MemoryAlertStore)
    row = store.rows[RED.key]
    assert row.attempts == MAX_ATTEMPTS and row.undeliverable and down.sent == []


async def test_a_mailer_that_crashes_does_not_raise_into_the_run() -> None:
    class Broken(Mailbox):
        async def send(self, message: MailMessage) -> None:
            raise RuntimeError("bug")

    alerts = _alerts(Broken())
    await alerts.alert(RED)  # no exception
    store = alerts.store
    assert isinstance(store, MemoryAlertStore)
    assert store.rows[RED.key].failures == 2 and store.rows[RED.key].last_error == "RuntimeError"


async def test_memory_alerts_keep_every_raise_and_each_key_once() -> None:
    alerts = MemoryAlerts()
    await alerts.alert(RED)
    await alerts.alert(RED)
    assert len(alerts.raised) == 2 and alerts.alerts == [RED]
