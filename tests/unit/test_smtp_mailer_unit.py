"""SmtpMailer without a network: ports, settings, the Message-ID, the composed message, and
how library errors become MailDeliveryError (permanent only for a 5xx about this mail)."""

from __future__ import annotations

import email
import email.policy
import re
import ssl
from email.message import EmailMessage

import aiosmtplib
import pytest
from pydantic import SecretStr

from wagate.notify.smtp import SmtpMailer, default_port, message_id_for
from wagate.pipeline.ports import MailDeliveryError, MailMessage
from wagate.settings import Settings

PASSWORD = "sandi-rahasia-9f3k"
BODY = "Halo Bapak Joko,\nJadwal konsultasi Anda dipindah ke hari Kamis.\n"
MAIL = MailMessage(to="joko@contoh.test", subject="Jadwal", body=BODY, message_id="mail:9")
# RFC 5322 dot-atom-text for the left part of a Message-ID.
ATEXT = re.compile(r"<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@wagate>")


def make(**options: object) -> SmtpMailer:
    values: dict[str, object] = {"host": "smtp.example.test", "sender": "noreply@example.test"}
    values.update(options)
    return SmtpMailer(**values)  # type: ignore[arg-type]


def settings(**values: object) -> Settings:
    base: dict[str, object] = {
        "smtp_host": None,
        "smtp_port": None,
        "smtp_username": None,
        "smtp_password": None,
        "smtp_from": None,
        "smtp_starttls": True,
        "smtp_tls": False,
    }
    base.update(values)
    return Settings(_env_file=None, **base)  # type: ignore[arg-type]


# --- ports and settings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tls", "starttls", "port"),
    [(True, True, 465), (True, False, 465), (False, True, 587), (False, False, 25)],
)
def test_default_port(tls: bool, starttls: bool, port: int) -> None:
    assert default_port(tls=tls, starttls=starttls) == port
    assert make(tls=tls, starttls=starttls).port == port


def test_an_explicit_port_wins() -> None:
    assert make(port=2525, tls=True).port == 2525


def test_not_configured_means_no_mailer() -> None:
    assert SmtpMailer.from_settings(settings()) is None
    assert SmtpMailer.from_settings(settings(smtp_from="noreply@example.test")) is None


def test_from_settings() -> None:
    mailer = SmtpMailer.from_settings(
        settings(
            smtp_host="smtp.example.test",
            smtp_from="Kantor <noreply@example.test>",
            smtp_username="relay",
            smtp_password=SecretStr(PASSWORD),
            smtp_tls=True,
        )
    )
    assert mailer is not None
    assert (mailer.host, mailer.port, mailer.sender) == (
        "smtp.example.test",
        465,
        "Kantor <noreply@example.test>",
    )
    assert PASSWORD not in repr(mailer) and "relay" not in repr(mailer)


def test_from_settings_passes_the_tls_context_on() -> None:
    context = ssl.create_default_context()
    mailer = SmtpMailer.from_settings(
        settings(smtp_host="h.test", smtp_from="a@h.test", smtp_port=2525), tls_context=context
    )
    assert mailer is not None and mailer.port == 2525


@pytest.mark.parametrize(
    "options",
    [
        {"username": "relay", "password": PASSWORD, "starttls": False},  # credentials in clear
        {"sender": "not an address"},
        {"sender": "a@example.test, b@example.test"},
        {"host": ""},
        {"timeout": 0},
    ],
)
def test_unworkable_configuration_is_refused_up_front(options: dict[str, object]) -> None:
    with pytest.raises(ValueError) as caught:
        make(**options)
    assert PASSWORD not in str(caught.value)


def test_credentials_with_implicit_tls_and_no_starttls_are_fine() -> None:
    assert make(username="relay", password=PASSWORD, starttls=False, tls=True).port == 465


# --- Message-ID ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "header"),
    [
        ("mail:42:7", "<mail=3A42=3A7@wagate>"),
        ("abc-123_x+y", "<abc-123_x+y@wagate>"),
        ("a=b", "<a=3Db@wagate>"),
        ("a.b", "<a=2Eb@wagate>"),
        ("pesan é", "<pesan=20=C3=A9@wagate>"),
    ],
)
def test_message_id_is_a_valid_msg_id(key: str, header: str) -> None:
    assert message_id_for(key) == header
    assert ATEXT.fullmatch(header)


def test_distinct_keys_never_share_a_message_id() -> None:
    keys = ["a:b", "a=3Ab", "a.b", "a_b", "a b", "a=b", "a=3Db", "ab", "a::b", "a:.b"]
    assert len({message_id_for(key) for key in keys}) == len(keys)


def test_a_message_id_needs_a_key() -> None:
    with pytest.raises(ValueError):
        message_id_for("")


# --- the composed message ------------------------------------------------------------------


def parse(mail: EmailMessage) -> EmailMessage:
    raw = mail.as_bytes(policy=email.policy.SMTP)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_compose_round_trips_indonesian_text() -> None:
    message = MailMessage(
        to="Siti Aminah <siti@contoh.test>",
        subject="Pemberitahuan — berkas Anda  siap\n",
        body="Terima kasih, Ibu Siti 🙏\n" + "panjang " * 200 + "\n",
        message_id="mail:1",
    )
    mail = make(sender="Layanan Hukum <noreply@example.test>").compose(message)
    raw = mail.as_bytes(policy=email.policy.SMTP)
    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    parsed = parse(mail)
    assert parsed["Subject"] == "Pemberitahuan — berkas Anda siap"
    assert parsed["To"] == "Siti Aminah <siti@contoh.test>"
    assert parsed["From"] == "Layanan Hukum <noreply@example.test>"
    assert parsed["Message-ID"] == "<mail=3A1@wagate>"
    assert parsed["Date"].datetime.utcoffset() is not None
    assert parsed.get_content().replace("\r\n", "\n") == message.body


@pytest.mark.parametrize("to", ["bukan alamat", "a@b.test, c@d.test", "x@y.test\nBcc: z@w.test"])
async def test_a_bad_recipient_is_permanent_before_any_connection(to: str) -> None:
    mailer = make(host="203.0.113.1", timeout=0.01)  # TEST-NET: would time out if dialled
    with pytest.raises(MailDeliveryError) as caught:
        await mailer.send(MailMessage(to=to, subject="s", body=BODY, message_id="k"))
    assert caught.value.permanent
    assert "not a single e-mail address" in str(caught.value)


async def test_an_empty_key_is_permanent() -> None:
    with pytest.raises(MailDeliveryError) as caught:
        await make().send(MailMessage(to="a@b.test", subject="s", body=BODY, message_id=""))
    assert caught.value.permanent


# --- error translation ---------------------------------------------------------------------


def refusal(code: int, text: str = "no") -> aiosmtplib.SMTPRecipientRefused:
    return aiosmtplib.SMTPRecipientRefused(code, text, MAIL.to)


def cert_failure() -> aiosmtplib.SMTPConnectError:
    cause = ssl.SSLCertVerificationError(1, "certificate verify failed")
    cause.verify_message = "certificate has expired"
    error = aiosmtplib.SMTPConnectError("Error connecting: [SSL: CERTIFICATE_VERIFY_FAILED]")
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "permanent", "says"),
    [
        (aiosmtplib.SMTPRecipientsRefused([refusal(550), refusal(553)]), True, "550"),
        (aiosmtplib.SMTPRecipientsRefused([refusal(550), refusal(450)]), False, "450"),
        (aiosmtplib.SMTPSenderRefused(553, "no", "a@b.test"), True, "sender refused: 553"),
        (aiosmtplib.SMTPSenderRefused(451, "later", "a@b.test"), False, "sender refused: 451"),
        (aiosmtplib.SMTPDataError(554, "spam"), True, "message refused: 554"),
        (aiosmtplib.SMTPDataError(452, "full"), False, "message refused: 452"),
        (aiosmtplib.SMTPAuthenticationError(535, "bad"), True, "authentication failed: 535"),
        (aiosmtplib.SMTPAuthenticationError(454, "later"), False, "authentication failed: 454"),
        (aiosmtplib.SMTPHeloError(501, "bad name"), True, "greeting refused: 501"),
        (aiosmtplib.SMTPResponseException(554, "STARTTLS no"), True, "command refused: 554"),
        (aiosmtplib.SMTPConnectResponseError(554, "go away"), False, "server not ready: 554"),
        (aiosmtplib.SMTPServerDisconnected("gone"), False, "connection failed"),
        (aiosmtplib.SMTPConnectError("refused"), False, "connection failed"),
        (aiosmtplib.SMTPConnectTimeoutError("slow"), False, "timed out"),
        (aiosmtplib.SMTPReadTimeoutError("slow"), False, "timed out"),
        (aiosmtplib.SMTPNotSupported("no SMTPUTF8"), True, "not supported"),
        (aiosmtplib.SMTPException("something odd"), False, "SMTPException: something odd"),
        (cert_failure(), False, "TLS certificate not trusted: certificate has expired"),
        (ssl.SSLError(1, "handshake"), False, "TLS failed"),
        (ConnectionResetError(104, "Connection reset by peer"), False, "network error"),
        (TimeoutError(), False, "timed out"),
        (ValueError("Address 'x y' contains characters"), True, "address cannot be sent"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else None,
)
def test_translation(error: BaseException, permanent: bool, says: str) -> None:
    translated = make()._translate(error, MAIL)
    assert isinstance(translated, MailDeliveryError)
    assert translated.permanent is permanent
    assert says in str(translated)
    assert str(translated).startswith("SMTP smtp.example.test:587: ")


def test_translated_text_hides_password_addresses_and_body_words() -> None:
    mailer = make(username="relay", password=PASSWORD)
    reply = (
        f"5.7.1 <{MAIL.to}> blocked (auth {PASSWORD}); quoted: Jadwal konsultasi Anda "
        "dipindah, contact postmaster@example.test"
    )
    text = str(mailer._translate(aiosmtplib.SMTPDataError(554, reply), MAIL))
    assert PASSWORD not in text
    assert MAIL.to not in text and "postmaster@example.test" not in text
    assert "konsultasi" not in text and "dipindah" not in text
    assert "[redacted]" in text and "[address]" in text and "blocked" in text


def test_translated_text_is_one_bounded_line() -> None:
    text = str(make()._translate(aiosmtplib.SMTPDataError(554, "x\r\n" * 500), MAIL))
    assert "\n" not in text and len(text) < 300
