"""Faulty mail servers and networks for the fault tests: a real aiosmtpd server (tests/smtp.py)
whose handler answers slowly or refuses after so many messages on one connection, and a TCP relay
in front of it that hangs up in the middle of a message's DATA."""

import asyncio
import contextlib
import email
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.smtp import HOST, Behaviour, ReceivedMail, RecordingHandler, SmtpServer

SMTP_OK = "250 2.0.0 Ok: queued"


def message_id_of(data: bytes) -> str:
    message = email.message_from_bytes(data, policy=default_policy)
    return str(message["Message-ID"])


@dataclass
class Faults:
    """How the faulty server misbehaves; tests change it while it runs."""

    # Seconds to wait before answering the DATA of a message, by Message-ID, one entry per attempt
    # (the first attempt takes the first entry); messages not listed wait `delay`.
    delays: dict[str, list[float]] = field(default_factory=dict)
    delay: float = 0.0
    # True: the server has stored the message before it is slow to answer (a client that gives up
    # waiting has, in fact, delivered it). False: it stores the message when it answers, so a
    # client that hangs up first has delivered nothing.
    store_before_answering: bool = False
    # After this many accepted messages on one connection, MAIL FROM gets `limit_answer`.
    per_connection_limit: int | None = None
    limit_answer: str = "421 4.7.0 Too many messages on this connection, closing"
    close_at_limit: bool = True


class FaultyHandler(RecordingHandler):
    """Records what it accepts, like tests/smtp.py's handler, and misbehaves as `faults` says."""

    def __init__(self, faults: Faults) -> None:
        super().__init__(Behaviour())
        self.faults = faults
        self.accepted_per_connection: Counter[int] = Counter()
        self.refused_per_connection: Counter[int] = Counter()
        # Sessions stay referenced, so that id(session) names one connection for the whole test.
        self._sessions: list[Session] = []

    def _connection(self, session: Session) -> int:
        if not any(known is session for known in self._sessions):
            self._sessions.append(session)
        return id(session)

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        connection = self._connection(session)
        limit = self.faults.per_connection_limit
        if limit is not None and self.accepted_per_connection[connection] >= limit:
            self.refused_per_connection[connection] += 1
            if self.faults.close_at_limit and server.transport is not None:
                # After the answer is written (close() sends what is buffered first).
                asyncio.get_running_loop().call_soon(server.transport.close)
            return self.faults.limit_answer
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        connection = self._connection(session)
        self.data_commands += 1
        self.connections.add(connection)
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        received = ReceivedMail(envelope.mail_from or "", list(envelope.rcpt_tos), content)
        waits = self.faults.delays.get(message_id_of(content))
        delay = waits.pop(0) if waits else self.faults.delay
        if self.faults.store_before_answering:
            self.messages.append(received)
        # When the client gives up and hangs up, aiosmtpd cancels this coroutine here.
        await asyncio.sleep(delay)
        if not self.faults.store_before_answering:
            self.messages.append(received)
        self.accepted_per_connection[connection] += 1
        return SMTP_OK


@dataclass
class FaultyServer:
    server: SmtpServer
    handler: FaultyHandler

    @property
    def faults(self) -> Faults:
        return self.handler.faults

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def messages(self) -> list[ReceivedMail]:
        return self.handler.messages

    def counts(self) -> Counter[str]:
        return self.server.counts()


@pytest.fixture
async def faulty_server() -> AsyncIterator[FaultyServer]:
    """A started aiosmtpd server with a FaultyHandler (well-behaved until the test says)."""
    server = SmtpServer()
    handler = FaultyHandler(Faults())
    server.handler = handler  # read by start() when it builds the protocol
    await server.start()
    yield FaultyServer(server, handler)
    await server.stop()


class CuttingRelay:
    """A TCP relay in front of an SMTP server that hangs up on both sides in the middle of the
    DATA of chosen messages (numbered 1, 2, ... across all connections), after `cut_after` bytes
    of the message went through: the server never sees the end of the message, so it never
    accepts it, and the client sees the connection drop while it waits for the answer."""

    def __init__(self, upstream_port: int, *, cut: set[int], cut_after: int = 300) -> None:
        self.upstream_port = upstream_port
        self.cut = cut
        self.cut_after = cut_after
        self.port = 0
        self.transactions = 0  # DATA commands seen
        self.cuts: list[int] = []  # the numbers of the transactions cut
        self.connections = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> "CuttingRelay":
        self._server = await asyncio.start_server(self._relay, HOST, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        server_in, server_out = await asyncio.open_connection(HOST, self.upstream_port)
        down = asyncio.create_task(self._pump(server_in, client_out))
        self._tasks.add(down)
        try:
            await self._client_to_server(client_in, server_out, client_out)
        finally:
            down.cancel()
            self._tasks.discard(down)
            for writer in (client_out, server_out):
                writer.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
            writer.close()

    async def _client_to_server(
        self,
        reader: asyncio.StreamReader,
        server_out: asyncio.StreamWriter,
        client_out: asyncio.StreamWriter,
    ) -> None:
        in_data = False
        command = b""
        window = b""  # the last bytes of the message so far, to find its end across chunks
        sent = 0  # bytes of the current message passed on
        cutting = False
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(65536):
                position = 0
                while position < len(chunk):
                    if not in_data:
                        end = chunk.find(b"\n", position)
                        piece = chunk[position:] if end == -1 else chunk[position : end + 1]
                        server_out.write(piece)
                        position += len(piece)
                        command += piece
                        if end != -1:
                            if command.strip().upper() == b"DATA":
                                self.transactions += 1
                                in_data, window, sent = True, b"", 0
                                cutting = self.transactions in self.cut
                            command = b""
                        continue
                    rest = chunk[position:]
                    if cutting and sent + len(rest) >= self.cut_after:
                        server_out.write(rest[: self.cut_after - sent])
                        await server_out.drain()
                        self.cuts.append(self.transactions)
                        # A broken line: no QUIT, no answer, both sides just go away.
                        server_out.transport.abort()
                        client_out.transport.abort()
                        return
                    searched = window + rest
                    found = searched.find(b"\r\n.\r\n")
                    if found == -1:
                        server_out.write(rest)
                        sent += len(rest)
                        window = searched[-4:]
                        position = len(chunk)
                    else:
                        through = found + 5 - len(window)
                        server_out.write(rest[:through])
                        position += through
                        in_data = False
                await server_out.drain()


RelayFactory = Callable[..., Awaitable[CuttingRelay]]


@pytest.fixture
async def cutting_relay() -> AsyncIterator[RelayFactory]:
    """`await cutting_relay(upstream_port, cut={2, 5})`: a started relay, stopped after the test."""
    relays: list[CuttingRelay] = []

    async def start(upstream_port: int, **options: Any) -> CuttingRelay:
        relay = await CuttingRelay(upstream_port, **options).start()
        relays.append(relay)
        return relay

    yield start
    for relay in relays:
        await relay.stop()


class Arrivals:
    """What a server received, by Message-ID, for polling: each message is parsed once (parsing
    them all on every poll would keep the test's event loop, and so the server, too busy)."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        self._parsed = 0
        self._counts: Counter[str] = Counter()

    def counts(self) -> Counter[str]:
        received = self.server.messages
        for mail in received[self._parsed :]:
            self._counts[mail.message_id] += 1
        self._parsed = len(received)
        return Counter(self._counts)
