"""The mail machinery that the tests of every area share: a real SMTP server (aiosmtpd) in the
test process, on a free localhost port, that records what it receives and can misbehave on purpose
(451 for the first messages, 550 for recipients, a dropped connection, STARTTLS with a self-signed
certificate, implicit TLS, AUTH); settings and a mail worker that deliver to it; outbox rows queued
directly; and a clock the test moves by hand. tests/conftest.py makes its fixtures available to
every area."""

import asyncio
import contextlib
import datetime as dt
import email
import ipaddress
import ssl
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlmodel import select

from meetups.config import Settings, SmtpSecurity
from meetups.db import Database
from meetups.mail.models import OutboxMessage
from meetups.mail.outbox import queue_email
from meetups.mail.scheduler import registered_hooks
from meetups.mail.worker import DeliveryReport, MailWorker
from tests.network import HOST

USERNAME = "meetups"
PASSWORD = "s3cret-relay-password"


@dataclass
class ReceivedMail:
    mail_from: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, _class=EmailMessage, policy=default_policy)  # type: ignore[return-value]

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class Behaviour:
    """How the server answers; tests change it while it runs."""

    temporary_failures: int = 0  # answer 451 to the DATA of the next N messages
    # The answer to RCPT for every recipient ("550 5.1.1 User unknown"), or by address.
    refuse_recipients: str | dict[str, str] | None = None
    refuse_data: str | None = None  # e.g. "554 5.7.1 Spam" after DATA
    drop_at_message: int | None = None  # close the connection instead of answering message N
    delay: float = 0.0  # seconds before answering DATA
    on_message: Callable[[ReceivedMail], None] | None = None


class RecordingHandler:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.messages: list[ReceivedMail] = []
        self.data_commands = 0
        self.connections: set[int] = set()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refuse = self.behaviour.refuse_recipients
        if isinstance(refuse, dict):
            refuse = refuse.get(address)
        if refuse:
            return refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_commands += 1
        self.connections.add(id(session))
        behaviour = self.behaviour
        if behaviour.delay:
            await asyncio.sleep(behaviour.delay)
        if behaviour.drop_at_message == self.data_commands:
            assert server.transport is not None
            server.transport.close()
            return "421 4.4.2 Gone"  # never reaches the client: the line is closed
        if behaviour.temporary_failures > 0:
            behaviour.temporary_failures -= 1
            return "451 4.3.0 Temporary local problem, please try again"
        if behaviour.refuse_data:
            return behaviour.refuse_data
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        received = ReceivedMail(envelope.mail_from or "", list(envelope.rcpt_tos), content)
        self.messages.append(received)
        if behaviour.on_message:
            behaviour.on_message(received)
        return "250 2.0.0 Ok: queued"


class SmtpServer:
    def __init__(
        self,
        *,
        port: int = 0,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
        require_auth: bool = False,
    ) -> None:
        self.host = HOST
        self.port = port
        self.behaviour = Behaviour()
        self.handler = RecordingHandler(self.behaviour)
        self._starttls = starttls
        self._implicit_tls = implicit_tls
        self._require_auth = require_auth
        self._server: asyncio.Server | None = None
        self.logins: list[str] = []

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == USERNAME
            and data.password.decode() == PASSWORD
        )
        if ok:
            self.logins.append(USERNAME)
        return AuthResult(success=ok, handled=False)

    async def start(self) -> "SmtpServer":
        loop = asyncio.get_running_loop()

        def protocol() -> SMTP:
            with warnings.catch_warnings():
                # With implicit TLS the whole connection is encrypted, so AUTH need not wait for
                # STARTTLS; aiosmtpd cannot tell and warns.
                warnings.simplefilter("ignore", UserWarning)
                return SMTP(
                    self.handler,
                    hostname="localhost",
                    loop=loop,
                    tls_context=self._starttls,
                    require_starttls=self._starttls is not None,
                    authenticator=self._authenticate if self._require_auth else None,
                    auth_required=self._require_auth,
                    auth_require_tls=self._implicit_tls is None,
                )

        self._server = await loop.create_server(
            protocol, host=HOST, port=self.port, ssl=self._implicit_tls
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    @property
    def messages(self) -> list[ReceivedMail]:
        return self.handler.messages

    def message_ids(self) -> list[str]:
        return [mail.message_id for mail in self.messages]

    def counts(self) -> Counter[str]:
        return Counter(self.message_ids())


@dataclass
class Certificates:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A throwaway certificate authority and a server certificate for localhost / 127.0.0.1."""
    directory = tmp_path_factory.mktemp("tls")
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "meetups test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    files = Certificates(
        directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    )
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files


ServerFactory = Callable[..., Awaitable[SmtpServer]]


@pytest.fixture
async def smtp_servers() -> AsyncIterator[ServerFactory]:
    """`await smtp_servers(starttls=..., implicit_tls=..., require_auth=..., port=...)`: started
    servers, stopped after the test."""
    started: list[SmtpServer] = []

    async def start(**options: Any) -> SmtpServer:
        server = await SmtpServer(**options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


@pytest.fixture
async def smtp_server(smtp_servers: ServerFactory) -> SmtpServer:
    return await smtp_servers()


def relay_settings(
    settings: Settings, server: SmtpServer | None = None, **changes: Any
) -> Settings:
    """The test settings, sending to `server` over plain SMTP without a rate limit."""
    values: dict[str, Any] = {
        "smtp_host": HOST,
        "smtp_security": SmtpSecurity.none,
        "smtp_max_per_minute": 0,
        "mail_from": "Meetups Team <team@meetups.example>",
        "smtp_timeout_seconds": 5.0,
    }
    if server is not None:
        values["smtp_port"] = server.port
    values.update(changes)
    return changed(settings, **values)


def changed(settings: Settings, **changes: Any) -> Settings:
    """New settings with some values changed (validated like the real ones)."""
    return Settings(_env_file=None, **{**settings.model_dump(), **changes})  # type: ignore[call-arg]


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpServer) -> Settings:
    """The test's settings, sending to the test's SMTP server."""
    return relay_settings(settings, smtp_server)


def make_worker(database: Database, settings: Settings, **options: Any) -> MailWorker:
    return MailWorker(
        database=database, settings=settings, hooks=options.pop("hooks", []), **options
    )


Deliver = Callable[..., Awaitable[DeliveryReport]]


@pytest.fixture
def deliver(database: Database, settings: Settings, smtp_server: SmtpServer) -> Deliver:
    """`await deliver()`: one round of the mail worker, as `meetups worker --once` runs it, to the
    test's SMTP server; the scheduler hooks run first only with `deliver(hooks=True)`.
    `deliver(other_settings)` runs it with other settings (still sending to the test's server);
    further keywords go to the MailWorker (a clock, say)."""

    async def run(
        with_settings: Settings | None = None, *, hooks: bool = False, **options: Any
    ) -> DeliveryReport:
        worker = make_worker(
            database,
            relay_settings(with_settings or settings, smtp_server),
            hooks=registered_hooks() if hooks else [],
            **options,
        )
        return await worker.run_once()

    return run


async def queue_messages(
    database: Database, settings: Settings, count: int = 1, **fields: Any
) -> list[OutboxMessage]:
    """`count` committed outbox rows, to anna+N@example.com."""
    rows = []
    async with database.session(write=True) as session:
        for number in range(count):
            values: dict[str, Any] = {
                "to": f"anna+{number}@example.com",
                "to_name": "Anna Müller",
                "subject": f"Einladung {number}",
                "text": f"Hallo Anna, Nachricht {number}.",
                "html": f"<p>Hallo Anna, Nachricht {number}.</p>",
                "kind": "invitation",
                **fields,
            }
            rows.append(queue_email(session=session, settings=settings, **values))
        await session.commit()
    return rows


async def outbox(database: Database) -> list[OutboxMessage]:
    async with database.session() as session:
        return list((await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all())  # type: ignore[arg-type]


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)
