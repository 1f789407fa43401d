"""The worker as a process: `meetups worker`, killed and restarted, side by side with another,
and the scheduler hooks it runs."""

import asyncio
import os
import signal
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from meetups.config import Settings
from meetups.db import Database, create_engine, utcnow
from meetups.mail import scheduler
from meetups.mail.models import OutboxMessage, OutboxStatus
from meetups.mail.worker import MailWorker
from tests.conftest import TEST_SECRET
from tests.smtp import HOST, ReceivedMail, SmtpServer, make_worker, outbox, queue_messages


def worker_environment(settings: Settings, server: SmtpServer, tmp_path: Path) -> dict[str, str]:
    """`meetups worker` in its own process, on the test's database, sending to the test server."""
    return {
        **{key: value for key, value in os.environ.items() if not key.startswith("MEETUPS_")},
        "MEETUPS_DATABASE_URL": settings.resolved_database_url,
        "MEETUPS_SECRET_KEY": TEST_SECRET,
        "MEETUPS_VAR_DIR": str(tmp_path / "var"),
        "MEETUPS_BASE_URL": "http://testserver",
        "MEETUPS_MAIL_FROM": settings.mail_from,
        "MEETUPS_SMTP_HOST": HOST,
        "MEETUPS_SMTP_PORT": str(server.port),
        "MEETUPS_SMTP_SECURITY": "none",
        "MEETUPS_SMTP_MAX_PER_MINUTE": "0",
        "MEETUPS_WORKER_POLL_SECONDS": "0.2",
    }


async def start_worker_process(
    settings: Settings, server: SmtpServer, tmp_path: Path, *args: str
) -> tuple[asyncio.subprocess.Process, Path]:
    log = tmp_path / f"worker-{'-'.join(args) or 'run'}-{time.monotonic_ns()}.log"
    with log.open("w") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "meetups.cli",
            "worker",
            *args,
            env=worker_environment(settings, server, tmp_path),
            cwd=tmp_path,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
    return process, log


async def test_worker_once_delivers_what_is_due_and_exits(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    rows = await queue_messages(database, mail_settings, 3)

    process, log = await start_worker_process(mail_settings, smtp_server, tmp_path, "--once")
    returncode = await asyncio.wait_for(process.wait(), 60)

    assert returncode == 0, log.read_text()
    assert "E-mail: 3 sent, 0 to retry later, 0 failed." in log.read_text()
    assert sorted(smtp_server.message_ids()) == sorted(row.message_id for row in rows)
    assert {row.status for row in await outbox(database)} == {OutboxStatus.sent}


async def test_worker_runs_until_sigterm_and_stops_gracefully(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    process, log = await start_worker_process(mail_settings, smtp_server, tmp_path)
    (row,) = await queue_messages(database, mail_settings)  # found by the worker's next poll
    for _ in range(300):
        if smtp_server.messages or process.returncode is not None:
            break
        await asyncio.sleep(0.1)

    process.send_signal(signal.SIGTERM)
    returncode = await asyncio.wait_for(process.wait(), 30)

    assert returncode == 0, log.read_text()
    assert smtp_server.message_ids() == [row.message_id]


async def test_worker_killed_in_the_middle_of_a_batch_of_200_loses_nothing(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer, tmp_path: Path
) -> None:
    """kill -9 while the worker is sending; after a restart all 200 arrive, and no message that
    was accepted *and marked sent* arrives twice. Only the message between the server's
    acceptance and the worker's commit may come twice (with the same Message-ID)."""
    rows = await queue_messages(database, mail_settings, 200)
    process: asyncio.subprocess.Process | None = None

    def kill_after_the_60th(mail: ReceivedMail) -> None:
        if len(smtp_server.messages) == 60 and process is not None:
            # Right after the server's "250" goes out: the worker is marking or sending the next.
            asyncio.get_running_loop().call_soon(os.kill, process.pid, signal.SIGKILL)

    smtp_server.behaviour.on_message = kill_after_the_60th
    process, log = await start_worker_process(mail_settings, smtp_server, tmp_path)
    returncode = await asyncio.wait_for(process.wait(), 120)
    assert returncode == -signal.SIGKILL, log.read_text()

    after_kill = await outbox(database)
    marked_sent = {row.message_id for row in after_kill if row.status == OutboxStatus.sent}
    held_by_the_dead = [row for row in after_kill if row.status == OutboxStatus.sending]
    assert 0 < len(marked_sent) < 200
    assert held_by_the_dead  # the batch it was working on, still under its lease
    # The dead worker's lease runs out after some minutes; let it run out now instead of waiting.
    async with database.session(write=True) as session:
        await session.exec(  # type: ignore[call-overload]
            update(OutboxMessage)
            .where(col(OutboxMessage.status) == OutboxStatus.sending)
            .values(lease_until=utcnow() - timedelta(seconds=1))
        )
        await session.commit()

    smtp_server.behaviour.on_message = None
    restarted, log = await start_worker_process(mail_settings, smtp_server, tmp_path, "--once")
    assert await asyncio.wait_for(restarted.wait(), 120) == 0, log.read_text()

    assert {row.status for row in await outbox(database)} == {OutboxStatus.sent}
    counts = smtp_server.counts()
    assert set(counts) == {row.message_id for row in rows}
    assert all(counts[message_id] == 1 for message_id in marked_sent)
    assert sum(count - 1 for count in counts.values()) <= 1


async def test_two_workers_side_by_side_never_send_a_row_twice(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    rows = await queue_messages(database, mail_settings, 60)
    smtp_server.behaviour.delay = 0.005  # so that the two really overlap
    other_database = Database(create_engine(mail_settings.resolved_database_url))
    try:
        reports = await asyncio.gather(
            make_worker(database, mail_settings, batch_size=5).run_once(),
            make_worker(other_database, mail_settings, batch_size=5).run_once(),
        )
    finally:
        await other_database.dispose()

    assert smtp_server.counts() == {row.message_id: 1 for row in rows}
    assert [report.sent > 0 for report in reports] == [True, True]
    assert sum(report.sent for report in reports) == 60


async def test_rows_another_transaction_holds_are_never_taken(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    """PostgreSQL: SKIP LOCKED passes over them and delivers the rest at once. SQLite: the claim
    waits for the other writer, then delivers everything."""
    rows = await queue_messages(database, mail_settings, 10)
    worker = make_worker(database, mail_settings)
    other_database = Database(create_engine(mail_settings.resolved_database_url))
    try:
        async with other_database.session(write=True) as holder:
            held = set(
                (
                    await holder.exec(
                        select(OutboxMessage.message_id)
                        .order_by(col(OutboxMessage.id))
                        .limit(3)
                        .with_for_update()
                    )
                ).all()
            )
            if database.is_sqlite:
                delivering = asyncio.create_task(worker.run_once())
                await asyncio.sleep(0.5)
                assert smtp_server.messages == []
                await holder.rollback()
                report = await asyncio.wait_for(delivering, 30)
                assert report.sent == 10
            else:
                report = await asyncio.wait_for(worker.run_once(), 30)
                assert report.sent == 7
                assert held.isdisjoint(smtp_server.message_ids())
                await holder.rollback()
                assert (await worker.run_once()).sent == 3
    finally:
        await other_database.dispose()
    assert smtp_server.counts() == {row.message_id: 1 for row in rows}


async def test_scheduler_hooks_make_mail_due_before_delivery(
    database: Database, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    seen: list[datetime] = []

    async def broken(*, database: Database, settings: Settings, now: datetime) -> None:
        raise RuntimeError("a broken hook must not stop delivery")

    async def queue_due_reminders(*, database: Database, settings: Settings, now: datetime) -> None:
        seen.append(now)
        await queue_messages(database, settings, kind="reminder", subject="Erinnerung")

    report = await make_worker(
        database, mail_settings, hooks=[broken, queue_due_reminders]
    ).run_once()

    assert report.sent == 1
    assert len(seen) == 1
    assert [str(mail.message["Subject"]) for mail in smtp_server.messages] == ["Erinnerung"]


async def test_registered_hooks_are_what_a_worker_runs(
    database: Database, mail_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scheduler, "_hooks", [])
    monkeypatch.setattr(scheduler, "HOOK_MODULES", ())

    @scheduler.scheduled
    async def make_something_due(*, database: Database, settings: Settings, now: datetime) -> None:
        return None

    scheduler.scheduled(make_something_due)  # registering twice runs it once
    assert scheduler.registered_hooks() == [make_something_due]
    assert MailWorker(database=database, settings=mail_settings).hooks == [make_something_due]
