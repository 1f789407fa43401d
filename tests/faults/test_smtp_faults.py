"""A mail server that misbehaves: the line drops in the middle of a message, the server answers
slowly or not within the timeout, the server refuses after so many messages on a connection.
Whatever happens, every message arrives, none arrives twice unless the server had it already
(then with the same Message-ID, so receivers deduplicate it), and the worker carries on."""

import asyncio
import time
from datetime import timedelta

import pytest

from meetups.config import Settings
from meetups.db import Database, create_engine, utcnow
from meetups.mail.models import OutboxStatus
from tests.faults.conftest import FaultyServer, RelayFactory
from tests.faults.processes import wait_for
from tests.smtp import Clock, make_worker, outbox, queue_messages, relay_settings


async def test_a_line_dropped_in_the_middle_of_data_delivers_everything_exactly_once(
    database: Database,
    settings: Settings,
    faulty_server: FaultyServer,
    cutting_relay: RelayFactory,
) -> None:
    relay = await cutting_relay(faulty_server.port, cut={4, 13}, cut_after=300)
    relayed = relay_settings(settings, smtp_port=relay.port)
    rows = await queue_messages(database, relayed, 30)
    clock = Clock()

    report = await make_worker(database, relayed, clock=clock, batch_size=10).run_once()

    # The run carried on after each drop, on a new connection; only the two cut messages wait.
    assert relay.cuts == [4, 13]
    assert (report.sent, report.retrying, report.failed) == (28, 2, 0)
    stored = await outbox(database)
    cut = {rows[3].message_id, rows[12].message_id}
    waiting = [row for row in stored if row.status != OutboxStatus.sent]
    assert {row.message_id for row in waiting} == cut
    assert all(row.status == OutboxStatus.queued and row.attempts == 1 for row in waiting)
    assert all(row.last_error and row.lease_owner is None for row in waiting)
    # The server saw the beginning of the cut messages, never their end: it has not got them.
    assert cut.isdisjoint(faulty_server.counts())

    assert (await make_worker(database, relayed, clock=clock).run_once()).claimed == 0
    clock.advance(minutes=2)  # past the first retry's backoff
    again = await make_worker(database, relayed, clock=clock).run_once()

    assert (again.sent, again.retrying) == (2, 0)
    assert relay.cuts == [4, 13]
    assert relay.connections == 5  # four batches in the first run, one in the second
    assert faulty_server.counts() == {row.message_id: 1 for row in rows}
    by_id = {mail.message_id: mail for mail in faulty_server.messages}
    assert all(by_id[row.message_id].data == row.raw.encode() for row in rows)
    assert {row.status for row in await outbox(database)} == {OutboxStatus.sent}


@pytest.mark.parametrize("server_kept_it", [False, True], ids=["lost", "kept"])
async def test_a_server_slower_than_the_timeout_is_given_up_on_and_tried_again(
    database: Database, settings: Settings, faulty_server: FaultyServer, server_kept_it: bool
) -> None:
    """Every answer is slow, two are slower than the timeout. A message whose answer never came
    is tried again later. If the server had stored it before it was too slow to say so
    (`kept`), it gets it twice, byte for byte the same, with the same Message-ID: SMTP cannot
    tell, and receivers deduplicate by Message-ID. Messages answered in time go out once."""
    slow = relay_settings(settings, faulty_server.server, smtp_timeout_seconds=1.0)
    rows = await queue_messages(database, slow, 12)
    too_slow = {rows[2].message_id, rows[7].message_id}
    faulty_server.faults.delay = 0.2
    faulty_server.faults.delays = {message_id: [2.5] for message_id in too_slow}
    faulty_server.faults.store_before_answering = server_kept_it
    clock = Clock()

    report = await make_worker(database, slow, clock=clock).run_once()

    assert (report.sent, report.retrying, report.failed) == (10, 2, 0)
    waiting = [row for row in await outbox(database) if row.status != OutboxStatus.sent]
    assert {row.message_id for row in waiting} == too_slow
    assert all("timed out" in (row.last_error or "").lower() for row in waiting)

    clock.advance(minutes=2)
    again = await make_worker(database, slow, clock=clock).run_once()

    assert (again.sent, again.retrying) == (2, 0)
    assert {row.status for row in await outbox(database)} == {OutboxStatus.sent}
    counts = faulty_server.counts()
    assert set(counts) == {row.message_id for row in rows}
    expected = 2 if server_kept_it else 1
    assert {message_id: counts[message_id] for message_id in too_slow} == dict.fromkeys(
        too_slow, expected
    )
    assert all(counts[row.message_id] == 1 for row in rows if row.message_id not in too_slow)
    for message_id in too_slow:
        copies = {mail.data for mail in faulty_server.messages if mail.message_id == message_id}
        assert len(copies) == 1


@pytest.mark.parametrize(
    ("answer", "closes"),
    [
        ("421 4.7.0 Too many messages on this connection, closing", True),
        ("451 4.7.1 Too many messages on this connection, try again later", False),
    ],
    ids=["421-and-hang-up", "451-and-stay"],
)
async def test_a_server_that_refuses_after_ten_messages_a_connection_gets_the_rest_later(
    database: Database,
    settings: Settings,
    faulty_server: FaultyServer,
    answer: str,
    closes: bool,
) -> None:
    """The first refusal ends the connection's batch: the rest go over the next connection
    right away (the sender is the same for every message, so the server would refuse them all
    on this one); only the refused message waits for its retry."""
    relay = relay_settings(settings, faulty_server.server)
    rows = await queue_messages(database, relay, 45)
    faulty_server.faults.per_connection_limit = 10
    faulty_server.faults.limit_answer = answer
    faulty_server.faults.close_at_limit = closes
    clock = Clock()

    report = await make_worker(database, relay, clock=clock).run_once()

    # Four connections take ten each and refuse one; the fifth takes the last one.
    assert (report.sent, report.retrying, report.failed) == (41, 4, 0)
    handler = faulty_server.handler
    assert sorted(handler.accepted_per_connection.values()) == [1, 10, 10, 10, 10]
    assert list(handler.refused_per_connection.values()) == [1, 1, 1, 1]
    refused = [row for row in await outbox(database) if row.status != OutboxStatus.sent]
    assert [row.status for row in refused] == [OutboxStatus.queued] * 4
    assert all(answer in (row.last_error or "") for row in refused)

    clock.advance(minutes=2)
    again = await make_worker(database, relay, clock=clock).run_once()

    assert (again.sent, again.retrying) == (4, 0)
    assert faulty_server.counts() == {row.message_id: 1 for row in rows}
    stored = await outbox(database)
    assert {row.status for row in stored} == {OutboxStatus.sent}
    assert sorted(row.attempts for row in stored) == [1] * 41 + [2] * 4


async def test_a_batch_slower_than_its_lease_keeps_its_rows_from_other_workers(
    database: Database, settings: Settings, faulty_server: FaultyServer
) -> None:
    """Each answer takes 0.2 s, so a batch of 45 takes longer than the lease (7.5 s here: 2.5
    times five timeouts of 0.6 s). The lease is renewed with every message, so another worker
    looking for due mail all the while finds none of the batch's rows, and nothing goes twice."""
    slow = relay_settings(
        settings, faulty_server.server, smtp_timeout_seconds=0.6, worker_lease_seconds=1
    )
    rows = await queue_messages(database, slow, 45)
    faulty_server.faults.delay = 0.2
    holder = make_worker(database, slow, batch_size=45)
    assert holder.lease == timedelta(seconds=7.5)
    other_database = Database(create_engine(slow.resolved_database_url))
    other = make_worker(other_database, slow)
    claimed_by_other: list[int] = []
    try:
        started = time.monotonic()
        sending = asyncio.create_task(holder.run_once())
        while not sending.done():
            await asyncio.sleep(0.25)
            claimed_by_other.append((await other.run_once()).claimed)
        report = await sending
        elapsed = time.monotonic() - started
    finally:
        await other_database.dispose()

    assert elapsed > holder.lease.total_seconds()
    assert (report.claimed, report.sent) == (45, 45)
    assert len(claimed_by_other) > 20
    assert set(claimed_by_other) == {0}
    assert faulty_server.counts() == {row.message_id: 1 for row in rows}


async def test_a_worker_whose_batch_was_taken_over_stops_sending_it(
    database: Database,
    settings: Settings,
    faulty_server: FaultyServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """While worker A waits for the server's answer to its third message, worker B finds A's
    batch with its lease run out (B's clock is past it, as after an outage of the database
    longer than the lease) and takes it over. A must notice when it records the third message
    and leave the rest to B: only the message A had in flight arrives twice."""
    relay = relay_settings(settings, faulty_server.server)
    rows = await queue_messages(database, relay, 10)
    in_flight = rows[2].message_id
    faulty_server.faults.delays = {in_flight: [3.0, 0.0]}
    first = make_worker(database, relay)
    other_database = Database(create_engine(relay.resolved_database_url))
    later = Clock(utcnow() + first.lease + timedelta(minutes=1))
    second = make_worker(other_database, relay, clock=later)
    try:
        sending = asyncio.create_task(first.run_once())

        async def third_in_flight() -> bool:
            return faulty_server.handler.data_commands == 3

        await wait_for(third_in_flight, seconds=10, what="the third message", interval=0.01)
        taken_over = await second.run_once()
        await sending
    finally:
        await other_database.dispose()

    assert (taken_over.claimed, taken_over.sent) == (8, 8)
    counts = faulty_server.counts()
    assert counts == {row.message_id: 2 if row.message_id == in_flight else 1 for row in rows}
    assert {row.status for row in await outbox(database)} == {OutboxStatus.sent}
    assert "was taken over by another worker" in caplog.text
    assert "7 rows of this batch were taken over by another worker" in caplog.text
