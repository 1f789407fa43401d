"""Delivery through a real SMTP server: accepted, retried, refused, secured, rate limited."""

import asyncio
import random
import time
from datetime import timedelta

import aiosmtplib
import pytest
from sqlalchemy import update

from meetups.config import Settings, SmtpSecurity
from meetups.db import Database
from meetups.mail.models import OutboxMessage, OutboxStatus
from meetups.mail.worker import FIRST_RETRY, GIVE_UP_AFTER, LONGEST_RETRY, retry_delay
from tests.network import free_port
from tests.smtp import (
    PASSWORD,
    USERNAME,
    Certificates,
    Clock,
    ServerFactory,
    SmtpServer,
    changed,
    make_worker,
    outbox,
    queue_messages,
    relay_settings,
)

REFUSAL = "550 5.1.1 <anna+1@example.com>: Recipient address rejected: User unknown"


async def test_delivers_each_message_once_over_one_connection(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    rows = await queue_messages(database, mail_settings, 3)

    report = await make_worker(database, mail_settings).run_once()

    assert (report.sent, report.retrying, report.failed) == (3, 0, 0)
    assert len(smtp_server.handler.connections) == 1
    by_id = {mail.message_id: mail for mail in smtp_server.messages}
    for row in rows:
        mail = by_id[row.message_id]
        assert mail.data == row.raw.encode()  # exactly what was rendered when it was queued
        assert mail.mail_from == "team@meetups.example"
        assert mail.recipients == [row.recipient]
    for stored in await outbox(database):
        assert stored.status == OutboxStatus.sent
        assert stored.attempts == 1
        assert stored.sent_at is not None
        assert stored.lease_until is None
        assert stored.lease_owner is None
        assert stored.last_error is None

    again = await make_worker(database, mail_settings).run_once()
    assert again.sent == 0
    assert len(smtp_server.messages) == 3


async def test_nothing_due_means_no_connection(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    report = await make_worker(database, mail_settings).run_once()
    assert report.claimed == 0
    assert smtp_server.handler.connections == set()


async def test_starttls_and_login(
    database: Database, settings: Settings, smtp_servers: ServerFactory, certificates: Certificates
) -> None:
    server = await smtp_servers(starttls=certificates.server_context(), require_auth=True)
    secure = relay_settings(
        settings,
        server,
        smtp_security=SmtpSecurity.starttls,
        smtp_ca_file=certificates.ca_file,
        smtp_username=USERNAME,
        smtp_password=PASSWORD,
    )
    (row,) = await queue_messages(database, secure)

    report = await make_worker(database, secure).run_once()

    assert report.sent == 1
    assert server.message_ids() == [row.message_id]
    assert server.logins == [USERNAME]


async def test_wrong_password_is_retried_later_with_the_servers_reason(
    database: Database, settings: Settings, smtp_servers: ServerFactory, certificates: Certificates
) -> None:
    server = await smtp_servers(starttls=certificates.server_context(), require_auth=True)
    secure = relay_settings(
        settings,
        server,
        smtp_security=SmtpSecurity.starttls,
        smtp_ca_file=certificates.ca_file,
        smtp_username=USERNAME,
        smtp_password="wrong",
    )
    await queue_messages(database, secure)

    report = await make_worker(database, secure).run_once()

    assert report.connection_failed
    assert report.retrying == 1
    assert server.messages == []
    (stored,) = await outbox(database)
    assert stored.status == OutboxStatus.queued
    assert "refused the login" in stored.last_error
    assert "535" in stored.last_error


async def test_an_untrusted_certificate_stops_delivery(
    database: Database, settings: Settings, smtp_servers: ServerFactory, certificates: Certificates
) -> None:
    server = await smtp_servers(starttls=certificates.server_context())
    secure = relay_settings(settings, server, smtp_security=SmtpSecurity.starttls)  # no CA file
    await queue_messages(database, secure)

    await make_worker(database, secure).run_once()

    assert server.messages == []
    (stored,) = await outbox(database)
    assert stored.status == OutboxStatus.queued
    assert "certificate" in stored.last_error.lower()


async def test_starttls_is_never_silently_skipped(
    database: Database, settings: Settings, smtp_server: SmtpServer
) -> None:
    """The server offers no STARTTLS: with security=starttls nothing goes out in plain text."""
    secure = relay_settings(settings, smtp_server, smtp_security=SmtpSecurity.starttls)
    await queue_messages(database, secure)

    await make_worker(database, secure).run_once()

    assert smtp_server.messages == []
    (stored,) = await outbox(database)
    assert stored.status == OutboxStatus.queued
    assert "starttls" in stored.last_error.lower()


async def test_implicit_tls_with_login(
    database: Database, settings: Settings, smtp_servers: ServerFactory, certificates: Certificates
) -> None:
    server = await smtp_servers(implicit_tls=certificates.server_context(), require_auth=True)
    secure = relay_settings(
        settings,
        server,
        smtp_security=SmtpSecurity.tls,
        smtp_ca_file=certificates.ca_file,
        smtp_username=USERNAME,
        smtp_password=PASSWORD,
    )
    (row,) = await queue_messages(database, secure)

    report = await make_worker(database, secure).run_once()

    assert report.sent == 1
    assert server.message_ids() == [row.message_id]
    assert server.logins == [USERNAME]


async def test_server_down_then_up_delivers(
    database: Database, settings: Settings, smtp_servers: ServerFactory
) -> None:
    port = free_port()
    down = relay_settings(settings, smtp_port=port)
    rows = await queue_messages(database, down, 2)
    clock = Clock()

    report = await make_worker(database, down, clock=clock).run_once()

    assert report.connection_failed
    assert report.retrying == 2
    for stored in await outbox(database):
        assert stored.status == OutboxStatus.queued
        assert stored.attempts == 1
        assert "could not connect" in stored.last_error
        assert (
            clock.now + 0.75 * FIRST_RETRY
            <= stored.next_attempt_at
            <= clock.now + 1.25 * FIRST_RETRY
        )
    assert (await make_worker(database, down, clock=clock).run_once()).claimed == 0  # not due yet

    server = await smtp_servers(port=port)
    clock.advance(minutes=2)
    report = await make_worker(database, down, clock=clock).run_once()

    assert report.sent == 2
    assert sorted(server.message_ids()) == sorted(row.message_id for row in rows)
    assert [stored.attempts for stored in await outbox(database)] == [2, 2]


async def test_temporary_refusal_then_success_delivers_exactly_once(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    (row,) = await queue_messages(database, mail_settings)
    smtp_server.behaviour.temporary_failures = 1
    clock = Clock()

    first = await make_worker(database, mail_settings, clock=clock).run_once()

    assert (first.sent, first.retrying) == (0, 1)
    assert smtp_server.messages == []
    (stored,) = await outbox(database)
    assert stored.status == OutboxStatus.queued
    assert stored.last_error.startswith("451 ")

    clock.advance(minutes=5)
    second = await make_worker(database, mail_settings, clock=clock).run_once()
    clock.advance(hours=3)
    third = await make_worker(database, mail_settings, clock=clock).run_once()

    assert (second.sent, third.claimed) == (1, 0)
    assert smtp_server.counts() == {row.message_id: 1}
    (stored,) = await outbox(database)
    assert (stored.status, stored.attempts, stored.last_error) == (OutboxStatus.sent, 2, None)


async def test_refused_recipient_fails_with_the_servers_reason(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    await queue_messages(database, mail_settings, 3)
    smtp_server.behaviour.refuse_recipients = {
        "anna+1@example.com": REFUSAL,
    }
    clock = Clock()

    report = await make_worker(database, mail_settings, clock=clock).run_once()

    assert (report.sent, report.failed) == (2, 1)
    assert len(smtp_server.handler.connections) == 1  # the refusal did not cost the connection
    stored = await outbox(database)
    assert [row.status for row in stored] == [
        OutboxStatus.sent,
        OutboxStatus.failed,
        OutboxStatus.sent,
    ]
    assert stored[1].last_error == REFUSAL

    clock.advance(days=2)
    assert (
        await make_worker(database, mail_settings, clock=clock).run_once()
    ).claimed == 0  # never again


async def test_refused_message_fails_for_good(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    await queue_messages(database, mail_settings)
    smtp_server.behaviour.refuse_data = "554 5.7.1 Message rejected: looks like spam"

    report = await make_worker(database, mail_settings).run_once()

    assert report.failed == 1
    (stored,) = await outbox(database)
    assert stored.status == OutboxStatus.failed
    assert stored.last_error == "554 5.7.1 Message rejected: looks like spam"


@pytest.mark.parametrize("attempts", range(1, 15))
def test_backoff_doubles_from_a_minute_up_to_two_hours_with_jitter(attempts: int) -> None:
    base = min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)
    delays = {retry_delay(attempts, random.Random(seed)) for seed in range(20)}
    assert all(0.75 * base <= delay <= 1.25 * base for delay in delays)
    assert len(delays) > 1  # spread, so that a failed batch does not come back all at once


async def test_retries_stop_after_about_a_day(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    clock = Clock()
    smtp_server.behaviour.temporary_failures = 100
    await queue_messages(
        database, mail_settings, now=clock.now - GIVE_UP_AFTER + timedelta(minutes=1)
    )

    await make_worker(database, mail_settings, clock=clock).run_once()
    (stored,) = await outbox(database)
    assert stored.status == OutboxStatus.queued
    # The last retry comes when the day is over, not later.
    assert stored.next_attempt_at <= stored.created_at + GIVE_UP_AFTER

    clock.advance(minutes=2)
    report = await make_worker(database, mail_settings, clock=clock).run_once()

    assert report.failed == 1
    (stored,) = await outbox(database)
    assert stored.status == OutboxStatus.failed
    assert stored.last_error.startswith("gave up after 2 attempts: 451 ")


async def test_a_dropped_connection_releases_the_rest_of_the_batch(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    rows = await queue_messages(database, mail_settings, 5)
    smtp_server.behaviour.drop_at_message = 3

    report = await make_worker(database, mail_settings).run_once()

    assert (report.sent, report.retrying, report.released) == (4, 1, 2)
    stored = await outbox(database)
    assert [row.status for row in stored] == [OutboxStatus.sent] * 2 + [OutboxStatus.queued] + [
        OutboxStatus.sent
    ] * 2
    # The rows released untried were sent by the next batch, on a new connection, counting one
    # attempt: their own.
    assert [row.attempts for row in stored] == [1, 1, 1, 1, 1]
    assert len(smtp_server.handler.connections) == 2
    assert stored[2].last_error
    assert sorted(smtp_server.message_ids()) == sorted(
        row.message_id for i, row in enumerate(rows) if i != 2
    )


async def test_an_expired_lease_is_sent_again_once_with_the_same_message_id(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    """A worker died after the server accepted a message but before it could mark it sent."""
    (row,) = await queue_messages(database, mail_settings)
    clock = Clock()
    async with database.session(write=True) as session:
        await session.exec(  # type: ignore[call-overload]
            update(OutboxMessage).values(
                status=OutboxStatus.sending,
                lease_owner="a-worker-that-died",
                lease_until=clock.now + timedelta(minutes=5),
            )
        )
        await session.commit()
    await aiosmtplib.send(
        row.raw.encode(),
        sender="team@meetups.example",
        recipients=[row.recipient],
        hostname=smtp_server.host,
        port=smtp_server.port,
    )

    assert (
        await make_worker(database, mail_settings, clock=clock).run_once()
    ).claimed == 0  # lease still held
    clock.advance(minutes=6)
    report = await make_worker(database, mail_settings, clock=clock).run_once()
    clock.advance(hours=1)
    later = await make_worker(database, mail_settings, clock=clock).run_once()

    assert (report.sent, later.claimed) == (1, 0)
    assert smtp_server.counts() == {row.message_id: 2}
    first, second = smtp_server.messages
    assert first.data == second.data  # the same message, byte for byte: receivers deduplicate it
    (stored,) = await outbox(database)
    assert stored.status == OutboxStatus.sent


async def test_rate_limit_spaces_the_messages(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    limited = changed(mail_settings, smtp_max_per_minute=600)  # one every 0.1 s
    await queue_messages(database, limited, 5)

    started = time.monotonic()
    report = await make_worker(database, limited).run_once()
    elapsed = time.monotonic() - started

    assert report.sent == 5
    assert elapsed >= 0.39


async def test_stopping_finishes_the_message_in_flight_and_releases_the_rest(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    await queue_messages(database, mail_settings, 5)
    worker = make_worker(database, mail_settings)
    smtp_server.behaviour.on_message = lambda mail: (
        worker.stop() if len(smtp_server.messages) == 2 else None
    )

    report = await worker.run_once()

    assert (report.sent, report.released) == (2, 3)
    stored = await outbox(database)
    assert [row.status for row in stored] == [OutboxStatus.sent] * 2 + [OutboxStatus.queued] * 3
    assert [row.attempts for row in stored[2:]] == [0, 0, 0]
    assert all(row.lease_until is None for row in stored)


async def test_running_worker_delivers_when_woken_and_stops_gracefully(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    slow_poll = changed(mail_settings, worker_poll_seconds=3600)
    worker = make_worker(database, slow_poll)
    task = asyncio.create_task(worker.run())
    await asyncio.sleep(0.1)
    (row,) = await queue_messages(database, slow_poll)

    worker.wake()
    for _ in range(100):
        if smtp_server.messages:
            break
        await asyncio.sleep(0.05)
    worker.stop()
    await asyncio.wait_for(task, 5)

    assert smtp_server.message_ids() == [row.message_id]
    assert task.done()
    assert task.exception() is None


async def test_a_server_that_takes_nothing_is_not_hammered_with_connections(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    await queue_messages(database, mail_settings, 5)
    smtp_server.behaviour.drop_at_message = 1

    report = await make_worker(database, mail_settings).run_once()

    # One connection, dropped at once: the rest waits for the next round instead of reconnecting.
    assert (report.sent, report.retrying, report.released) == (0, 1, 4)
    assert smtp_server.handler.data_commands == 1
    assert (await make_worker(database, mail_settings).run_once()).sent == 4
