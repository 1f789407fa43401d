"""The mail worker's sign of life: a row in worker_heartbeat, written when it starts, renewed
every quarter of MEETUPS_WORKER_HEARTBEAT_MAX_AGE_SECONDS, deleted when it stops cleanly. /readyz
reads the newest one. A worker that dies leaves its row behind; it simply stops being recent, and
rows silent for a day are cleared by the next worker that starts.

The heartbeat runs beside the delivery loop rather than inside it: a long batch (thousands of
e-mails at the relay's rate limit) must not make a busy worker look dead.
"""

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, delete, select

from meetups.config import Settings
from meetups.db import Database, utcnow
from meetups.mail.models import WorkerHeartbeat

log = logging.getLogger("meetups.ops")

FORGET_SILENT_AFTER = timedelta(days=1)


def heartbeat_interval(settings: Settings) -> float:
    return settings.worker_heartbeat_max_age_seconds / 4


def _new_worker_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass
class Heartbeat:
    database: Database
    interval: float
    worker_id: str = field(default_factory=_new_worker_id)
    started_at: datetime = field(default_factory=utcnow)

    async def beat(self) -> None:
        """Says "alive" now; creates the row if it is missing (first beat, or cleared meanwhile)."""
        now = utcnow()
        async with self.database.session(write=True) as session:
            row = await session.get(WorkerHeartbeat, self.worker_id)
            if row is None:
                row = WorkerHeartbeat(
                    worker_id=self.worker_id,
                    hostname=socket.gethostname()[:255],
                    pid=os.getpid(),
                    started_at=self.started_at,
                )
            row.seen_at = now
            session.add(row)
            await session.commit()

    async def forget_silent_workers(self) -> None:
        async with self.database.session(write=True) as session:
            await session.exec(  # type: ignore[call-overload]
                delete(WorkerHeartbeat).where(
                    col(WorkerHeartbeat.seen_at) < utcnow() - FORGET_SILENT_AFTER
                )
            )
            await session.commit()

    async def remove(self) -> None:
        async with self.database.session(write=True) as session:
            await session.exec(  # type: ignore[call-overload]
                delete(WorkerHeartbeat).where(col(WorkerHeartbeat.worker_id) == self.worker_id)
            )
            await session.commit()

    async def keep_beating(self, stop: asyncio.Event) -> None:
        """Beats every `interval` until `stop` is set; a failed beat (database away) is logged
        and the next one tried on time."""
        while True:
            try:
                await self.beat()
            except Exception:
                log.warning("worker heartbeat could not be written", exc_info=True)
            try:
                await asyncio.wait_for(stop.wait(), self.interval)
            except TimeoutError:
                continue
            return


@contextlib.asynccontextmanager
async def worker_heartbeat(*, database: Database, settings: Settings) -> AsyncIterator[Heartbeat]:
    """Beats while the body runs; on a clean exit the worker's row is removed."""
    heartbeat = Heartbeat(database=database, interval=heartbeat_interval(settings))
    try:
        await heartbeat.forget_silent_workers()
    except Exception:
        log.warning("old worker heartbeats could not be cleared", exc_info=True)
    stop = asyncio.Event()
    task = asyncio.create_task(heartbeat.keep_beating(stop), name="meetups worker heartbeat")
    try:
        yield heartbeat
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await task
        try:
            await heartbeat.remove()
        except Exception:
            log.warning("worker heartbeat could not be removed", exc_info=True)


async def latest_heartbeat(*, database: Database) -> datetime | None:
    async with database.session() as session:
        return (await session.exec(select(func.max(WorkerHeartbeat.seen_at)))).one()
