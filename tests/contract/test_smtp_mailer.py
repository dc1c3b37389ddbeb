"""SmtpMailer against a real SMTP server (aiosmtpd on loopback): what arrives, how the
connection is secured (plain, STARTTLS, implicit TLS, AUTH), and how every refusal or network
failure becomes a MailDeliveryError that says whether another try can work."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import SecretStr

from wagate.notify.smtp import SmtpMailer
from wagate.pipeline.ports import MailDeliveryError, Mailer, MailMessage
from wagate.settings import Settings

SENDER = "Layanan Hukum <layanan@kantor.test>"
RECIPIENT = "klien@contoh.test"
USERNAME = "relay-user"
PASSWORD = "sandi-rahasia-9f3k"
SUBJECT = "Pemberitahuan: jadwal sidang Anda — mohon dibaca"
BODY = (
    "Halo Ibu Sari,\n"
    "Berkas perkara Anda sudah lengkap; sidang berikutnya hari Senin pukul 09.00.\n"
    "Biaya materai Rp 10.000 — terima kasih atas kesabaran Anda 🙏\n"
)
KEY = "mail:42:7"
FAST = 0.3  # seconds: long enough for loopback, short enough to keep the suite quick

MAIL = MailMessage(to=RECIPIENT, subject=SUBJECT, body=BODY, message_id=KEY)


# --- a self-signed certificate for 127.0.0.1, made per run --------------------------------


@dataclass(frozen=True)
class Certificate:
    certfile: Path
    keyfile: Path
    pem: str

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certfile, self.keyfile)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=self.pem)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wagate test SMTP")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("smtp-tls")
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (folder / "cert.pem").write_bytes(pem)
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(folder / "cert.pem", folder / "key.pem", pem.decode("ascii"))


# --- SMTP servers --------------------------------------------------------------------------


@dataclass
class Received:
    mail_from: str | None
    rcpt_tos: list[str]
    content: bytes
    encrypted: bool
    login: bytes | None

    def parsed(self) -> EmailMessage:
        message = email.message_from_bytes(self.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class Recorder:
    """aiosmtpd handler: keeps what was delivered; `refuse` maps MAIL/RCPT/DATA to a reply
    given instead of accepting; `stall` makes DATA take that long before it answers."""

    refuse: dict[str, str] = field(default_factory=dict)
    stall: float = 0.0
    received: list[Received] = field(default_factory=list)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if "MAIL" in self.refuse:
            return self.refuse["MAIL"]
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if "RCPT" in self.refuse:
            return self.refuse["RCPT"]
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.stall:
            await asyncio.sleep(self.stall)
        if "DATA" in self.refuse:
            return self.refuse["DATA"]
        assert server.transport is not None
        auth = session.auth_data
        self.received.append(
            Received(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                content=bytes(envelope.original_content or b""),
                encrypted=server.transport.get_extra_info("cipher") is not None,
                login=auth.login if isinstance(auth, LoginPassword) else None,
            )
        )
        return "250 2.0.0 queued"


@dataclass
class Authenticator:
    """Accepts USERNAME/PASSWORD; counts attempts, so a test can show none was made."""

    attempts: int = 0

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        self.attempts += 1
        ok = isinstance(data, LoginPassword) and data == (USERNAME.encode(), PASSWORD.encode())
        return AuthResult(success=ok, auth_data=data if ok else None, handled=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))  # port 0: the kernel picks a free port
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def smtp_server(handler: Recorder, **options: Any) -> Iterator[int]:
    """aiosmtpd on 127.0.0.1 in its own thread; yields the port. `options` go to the
    Controller (`ssl_context` for implicit TLS) or on to aiosmtpd's SMTP class."""
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, server_hostname="smtp.test", **options
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@asynccontextmanager
async def silent_server() -> AsyncIterator[int]:
    """Accepts connections and never says a word: no greeting, no reply."""

    async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up and closes
        writer.close()

    server = await asyncio.start_server(hang, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def mailer(port: int, **options: Any) -> SmtpMailer:
    options.setdefault("timeout", 5.0)
    return SmtpMailer(host="127.0.0.1", port=port, sender=SENDER, **options)


async def refused(sender: SmtpMailer, message: MailMessage = MAIL) -> MailDeliveryError:
    with pytest.raises(MailDeliveryError) as caught:
        await sender.send(message)
    error = caught.value
    # Never chained: the library's text is unscrubbed, and tracebacks are logged.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    text = str(error)
    assert PASSWORD not in text and "Berkas perkara" not in text
    return error


# --- delivery ------------------------------------------------------------------------------


async def test_plain_delivery_carries_envelope_headers_and_utf8_body() -> None:
    handler = Recorder()
    with smtp_server(handler) as port:
        sender: Mailer = mailer(port)
        await sender.send(MAIL)

    (got,) = handler.received
    assert got.mail_from == "layanan@kantor.test"
    assert got.rcpt_tos == [RECIPIENT]
    assert not got.encrypted and got.login is None
    parsed = got.parsed()
    assert parsed["From"] == SENDER
    assert parsed["To"] == RECIPIENT
    assert parsed["Subject"] == SUBJECT
    assert parsed["Message-ID"] == "<mail=3A42=3A7@wagate>"
    assert parsed["Date"].datetime.tzinfo is not None
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_content_charset() == "utf-8"
    assert parsed.get_content().replace("\r\n", "\n") == BODY
    assert got.content.isascii()  # 7-bit clean on the wire, whatever the server supports


async def test_the_same_key_gives_the_same_message_id_on_a_resend() -> None:
    handler = Recorder()
    with smtp_server(handler) as port:
        await mailer(port).send(MAIL)
        await mailer(port).send(MAIL)
    first, second = (got.parsed()["Message-ID"] for got in handler.received)
    assert first == second


async def test_a_subject_with_line_breaks_cannot_inject_headers() -> None:
    handler = Recorder()
    with smtp_server(handler) as port:
        await mailer(port).send(
            MailMessage(to=RECIPIENT, subject="Halo\r\nBcc: x@y.test", body="isi", message_id="k")
        )
    parsed = handler.received[0].parsed()
    assert parsed["Subject"] == "Halo Bcc: x@y.test"
    assert parsed["Bcc"] is None


# --- connection security -------------------------------------------------------------------


async def test_starttls_required_by_the_server(certificate: Certificate) -> None:
    handler = Recorder()
    tls = certificate.server_context()
    with smtp_server(handler, tls_context=tls, require_starttls=True) as port:
        await mailer(port, tls_context=certificate.client_context()).send(MAIL)
    (got,) = handler.received
    assert got.encrypted
    assert "Berkas perkara Anda sudah lengkap" in got.parsed().get_content()


async def test_starttls_is_used_whenever_offered(certificate: Certificate) -> None:
    handler = Recorder()
    with smtp_server(handler, tls_context=certificate.server_context()) as port:
        await mailer(port, tls_context=certificate.client_context()).send(MAIL)
    assert handler.received[0].encrypted


async def test_starttls_turned_off_stays_plain(certificate: Certificate) -> None:
    handler = Recorder()
    with smtp_server(handler, tls_context=certificate.server_context()) as port:
        await mailer(port, starttls=False).send(MAIL)
    assert not handler.received[0].encrypted


async def test_without_credentials_a_server_without_starttls_gets_plain_mail() -> None:
    handler = Recorder()
    with smtp_server(handler) as port:
        await mailer(port, starttls=True).send(MAIL)
    assert len(handler.received) == 1 and not handler.received[0].encrypted


async def test_implicit_tls(certificate: Certificate) -> None:
    handler = Recorder()
    with smtp_server(handler, ssl_context=certificate.server_context()) as port:
        await mailer(port, tls=True, tls_context=certificate.client_context()).send(MAIL)
    (got,) = handler.received
    assert got.encrypted
    assert got.parsed()["Subject"] == SUBJECT


async def test_an_untrusted_certificate_is_a_transient_tls_error(
    certificate: Certificate,
) -> None:
    handler = Recorder()
    with smtp_server(handler, tls_context=certificate.server_context()) as port:
        error = await refused(mailer(port))  # the system's trust store: self-signed fails
    assert not error.permanent
    assert "TLS certificate not trusted: self-signed certificate" in str(error)
    assert handler.received == []  # never a quiet fallback to plain


async def test_implicit_tls_with_an_untrusted_certificate(certificate: Certificate) -> None:
    handler = Recorder()
    with smtp_server(handler, ssl_context=certificate.server_context()) as port:
        error = await refused(mailer(port, tls=True))
    assert not error.permanent
    assert "TLS certificate not trusted" in str(error)
    assert handler.received == []


# --- authentication ------------------------------------------------------------------------


async def test_auth_over_starttls(certificate: Certificate) -> None:
    handler, auth = Recorder(), Authenticator()
    tls = certificate.server_context()
    with smtp_server(
        handler, tls_context=tls, authenticator=auth, auth_required=True, auth_require_tls=True
    ) as port:
        await mailer(
            port, username=USERNAME, password=PASSWORD, tls_context=certificate.client_context()
        ).send(MAIL)
    (got,) = handler.received
    assert got.encrypted and got.login == USERNAME.encode()


async def test_auth_over_implicit_tls(certificate: Certificate) -> None:
    handler, auth = Recorder(), Authenticator()
    # aiosmtpd only counts STARTTLS as TLS for `auth_require_tls`; the socket here is TLS.
    with smtp_server(
        handler,
        ssl_context=certificate.server_context(),
        authenticator=auth,
        auth_require_tls=False,
    ) as port:
        await mailer(
            port,
            tls=True,
            username=USERNAME,
            password=PASSWORD,
            tls_context=certificate.client_context(),
        ).send(MAIL)
    (got,) = handler.received
    assert got.encrypted and got.login == USERNAME.encode()


async def test_from_settings_authenticates_with_the_secret(certificate: Certificate) -> None:
    handler, auth = Recorder(), Authenticator()
    with smtp_server(handler, tls_context=certificate.server_context(), authenticator=auth) as port:
        settings = Settings(
            _env_file=None,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_from=SENDER,
            smtp_username=USERNAME,
            smtp_password=SecretStr(PASSWORD),
            smtp_starttls=True,
            smtp_tls=False,
            smtp_timeout_seconds=5.0,
        )
        sender = SmtpMailer.from_settings(settings, tls_context=certificate.client_context())
        assert sender is not None
        await sender.send(MAIL)
    (got,) = handler.received
    assert got.encrypted and got.login == USERNAME.encode()


async def test_wrong_password_is_permanent(certificate: Certificate) -> None:
    handler, auth = Recorder(), Authenticator()
    wrong = "sandi-salah-0000"
    with smtp_server(
        handler, tls_context=certificate.server_context(), authenticator=auth, auth_required=True
    ) as port:
        error = await refused(
            mailer(
                port, username=USERNAME, password=wrong, tls_context=certificate.client_context()
            )
        )
    assert error.permanent
    assert "authentication failed: 535" in str(error)
    assert wrong not in str(error)
    assert auth.attempts >= 1 and handler.received == []


async def test_credentials_are_never_sent_without_starttls() -> None:
    handler, auth = Recorder(), Authenticator()
    # This server would take AUTH in the clear; the mailer must not offer it.
    with smtp_server(handler, authenticator=auth, auth_require_tls=False) as port:
        error = await refused(mailer(port, username=USERNAME, password=PASSWORD))
    assert error.permanent
    assert "STARTTLS" in str(error)
    assert auth.attempts == 0 and handler.received == []


async def test_a_server_without_a_usable_auth_mechanism_is_permanent(
    certificate: Certificate,
) -> None:
    handler = Recorder()
    with smtp_server(
        handler,
        tls_context=certificate.server_context(),
        auth_exclude_mechanism=["LOGIN", "PLAIN"],
    ) as port:
        error = await refused(
            mailer(
                port,
                username=USERNAME,
                password=PASSWORD,
                tls_context=certificate.client_context(),
            )
        )
    assert error.permanent and "AUTH" in str(error)


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "reply", "permanent", "says"),
    [
        ("RCPT", "550 5.1.1 mailbox unavailable", True, "recipient refused: 550"),
        ("RCPT", "451 4.7.1 greylisted, try again later", False, "recipient refused: 451"),
        ("RCPT", "421 4.3.0 shutting down", False, "recipient refused: 421"),
        ("MAIL", "553 5.7.1 sender not allowed", True, "sender refused: 553"),
        ("MAIL", "452 4.3.1 insufficient storage", False, "sender refused: 452"),
        ("DATA", "554 5.6.0 message refused", True, "message refused: 554"),
        ("DATA", "451 4.3.0 local error", False, "message refused: 451"),
    ],
)
async def test_refusals_map_to_permanent_or_transient(
    stage: str, reply: str, permanent: bool, says: str
) -> None:
    handler = Recorder(refuse={stage: reply})
    with smtp_server(handler) as port:
        error = await refused(mailer(port))
    assert error.permanent is permanent
    assert says in str(error)


async def test_server_replies_quoting_the_mail_are_scrubbed() -> None:
    quoted = "550 5.7.1 <klien@contoh.test>: spam: Berkas perkara Anda sudah lengkap; sidang"
    handler = Recorder(refuse={"RCPT": quoted})
    with smtp_server(handler) as port:
        error = await refused(mailer(port))
    assert error.permanent
    assert RECIPIENT not in str(error) and "[address]" in str(error)
    assert str(error).endswith("spam: …")


# --- the network ---------------------------------------------------------------------------


async def test_nothing_listening_is_transient(closed_port: int) -> None:
    error = await refused(mailer(closed_port))
    assert not error.permanent
    assert "connection failed" in str(error)


async def test_a_server_that_never_greets_times_out_transiently() -> None:
    async with silent_server() as port:
        started = time.monotonic()
        error = await refused(mailer(port, timeout=FAST))
    assert not error.permanent
    assert "timed out" in str(error)
    assert time.monotonic() - started < 3


async def test_a_server_that_stalls_after_data_times_out_transiently() -> None:
    handler = Recorder(stall=5.0)
    with smtp_server(handler) as port:
        started = time.monotonic()
        error = await refused(mailer(port, timeout=FAST))
        assert time.monotonic() - started < 3
    assert not error.permanent
    assert "timed out" in str(error)
