"""The mail worker's heartbeat: `meetups worker` and the worker inside `meetups serve` write a
row when they start, renew it while they run (even in a long batch), and delete it when they stop
cleanly; /readyz follows. A heartbeat that cannot be written never stops the delivery of mail."""

import asyncio
import os
import socket
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlmodel import select

from meetups.config import Settings
from meetups.db import Database, utcnow
from meetups.mail.models import CaughtMail, WorkerHeartbeat
from meetups.mail.outbox import queue_email
from meetups.mail.worker import MailWorker
from meetups.ops.heartbeat import heartbeat_interval
from meetups.web import create_app
from tests.conftest import Browser
from tests.network import free_port
from tests.ops.conftest import StartCommand, command_env, wait_until


def _changed(settings: Settings, **changes: Any) -> Settings:
    return Settings(_env_file=None, **{**settings.model_dump(), **changes})  # type: ignore[call-arg]


async def _heartbeats(database: Database) -> list[WorkerHeartbeat]:
    async with database.session() as read:
        return list((await read.exec(select(WorkerHeartbeat))).all())


async def _eventually(check: Any) -> Any:
    """The first true result of `check()`, asked every 50 ms for up to 20 s."""
    for _ in range(400):
        if result := await check():
            return result
        await asyncio.sleep(0.05)
    raise AssertionError("the condition did not come true in time")


def test_a_worker_beats_four_times_per_allowed_age(settings: Settings) -> None:
    assert heartbeat_interval(settings) == 30
    assert heartbeat_interval(_changed(settings, worker_heartbeat_max_age_seconds=2)) == 0.5


async def test_a_running_worker_says_it_is_alive_and_leaves_cleanly(
    database: Database, settings: Settings
) -> None:
    quick = _changed(settings, worker_heartbeat_max_age_seconds=1)
    worker = MailWorker(database=database, settings=quick)
    task = asyncio.create_task(worker.run())
    (first,) = await _eventually(lambda: _heartbeats(database))
    assert first.hostname == socket.gethostname()
    assert first.pid == os.getpid()
    assert str(os.getpid()) in first.worker_id
    assert first.started_at <= first.seen_at <= utcnow()

    async def renewed() -> bool:
        rows = await _heartbeats(database)
        return bool(rows) and rows[0].seen_at > first.seen_at

    await _eventually(renewed)
    async with Browser(create_app(quick, database), quick.secret) as browser:
        assert (await browser.get("/readyz")).status_code == 200
        worker.stop()
        await asyncio.wait_for(task, 30)
        assert await _heartbeats(database) == []
        assert (await browser.get("/readyz")).json()["failed"] == ["worker"]


async def test_starting_clears_workers_silent_for_a_day(
    database: Database, settings: Settings, session: Any
) -> None:
    now = utcnow()
    session.add(WorkerHeartbeat(worker_id="dead", seen_at=now - timedelta(days=2)))
    session.add(WorkerHeartbeat(worker_id="paused", seen_at=now - timedelta(hours=1)))
    await session.commit()
    worker = MailWorker(database=database, settings=settings)
    task = asyncio.create_task(worker.run())

    async def ids() -> set[str]:
        found = {row.worker_id for row in await _heartbeats(database)}
        return found if len(found) == 2 and "dead" not in found else set()

    assert "paused" in await _eventually(ids)
    worker.stop()
    await asyncio.wait_for(task, 30)
    assert {row.worker_id for row in await _heartbeats(database)} == {"paused"}


async def test_the_worker_inside_serve_beats_too(database: Database, settings: Settings) -> None:
    app = create_app(_changed(settings, worker_heartbeat_max_age_seconds=1), database)
    async with app.router.lifespan_context(app):
        assert app.state.mail_worker is not None
        await _eventually(lambda: _heartbeats(database))
    assert await _heartbeats(database) == []


async def test_serve_without_its_worker_writes_no_heartbeat(
    database: Database, settings: Settings
) -> None:
    app = create_app(_changed(settings, worker_in_serve=False), database)
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.3)
        assert await _heartbeats(database) == []
        async with Browser(app, settings.secret) as browser:
            assert (await browser.get("/readyz")).json()["failed"] == ["worker"]


async def test_mail_is_delivered_even_when_the_heartbeat_cannot_be_written(
    database: Database, settings: Settings, session: Any
) -> None:
    """The worker_heartbeat table gone (a botched restore, say): delivery goes on, /readyz tells."""
    await session.exec(text("DROP TABLE worker_heartbeat"))
    await session.commit()
    catching = _changed(
        settings,
        mail_catcher=True,
        mail_catcher_port=free_port(),
        worker_heartbeat_max_age_seconds=1,
    )
    queue_email(
        session=session,
        settings=catching,
        to="anna@example.com",
        subject="Still delivered",
        text="Hello",
        kind="test",
    )
    await session.commit()
    app = create_app(catching, database)
    async with app.router.lifespan_context(app):
        app.state.mail_worker.wake()

        async def caught() -> list[CaughtMail]:
            async with database.session() as read:
                return list((await read.exec(select(CaughtMail))).all())

        (mail,) = await _eventually(caught)
        assert mail.subject == "Still delivered"
        async with Browser(app, catching.secret) as browser:
            response = await browser.get("/readyz")
        assert response.status_code == 503
        assert "worker" in response.json()["failed"]


def test_the_worker_command_beats_and_removes_its_row_on_sigterm(
    settings: Settings, start_command: StartCommand, tmp_path: Path
) -> None:
    env = command_env(settings, worker_heartbeat_max_age_seconds="1", worker_poll_seconds="0.2")
    process = start_command(env, "worker")

    def rows() -> list[WorkerHeartbeat]:
        return asyncio.run(_read_heartbeats(settings))

    (row,) = wait_until(rows)
    assert row.pid == process.popen.pid
    first_seen = row.seen_at
    wait_until(lambda: rows() and rows()[0].seen_at > first_seen)
    port = free_port()
    env_serve = command_env(settings, worker_in_serve="false")
    serve = start_command(
        env_serve, "serve", "--port", str(port), wait_for=f"http://127.0.0.1:{port}"
    )
    assert httpx.get(f"{serve.url}/readyz", timeout=10).status_code == 200
    _out, err = process.stop()
    assert process.popen.returncode == 0, err
    assert rows() == []
    assert httpx.get(f"{serve.url}/readyz", timeout=10).json()["failed"] == ["worker"]


async def _read_heartbeats(settings: Settings) -> list[WorkerHeartbeat]:
    from meetups.db import create_engine

    database = Database(create_engine(settings.resolved_database_url))
    try:
        return await _heartbeats(database)
    finally:
        await database.dispose()
