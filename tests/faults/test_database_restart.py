"""The database goes away under a running `meetups worker`, in the middle of a batch and while it
waits for work. The worker process lives on, delivers everything once it is back, and sends
nothing twice: the outcome of the message in flight is written once the database answers again,
so no row waits for its lease to run out (the default lease, five minutes, is longer than the
whole test).

PostgreSQL: the test's own database refuses connections for a few seconds and every connection
to it is terminated. For the worker that is what a restart looks like (its connections die with
"terminating connection due to administrator command", the error of a fast shutdown, and
reconnecting fails until the database is back), without restarting the server: that would need
root and would cut off every other database and client on a shared server.

SQLite has no server to restart; what a worker meets instead is a database it cannot write to:
another connection holds the write lock for longer than the busy timeout (15 s), so writes fail
with "database is locked" until it lets go."""

import asyncio
import sqlite3
import time
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from meetups.config import Settings
from meetups.db import SQLITE_BUSY_TIMEOUT_MS, Database, utcnow
from meetups.mail.models import OutboxStatus
from meetups.mail.worker import LONGEST_FAILED_ROUND_PAUSE, pause_after_failures
from tests.faults.conftest import Arrivals
from tests.faults.processes import Cli, environment, wait_for
from tests.smtp import ReceivedMail, SmtpServer, outbox, queue_messages, relay_settings

PG_OUTAGE_SECONDS = 4.0
# Long enough that the worker's writes give up waiting for the lock.
SQLITE_OUTAGE_SECONDS = SQLITE_BUSY_TIMEOUT_MS / 1000 + 2


def _hold_write_lock(path: str, seconds: float) -> None:
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("BEGIN EXCLUSIVE")
        time.sleep(seconds)
        connection.execute("ROLLBACK")
    finally:
        connection.close()


async def _pg_outage(url: str, seconds: float) -> None:
    target = make_url(url)
    name = target.database
    admin = await asyncpg.connect(
        target.set(drivername="postgresql", database="postgres").render_as_string(
            hide_password=False
        )
    )
    try:
        await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        await asyncio.sleep(seconds)
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        await admin.close()


async def database_outage(database: Database, settings: Settings) -> float:
    """Takes the database away and brings it back; returns how long it was gone."""
    started = time.monotonic()
    url = settings.resolved_database_url
    if database.is_sqlite:
        await asyncio.to_thread(_hold_write_lock, make_url(url).database, SQLITE_OUTAGE_SECONDS)
    else:
        await _pg_outage(url, PG_OUTAGE_SECONDS)
    return time.monotonic() - started


@pytest.mark.slow
async def test_the_worker_outlives_a_database_restart_and_sends_everything_once(
    database: Database, settings: Settings, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    mail_settings = relay_settings(settings, smtp_server)
    rows = await queue_messages(database, mail_settings, 150)
    outages: list[asyncio.Task[float]] = []

    def restart_after_the_60th(mail: ReceivedMail) -> None:
        # Right after the server's "250": the worker is about to record the outcome.
        if len(smtp_server.messages) == 60:
            outages.append(asyncio.create_task(database_outage(database, mail_settings)))

    smtp_server.behaviour.on_message = restart_after_the_60th
    arrivals = Arrivals(smtp_server)
    worker = await Cli(
        ["worker"], environment(mail_settings, tmp_path, worker_poll_seconds="0.2"), tmp_path
    ).start()
    try:

        async def all_arrived() -> bool:
            assert worker.running, worker.output()
            return len(arrivals.counts()) == len(rows) and all(task.done() for task in outages)

        await wait_for(all_arrived, seconds=120, what="every message")
        assert len(outages) == 1
        expected = SQLITE_OUTAGE_SECONDS if database.is_sqlite else PG_OUTAGE_SECONDS
        assert outages[0].result() >= expected
        assert smtp_server.counts() == {row.message_id: 1 for row in rows}

        async def all_recorded() -> bool:
            return {row.status for row in await outbox(database)} == {OutboxStatus.sent}

        await wait_for(all_recorded, seconds=30, what="every message marked sent")

        # Gone again while the worker waits for work: mail that falls due meanwhile goes out
        # once the database is back.
        smtp_server.behaviour.on_message = None
        later = await queue_messages(
            database, mail_settings, 20, now=utcnow() + timedelta(seconds=1)
        )
        await database_outage(database, mail_settings)

        async def later_arrived() -> bool:
            assert worker.running, worker.output()
            arrived = arrivals.counts()
            return all(row.message_id in arrived for row in later)

        await wait_for(later_arrived, seconds=60, what="the mail due during the outage")
        await wait_for(all_recorded, seconds=30, what="every message marked sent")
    finally:
        returncode = await worker.stop()

    output = worker.output()
    assert returncode == 0, output
    assert smtp_server.counts() == {row.message_id: 1 for row in [*rows, *later]}
    # It met the outage in the middle of the batch and waited for the database there, and in
    # its idle loop, where it tried again later.
    assert "could not record the outcome of" in output
    assert "this round failed; trying again" in output


@pytest.mark.parametrize(
    ("poll", "waits"),
    [
        (5.0, [5, 10, 20, 30, 30]),
        (0.2, [0.2, 0.4, 0.8, 1.6, 3.2]),
        (60.0, [60, 60, 60, 60, 60]),  # never sooner than the poll interval
    ],
)
def test_failed_rounds_back_off_up_to_half_a_minute(poll: float, waits: list[float]) -> None:
    assert LONGEST_FAILED_ROUND_PAUSE == 30
    assert [pause_after_failures(poll, failed) for failed in range(1, 6)] == pytest.approx(waits)
    assert pause_after_failures(poll, 1000) == max(poll, 30)
