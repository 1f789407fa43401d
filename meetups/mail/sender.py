"""Talking SMTP: one connection per batch, and what the server's answer means for a message.

A message is *accepted* (the server took responsibility: never send it again), refused for good
(5xx, or nothing any retry could fix), or failed for now (4xx, a dropped connection, a timeout:
try again later). `SmtpConnection.deliver` never raises for a server's answer; it says which.
"""

import ssl
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from types import TracebackType

import aiosmtplib
from aiosmtplib import (
    SMTPException,
    SMTPNotSupported,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPSenderRefused,
)

from meetups.config import Settings, SmtpSecurity
from meetups.mail.compose import envelope_address

CATCHER_HOST = "127.0.0.1"
MAX_REASON_LENGTH = 1000
# "Service not available, closing transmission channel": a 4xx after which the line is dead.
SMTP_CLOSING = 421


@dataclass(frozen=True)
class SmtpTarget:
    """Where mail goes: the configured relay, or the built-in catcher."""

    host: str
    port: int
    security: SmtpSecurity = SmtpSecurity.none
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    ca_file: Path | None = None
    local_hostname: str = "localhost"

    @classmethod
    def from_settings(cls, settings: Settings) -> "SmtpTarget":
        helo = _helo_name(settings.site_domain)
        if settings.mail_catcher:
            return cls(
                host=CATCHER_HOST,
                port=settings.mail_catcher_port,
                timeout=settings.smtp_timeout_seconds,
                local_hostname=helo,
            )
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username or None,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            timeout=settings.smtp_timeout_seconds,
            ca_file=settings.smtp_ca_file,
            local_hostname=helo,
        )

    def describe(self) -> str:
        return f"{self.host}:{self.port} ({self.security.value})"


@dataclass(frozen=True)
class Delivery:
    """What became of one message."""

    accepted: bool
    permanent: bool = False
    reason: str = ""
    # The connection cannot be used for the next message (dropped, timed out, 421, or the sender
    # refused for now: it is the same for every message, so the next one would be refused too).
    connection_lost: bool = False


class ConnectFailed(Exception):
    """The server could not be reached, refused us, or refused to secure or authenticate the
    connection. Always worth another try later (the relay may be down, or being reconfigured)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def envelope_sender(settings: Settings) -> str:
    return envelope_address(parseaddr(settings.mail_from)[1])


class SmtpConnection:
    """`async with SmtpConnection(target) as connection: await connection.deliver(...)`: one
    connection (TLS and login included) for a whole batch, closed politely at the end."""

    def __init__(self, target: SmtpTarget) -> None:
        self.target = target
        self._client: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> "SmtpConnection":
        target = self.target
        client = aiosmtplib.SMTP(
            hostname=target.host,
            port=target.port,
            username=target.username,
            password=target.password,
            local_hostname=target.local_hostname,
            timeout=target.timeout,
            use_tls=target.security == SmtpSecurity.tls,
            # True, not None: a server that does not offer STARTTLS is an error, never a silent
            # fallback to plain text.
            start_tls=target.security == SmtpSecurity.starttls,
            cert_bundle=str(target.ca_file) if target.ca_file else None,
        )
        try:
            await client.connect()
        except (SMTPException, OSError, TimeoutError, ssl.SSLError, ValueError) as error:
            client.close()
            raise ConnectFailed(_connect_reason(target, error)) from error
        self._client = client
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if client.is_connected:
                await client.quit()
        except (SMTPException, OSError, TimeoutError):
            pass  # everything that mattered is recorded already
        finally:
            client.close()

    @property
    def is_connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    async def deliver(self, *, sender: str, recipient: str, raw: str) -> Delivery:
        client = self._client
        if client is None or not client.is_connected:
            return Delivery(
                False, reason="the connection to the mail server was lost", connection_lost=True
            )
        try:
            recipient = envelope_address(recipient)
        except ValueError:
            return Delivery(False, permanent=True, reason=f"not a deliverable address: {recipient}")
        if raw.isascii():
            data, options = raw.encode("ascii"), []
        else:  # an internationalized mailbox name: only servers with SMTPUTF8 take it
            data, options = raw.encode("utf-8"), ["SMTPUTF8"]
        try:
            _refused, response = await client.sendmail(
                sender, [recipient], data, mail_options=options
            )
        except SMTPRecipientsRefused as error:
            refusal = error.recipients[0]
            return _answer(refusal.code, refusal.message, connected=client.is_connected)
        except SMTPSenderRefused as error:
            # "MAIL FROM" refused for now (too many messages on this connection, a rate limit):
            # about the session, not this message. The rest of the batch waits for a new one.
            answer = _answer(error.code, error.message, connected=client.is_connected)
            if not answer.permanent:
                return Delivery(False, reason=answer.reason, connection_lost=True)
            return answer
        except SMTPResponseException as error:
            return _answer(error.code, error.message, connected=client.is_connected)
        except SMTPNotSupported as error:
            return Delivery(
                False,
                permanent=True,
                reason=_shorten(f"the mail server cannot take this message: {error}"),
            )
        except ValueError as error:  # an address aiosmtplib refuses to put on the wire
            return Delivery(False, permanent=True, reason=_shorten(str(error)))
        except (SMTPException, OSError, TimeoutError) as error:
            return Delivery(False, reason=_shorten(_describe(error)), connection_lost=True)
        return Delivery(True, reason=_shorten(response))


def _answer(code: int, message: str, *, connected: bool) -> Delivery:
    reason = _shorten(f"{code} {message}".strip())
    if 400 <= code < 500:
        return Delivery(False, reason=reason, connection_lost=code == SMTP_CLOSING or not connected)
    if 500 <= code < 600:
        return Delivery(False, permanent=True, reason=reason, connection_lost=not connected)
    # Anything else is no valid refusal: the conversation is out of step; reconnect and retry.
    return Delivery(False, reason=reason, connection_lost=True)


def _connect_reason(target: SmtpTarget, error: BaseException) -> str:
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        what = f"the mail server refused the login: {error.code} {error.message}"
    elif isinstance(error, SMTPResponseException):
        what = f"the mail server refused the connection: {error.code} {error.message}"
    else:
        what = _describe(error)
    return _shorten(f"could not connect to {target.describe()}: {what}")


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    if isinstance(error, TimeoutError) and not text:
        return "timed out"
    return text or type(error).__name__


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON_LENGTH else text[: MAX_REASON_LENGTH - 1] + "…"


def _helo_name(domain: str) -> str:
    """EHLO wants our host name, or an address literal for an IP address."""
    if domain.replace(".", "").isdigit():
        return f"[{domain}]"
    if ":" in domain:
        return f"[IPv6:{domain.strip('[]')}]"
    return domain
