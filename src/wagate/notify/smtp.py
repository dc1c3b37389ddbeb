"""`Mailer` over SMTP (aiosmtplib): one connection per mail, errors mapped to MailDeliveryError.

Transport security: implicit TLS when `tls`; otherwise STARTTLS whenever the server offers it
(unless `starttls` is turned off), plain only when it does not. Credentials never travel over
a plain connection: with a username set, a server that offers no STARTTLS is a permanent
error, and a username without TLS or STARTTLS is refused when the mailer is built. Without
credentials the upgrade is opportunistic, because a relay that only listens in plain on a
private network is a common and legitimate set-up; an offered STARTTLS that then fails (an
untrusted certificate) is an error, never a quiet fallback to plain.
"""

from __future__ import annotations

import contextlib
import email.utils
import re
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING

import aiosmtplib

from wagate.pipeline.ports import MailDeliveryError, MailMessage

if TYPE_CHECKING:
    from wagate.settings import Settings

SMTPS_PORT = 465
SUBMISSION_PORT = 587
SMTP_PORT = 25
MESSAGE_ID_DOMAIN = "wagate"

# Characters kept as they are in the left part of a Message-ID; everything else (":" in our
# keys, and "=" itself) is escaped as "=XX" per UTF-8 byte, so two keys never share an id.
_ID_SAFE = re.compile(r"[A-Za-z0-9_+\-]")
_REPLY_LIMIT = 200
_WORD = re.compile(r"\w+")
_ADDRESS = re.compile(r"[^\s<>\"'(),;:\[\]]+@[^\s<>\"'(),;:\[\]]+")
_HIDDEN_RUN = re.compile(r"…(?:\W*…)+")
# Shorter body words ("di", "ke", digits of a code) carry nothing worth hiding.
_MIN_HIDDEN_WORD = 3


def default_port(*, tls: bool, starttls: bool) -> int:
    if tls:
        return SMTPS_PORT
    return SUBMISSION_PORT if starttls else SMTP_PORT


def _single_address(value: str) -> str | None:
    """The one addr-spec in a header value, or None: a list of addresses would put more
    recipients in the header than in the envelope."""
    found = email.utils.getaddresses([value])
    if len(found) != 1 or "@" not in found[0][1]:
        return None
    return found[0][1]


def message_id_for(key: str) -> str:
    """The Message-ID header for an idempotency key: the same key always gives the same id,
    so a mail sent twice after a lost answer can be recognised by the receiving side."""
    if not key:
        raise ValueError("a mail needs an idempotency key for its Message-ID")
    left = "".join(
        char if _ID_SAFE.fullmatch(char) else "".join(f"={byte:02X}" for byte in char.encode())
        for char in key
    )
    return f"<{left}@{MESSAGE_ID_DOMAIN}>"


class SmtpMailer:
    """Sends each mail over its own connection: fallback mail is rare, and a fresh connection
    needs no keep-alive, reconnect or locking logic."""

    def __init__(
        self,
        *,
        host: str,
        sender: str,
        port: int | None = None,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        tls: bool = False,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        """`tls_context` None means the system's verified defaults; tests pass a context that
        trusts their self-signed certificate. `starttls` is ignored when `tls` is set."""
        if not host:
            raise ValueError("SMTP host is empty")
        envelope_sender = _single_address(sender)
        if envelope_sender is None:
            raise ValueError("SMTP sender is not a single e-mail address")
        if username and not (tls or starttls):
            raise ValueError(
                "SMTP credentials need an encrypted connection: enable STARTTLS or implicit TLS"
            )
        if timeout <= 0:
            raise ValueError("SMTP timeout must be positive")
        self._host = host
        self._port = port if port is not None else default_port(tls=tls, starttls=starttls)
        self._sender = sender
        self._envelope_sender = envelope_sender
        self._username = username or None
        self._password = password or ""
        self._starttls = starttls and not tls
        self._tls = tls
        self._timeout = timeout
        self._tls_context = tls_context

    @classmethod
    def from_settings(
        cls, settings: Settings, *, tls_context: ssl.SSLContext | None = None
    ) -> SmtpMailer | None:
        """None when SMTP is not configured: the fallback is optional."""
        if not settings.smtp_configured or not settings.smtp_host or not settings.smtp_from:
            return None
        password = settings.smtp_password
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            username=settings.smtp_username,
            password=password.get_secret_value() if password is not None else None,
            starttls=settings.smtp_starttls,
            tls=settings.smtp_tls,
            timeout=settings.smtp_timeout_seconds,
            tls_context=tls_context,
        )

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        return self._port

    @property
    def sender(self) -> str:
        return self._sender

    def __repr__(self) -> str:
        mode = "tls" if self._tls else "starttls" if self._starttls else "plain"
        return f"SmtpMailer(host={self._host!r}, port={self._port}, mode={mode})"

    def compose(self, message: MailMessage) -> EmailMessage:
        """The RFC 5322 message; ValueError when `to` or the key cannot make valid headers."""
        mail = EmailMessage()
        mail["From"] = self._sender
        mail["To"] = message.to
        # A line break in a configured subject would otherwise be a header-injection error.
        mail["Subject"] = " ".join(message.subject.split())
        mail["Date"] = email.utils.format_datetime(datetime.now(UTC))
        mail["Message-ID"] = message_id_for(message.message_id)
        # RFC 3834: out-of-office responders must not answer a machine-sent mail.
        mail["Auto-Submitted"] = "auto-generated"
        # Quoted-printable is 7-bit clean on any server (8BITMIME or not) and keeps mostly
        # ASCII Indonesian text readable in the raw message.
        mail.set_content(message.body, subtype="plain", charset="utf-8", cte="quoted-printable")
        return mail

    async def send(self, message: MailMessage) -> None:
        recipient = _single_address(message.to)
        if recipient is None:
            raise MailDeliveryError(
                f"{self._where}: the recipient is not a single e-mail address", permanent=True
            )
        try:
            mail = self.compose(message)
        except ValueError:
            raise MailDeliveryError(
                f"{self._where}: the recipient address or message id makes an invalid header",
                permanent=True,
            ) from None

        client = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            timeout=self._timeout,
            use_tls=self._tls,
            # None lets aiosmtplib upgrade exactly when the server offers STARTTLS; whether
            # that happened is checked below before any credentials are sent.
            start_tls=None if self._starttls else False,
            tls_context=self._tls_context,
        )
        try:
            try:
                await client.connect()
                if self._username is not None:
                    await self._login(client, self._username)
                await client.send_message(
                    mail, sender=self._envelope_sender, recipients=[recipient]
                )
            except MailDeliveryError:
                raise
            except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
                # The original is not chained: its text is the server's or the library's,
                # unscrubbed, and tracebacks end up in the logs.
                raise self._translate(exc, message) from None
            # The mail is accepted at this point; a failed goodbye must not make it a failure.
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
        finally:
            client.close()

    async def _login(self, client: aiosmtplib.SMTP, username: str) -> None:
        if client.get_transport_info("sslcontext") is None:
            raise MailDeliveryError(
                f"{self._where}: the server does not offer STARTTLS; refusing to send the "
                "SMTP credentials over an unencrypted connection",
                permanent=True,
            )
        if client.is_ehlo_or_helo_needed:
            await client.ehlo()
        # Checked here because aiosmtplib reports it as a bare SMTPException, which would read
        # as transient; no retry makes a server offer a mechanism it does not have.
        if not client.supported_auth_methods:
            raise MailDeliveryError(
                f"{self._where}: the server offers no SMTP AUTH mechanism we support "
                f"({', '.join(client.server_auth_methods) or 'none'})",
                permanent=True,
            )
        await client.login(username, self._password)

    @property
    def _where(self) -> str:
        return f"SMTP {self._host}:{self._port}"

    def _translate(self, exc: BaseException, message: MailMessage) -> MailDeliveryError:
        """Permanent only when the server has said no to this mail or to our credentials with
        a 5xx; anything about reaching the server is worth another try later."""

        def fail(what: str, *, permanent: bool) -> MailDeliveryError:
            return MailDeliveryError(f"{self._where}: {what}", permanent=permanent)

        def reply(code: int, text: str) -> str:
            return f"{code} {self._scrub(text, message)}".rstrip()

        # aiosmtplib wraps a failed implicit-TLS handshake; the TLS reason is the useful part.
        if isinstance(exc, aiosmtplib.SMTPConnectError) and isinstance(exc.__cause__, ssl.SSLError):
            exc = exc.__cause__

        match exc:
            case aiosmtplib.SMTPRecipientsRefused(recipients=refusals):
                codes = [refusal.code for refusal in refusals]
                replies = "; ".join(reply(r.code, r.message) for r in refusals)
                permanent = bool(codes) and all(500 <= code < 600 for code in codes)
                return fail(f"recipient refused: {replies}", permanent=permanent)
            case aiosmtplib.SMTPConnectResponseError(code=code, message=text):
                # A greeting that is not 220 is about the server (busy, or our IP listed),
                # not about this mail.
                return fail(f"server not ready: {reply(code, text)}", permanent=False)
            case aiosmtplib.SMTPResponseException(code=code, message=text):
                what = {
                    aiosmtplib.SMTPAuthenticationError: "authentication failed",
                    aiosmtplib.SMTPSenderRefused: "sender refused",
                    aiosmtplib.SMTPRecipientRefused: "recipient refused",
                    aiosmtplib.SMTPDataError: "message refused",
                    aiosmtplib.SMTPHeloError: "greeting refused",
                }.get(type(exc), "command refused")
                return fail(f"{what}: {reply(code, text)}", permanent=500 <= code < 600)
            case aiosmtplib.SMTPTimeoutError():
                return fail(f"timed out after {self._timeout:g} s", permanent=False)
            case aiosmtplib.SMTPServerDisconnected() | aiosmtplib.SMTPConnectError():
                detail = self._scrub(str(exc), message)
                return fail(f"connection failed: {detail}", permanent=False)
            case aiosmtplib.SMTPNotSupported():
                # E.g. a non-ASCII address and a server without SMTPUTF8: no retry fixes it.
                return fail(f"not supported: {self._scrub(str(exc), message)}", permanent=True)
            case TimeoutError():
                return fail(f"timed out after {self._timeout:g} s", permanent=False)
            case ssl.SSLCertVerificationError():
                # Transient: the message is not at fault, and the certificate may be renewed
                # or the trust store fixed before the last attempt.
                why = getattr(exc, "verify_message", None) or "verification failed"
                return fail(f"TLS certificate not trusted: {why}", permanent=False)
            case ssl.SSLError():
                # `reason` is only set on errors raised by OpenSSL itself.
                why = getattr(exc, "reason", None) or type(exc).__name__
                return fail(f"TLS failed: {why}", permanent=False)
            case OSError():
                return fail(f"network error: {exc.strerror or type(exc).__name__}", permanent=False)
            case ValueError():
                # aiosmtplib validates addresses before it sends them.
                return fail("an address cannot be sent over SMTP", permanent=True)
            case _:
                # Unknown library errors: another try may work, and the dead letters show
                # the message to a person after the last one.
                detail = self._scrub(str(exc), message)
                return fail(f"{type(exc).__name__}: {detail}", permanent=False)

    def _scrub(self, text: str, message: MailMessage) -> str:
        """A server reply or library message made safe for logs: one line, bounded, without
        the password, any address, or words of the body. Servers do quote addresses, and spam
        filters sometimes quote a piece of the text, so body words are hidden one by one; an
        English reply word that happens to be in the body is hidden too, which costs little."""
        text = " ".join(text.split())
        # Control characters as stand-ins: no word character, so hiding body words below
        # cannot take the markers apart.
        if self._password:
            text = text.replace(self._password, "\x00")
        text = _ADDRESS.sub("\x01", text)
        body_words = {
            word.casefold() for word in _WORD.findall(message.body) if len(word) >= _MIN_HIDDEN_WORD
        }
        text = _WORD.sub(lambda word: "…" if word[0].casefold() in body_words else word[0], text)
        text = _HIDDEN_RUN.sub("…", text)
        text = text.replace("\x00", "[redacted]").replace("\x01", "[address]")
        if len(text) > _REPLY_LIMIT:
            text = text[: _REPLY_LIMIT - 1] + "…"
        return text
