"""The mail worker: takes due outbox rows and delivers them.

A batch goes like this:
1. *Claim*: in one short write transaction, take up to `batch_size` rows that are due (queued and
   next_attempt_at has come, or `sending` whose lease ran out because a worker died), mark them
   `sending` with a lease and our owner token, commit. On PostgreSQL the rows are selected
   `FOR UPDATE SKIP LOCKED`, so workers running side by side never take the same row; on SQLite
   the claim runs in a BEGIN IMMEDIATE transaction, which serializes claims.
2. *Send* them over one SMTP connection, at most `smtp_max_per_minute`, and record each outcome
   right after the server answered (renewing the lease of the rest in the same commit):
   accepted -> `sent`, never sent again; temporary -> `queued` again with exponential backoff and
   jitter, until about a day has passed, then `failed`; permanent -> `failed` with the reason.
3. A dropped connection ends the batch; the rows not tried yet are released (no attempt counted)
   and the next batch reconnects. When no connection can be made at all, every claimed row
   counts an attempt and waits for its backoff.

A crash between the server's acceptance and the commit of `sent` leaves the row `sending`; when
its lease runs out it is sent once more, with the same Message-ID (receivers deduplicate by it).
A database that restarts or stays locked for a while is no crash: the worker writes what it holds
(outcomes, released rows) again, with growing pauses, for as long as its lease lasts, and the
batch goes on once the database answers.
"""

import asyncio
import logging
import random
import secrets
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, or_, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import meetups.models  # noqa: F401 - every table, so that the foreign keys resolve
from meetups.config import Settings
from meetups.db import Database, utcnow
from meetups.mail.models import OutboxMessage, OutboxStatus
from meetups.mail.scheduler import SchedulerHook, registered_hooks
from meetups.mail.sender import ConnectFailed, Delivery, SmtpConnection, SmtpTarget, envelope_sender
from meetups.ops.heartbeat import worker_heartbeat

log = logging.getLogger("meetups.mail")

BATCH_SIZE = 50
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=2)
GIVE_UP_AFTER = timedelta(hours=24)
# A claim's lease covers connecting plus one message, and is renewed after every message. Before
# each message the worker checks that the lease outlasts the longest a message can take (every
# SMTP step timing out); if not, it leaves the rest of the batch to the next claim. So a row is
# never taken by a second worker while the first may still be sending it. Its length is the
# `worker_lease_seconds` setting, at least LEASE_PER_BUDGET budgets of a message.
LEASE_PER_BUDGET = 2.5
SMTP_STEPS_PER_MESSAGE = 5  # MAIL, RCPT, DATA, the message, and a reconnect's slack
# How long a stopping worker may take to finish the message in flight before it is cancelled.
SHUTDOWN_GRACE_SECONDS = 30.0
# Pauses between tries of a write the database refused for now (restarting, locked).
FIRST_WRITE_RETRY_SECONDS = 0.25
LONGEST_WRITE_RETRY_SECONDS = 5.0
# The longest wait between rounds that fail one after the other.
LONGEST_FAILED_ROUND_PAUSE = 30.0

T = TypeVar("T")

Clock = Callable[[], datetime]


def pause_after_failures(poll_seconds: float, failed_rounds: int) -> float:
    """The wait before the next round after `failed_rounds` failed in a row (the database or
    the code broken for a while): the poll interval, doubling up to LONGEST_FAILED_ROUND_PAUSE,
    so that an outage is not met with a traceback every few seconds."""
    doublings = min(max(failed_rounds, 1) - 1, 16)
    return max(poll_seconds, min(poll_seconds * 2**doublings, LONGEST_FAILED_ROUND_PAUSE))


def retry_delay(attempts: int, rng: random.Random) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1 minute, doubling up to 2 hours, each
    spread by ±25 % so that a batch that failed together does not retry together."""
    doublings = min(max(attempts, 1) - 1, 16)
    base = min(FIRST_RETRY * 2**doublings, LONGEST_RETRY)
    return base * rng.uniform(0.75, 1.25)


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0
    connection_failed: bool = False

    def add(self, other: "DeliveryReport") -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed
        self.released += other.released
        self.connection_failed = self.connection_failed or other.connection_failed

    def summary(self) -> str:
        return f"{self.sent} sent, {self.retrying} to retry later, {self.failed} failed" + (
            f", {self.released} left for later" if self.released else ""
        )


@dataclass
class _Claimed:
    id: int
    message_id: str
    recipient: str
    raw: str
    attempts: int
    created_at: datetime


class RateLimiter:
    """Spaces sends evenly: at most `per_minute` a minute (0: no limit)."""

    def __init__(self, per_minute: int, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.interval = 60.0 / per_minute if per_minute > 0 else 0.0
        self._monotonic = monotonic
        self._next_slot = 0.0

    async def wait(self, stop: asyncio.Event) -> bool:
        """Waits for the next slot; False when `stop` was set meanwhile."""
        if not self.interval:
            return not stop.is_set()
        now = self._monotonic()
        delay = self._next_slot - now
        if delay > 0 and await _wait_for_event(stop, delay):
            return False
        self._next_slot = max(now, self._next_slot) + self.interval
        return not stop.is_set()


@dataclass
class MailWorker:
    database: Database
    settings: Settings
    hooks: Sequence[SchedulerHook] | None = None
    batch_size: int = BATCH_SIZE
    clock: Clock = utcnow
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self.target = SmtpTarget.from_settings(self.settings)
        self.sender = envelope_sender(self.settings)
        # The catcher is local and takes everything; the limit is the relay's.
        self.limiter = RateLimiter(
            0 if self.settings.mail_catcher else self.settings.smtp_max_per_minute
        )
        timeout = self.settings.smtp_timeout_seconds
        self.send_budget = timedelta(seconds=SMTP_STEPS_PER_MESSAGE * timeout)
        self.lease = max(
            timedelta(seconds=self.settings.worker_lease_seconds),
            LEASE_PER_BUDGET * self.send_budget,
        ) + timedelta(seconds=self.limiter.interval)
        if self.hooks is None:
            self.hooks = registered_hooks()
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()

    # Control, for the process or the app that runs the worker.
    def stop(self) -> None:
        """Finish the message in flight, leave the rest of the batch to the next worker, return."""
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        """Look for due mail now rather than at the next poll (call after committing new mail)."""
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def run(self) -> None:
        """Runs until `stop()`: every `worker_poll_seconds` (or when woken), run the scheduler
        hooks, then deliver what is due. Errors are logged and retried on the next tick."""
        log.info("mail worker delivers via %s", self.target.describe())
        # Tells /readyz that a worker is alive, beside the loop (a long batch must not hide it).
        async with worker_heartbeat(database=self.database, settings=self.settings):
            await self._deliver_until_stopped()
        log.info("mail worker stopped")

    async def _deliver_until_stopped(self) -> None:
        failed_rounds = 0
        while not self.stopping:
            self._wake.clear()
            pause = self.settings.worker_poll_seconds
            try:
                await self.run_hooks()
                await self.deliver_due()
                failed_rounds = 0
            except Exception:
                failed_rounds += 1
                pause = pause_after_failures(pause, failed_rounds)
                log.exception("mail worker: this round failed; trying again in %.2g s", pause)
            if not self.stopping:
                await _wait_for_event(self._wake, pause)

    async def run_once(self) -> DeliveryReport:
        """The scheduler hooks, then everything that is due now."""
        await self.run_hooks()
        return await self.deliver_due()

    async def run_hooks(self) -> None:
        for hook in self.hooks or ():
            if self.stopping:
                return
            try:
                await hook(database=self.database, settings=self.settings, now=self.clock())
            except Exception:
                log.exception(
                    "mail worker: scheduler hook %s failed", getattr(hook, "__qualname__", hook)
                )

    async def deliver_due(self) -> DeliveryReport:
        """Batch after batch until nothing is due, the server cannot be reached, or we stop."""
        total = DeliveryReport()
        while not self.stopping:
            report = await self.deliver_batch()
            total.add(report)
            if report.claimed == 0 or report.connection_failed:
                break
            if report.released and not report.sent:
                break  # the server takes nothing just now: not another connection at once
        return total

    async def deliver_batch(self) -> DeliveryReport:
        now = self.clock()
        if not await self._anything_due(now):
            return DeliveryReport()
        owner = secrets.token_hex(16)
        lease_until = now + self.lease
        batch = await self._claim(now, owner, lease_until)
        report = DeliveryReport(claimed=len(batch))
        if not batch:
            return report
        pending = list(batch)
        try:
            async with SmtpConnection(self.target) as connection:
                while pending and not self.stopping:
                    if not await self.limiter.wait(self._stop):
                        break
                    if self.clock() + self.send_budget >= lease_until:
                        break  # the next claim takes these rows, with a fresh lease
                    row = pending.pop(0)
                    delivery = await connection.deliver(
                        sender=self.sender, recipient=row.recipient, raw=row.raw
                    )
                    lease_until, still_ours = await self._record(
                        row, delivery, owner, report, renew=pending
                    )
                    if delivery.connection_lost or not still_ours:
                        break
        except ConnectFailed as failure:
            log.warning("mail worker: %s", failure.reason)
            await self._record_connect_failure(pending, failure.reason, owner, report)
            pending = []
        finally:
            # Rows never tried go back as they were. A row in flight when we were interrupted (it
            # is no longer in `pending`) may have been accepted: it keeps its lease, and is tried
            # again only when that runs out.
            if pending:
                await asyncio.shield(self._release(pending, owner, report))
        return report

    # The database side: each step is one short write transaction.
    def _due(self, now: datetime) -> ColumnElement[bool]:
        return or_(
            and_(
                col(OutboxMessage.status) == OutboxStatus.queued,
                col(OutboxMessage.next_attempt_at) <= now,
            ),
            and_(
                col(OutboxMessage.status) == OutboxStatus.sending,
                col(OutboxMessage.lease_until) < now,
            ),
        )

    async def _anything_due(self, now: datetime) -> bool:
        # A cheap read first, so that an idle worker never takes SQLite's write lock.
        async with self.database.session() as session:
            found = await session.exec(select(OutboxMessage.id).where(self._due(now)).limit(1))
            return found.first() is not None

    async def _claim(self, now: datetime, owner: str, lease_until: datetime) -> list[_Claimed]:
        async with self.database.session(write=True) as session:
            rows = (
                await session.exec(
                    select(OutboxMessage)
                    .where(self._due(now))
                    .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return []
            ids = [row.id for row in rows]
            await session.exec(  # type: ignore[call-overload]
                update(OutboxMessage)
                .where(col(OutboxMessage.id).in_(ids))
                .values(status=OutboxStatus.sending, lease_until=lease_until, lease_owner=owner)
            )
            claimed = [
                _Claimed(
                    row.id, row.message_id, row.recipient, row.raw, row.attempts, row.created_at
                )  # type: ignore[arg-type]
                for row in rows
            ]
            await session.commit()
        return claimed

    async def _record(
        self,
        row: _Claimed,
        delivery: Delivery,
        owner: str,
        report: DeliveryReport,
        *,
        renew: list[_Claimed],
    ) -> tuple[datetime, bool]:
        """Stores what became of `row` and, in the same commit, extends the lease of the rows of
        the batch still to come. Returns the new lease, and False when some of those rows are no
        longer ours (the database was away for longer than the lease and another worker took
        them): they must not be sent by us as well."""
        values = self._outcome(row, delivery, self.clock(), report)

        async def write(session: AsyncSession) -> tuple[datetime, int, int]:
            renew_until = self.clock() + self.lease
            result = await session.exec(  # type: ignore[call-overload]
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == row.id, col(OutboxMessage.lease_owner) == owner)
                .values(**values)
            )
            renewed = 0
            if renew:
                renewed = (
                    await session.exec(  # type: ignore[call-overload]
                        update(OutboxMessage)
                        .where(
                            col(OutboxMessage.id).in_([pending.id for pending in renew]),
                            col(OutboxMessage.lease_owner) == owner,
                        )
                        .values(lease_until=renew_until)
                    )
                ).rowcount
            return renew_until, result.rowcount, renewed

        renew_until, recorded, renewed = await self._write(
            f"record the outcome of {row.message_id}", write
        )
        if recorded != 1:
            log.error(
                "mail worker: outbox row %s was taken over by another worker before its outcome "
                "(%s) was recorded",
                row.id,
                "sent" if delivery.accepted else delivery.reason,
            )
        if renewed != len(renew):
            log.warning(
                "mail worker: %s rows of this batch were taken over by another worker; "
                "leaving the rest of the batch to the next round",
                len(renew) - renewed,
            )
            return renew_until, False
        return renew_until, True

    def _outcome(
        self, row: _Claimed, delivery: Delivery, now: datetime, report: DeliveryReport
    ) -> dict:
        attempts = row.attempts + 1
        released = {"attempts": attempts, "lease_until": None, "lease_owner": None}
        if delivery.accepted:
            report.sent += 1
            return {**released, "status": OutboxStatus.sent, "sent_at": now, "last_error": None}
        if delivery.permanent:
            report.failed += 1
            log.warning("mail worker: %s refused for good: %s", row.message_id, delivery.reason)
            return {**released, "status": OutboxStatus.failed, "last_error": delivery.reason}
        give_up_at = row.created_at + GIVE_UP_AFTER
        if now >= give_up_at:
            report.failed += 1
            reason = f"gave up after {attempts} attempts: {delivery.reason}"
            log.warning("mail worker: %s %s", row.message_id, reason)
            return {**released, "status": OutboxStatus.failed, "last_error": reason[:1000]}
        report.retrying += 1
        next_attempt = min(now + retry_delay(attempts, self.rng), give_up_at)
        log.info(
            "mail worker: %s not delivered yet (%s), next attempt at %s",
            row.message_id,
            delivery.reason,
            next_attempt.isoformat(timespec="seconds"),
        )
        return {
            **released,
            "status": OutboxStatus.queued,
            "next_attempt_at": next_attempt,
            "last_error": delivery.reason,
        }

    async def _record_connect_failure(
        self, rows: list[_Claimed], reason: str, owner: str, report: DeliveryReport
    ) -> None:
        report.connection_failed = True
        now = self.clock()
        failure = Delivery(False, reason=reason, connection_lost=True)
        outcomes = [(row.id, self._outcome(row, failure, now, report)) for row in rows]

        async def write(session: AsyncSession) -> None:
            for row_id, values in outcomes:
                await session.exec(  # type: ignore[call-overload]
                    update(OutboxMessage)
                    .where(col(OutboxMessage.id) == row_id, col(OutboxMessage.lease_owner) == owner)
                    .values(**values)
                )

        await self._write("record the failed connection", write)

    async def _release(self, rows: list[_Claimed], owner: str, report: DeliveryReport) -> None:
        report.released += len(rows)

        async def write(session: AsyncSession) -> None:
            await session.exec(  # type: ignore[call-overload]
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id).in_([row.id for row in rows]),
                    col(OutboxMessage.lease_owner) == owner,
                    col(OutboxMessage.status) == OutboxStatus.sending,
                )
                .values(status=OutboxStatus.queued, lease_until=None, lease_owner=None)
            )

        try:
            await self._write(f"release {len(rows)} claimed rows", write)
        except Exception:
            # They stay claimed; their lease runs out and another round takes them.
            log.exception("mail worker: could not release %s claimed rows", len(rows))

    async def _write(self, what: str, transaction: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Runs `transaction` in a write session and commits. While the database refuses for now
        (restarting, unreachable, locked), tries again with growing pauses for as long as a lease
        lasts: what this worker holds (an outcome the server gave, rows it claimed) is written
        once the database is back, instead of waiting for the lease to run out (which would send
        the message in flight a second time). A stopping worker tries for SHUTDOWN_GRACE_SECONDS
        at most."""
        started = time.monotonic()
        pause = FIRST_WRITE_RETRY_SECONDS
        while True:
            try:
                async with self.database.session(write=True) as session:
                    result = await transaction(session)
                    await session.commit()
                return result
            except Exception as error:
                patience = self.lease.total_seconds()
                if self.stopping:
                    patience = min(patience, SHUTDOWN_GRACE_SECONDS)
                if not _worth_retrying(error) or time.monotonic() + pause > started + patience:
                    raise
                log.warning(
                    "mail worker: could not %s (%s); trying again in %.2g s",
                    what,
                    _first_line(error),
                    pause,
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_WRITE_RETRY_SECONDS)


def _worth_retrying(error: Exception) -> bool:
    """The database restarting, unreachable or locked: a later try may succeed. A mistake in a
    statement or in the data would fail the same way again."""
    if isinstance(error, IntegrityError | ProgrammingError | DataError):
        return False
    return isinstance(error, DBAPIError | OSError)


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:300] if lines else type(error).__name__


async def _wait_for_event(event: asyncio.Event, seconds: float) -> bool:
    """True when `event` was set within `seconds`."""
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def run_worker_process(settings: Settings, *, once: bool = False) -> DeliveryReport | None:
    """`meetups worker`: until SIGINT or SIGTERM (finishing the message in flight), or with
    `once`, what is due now."""
    from meetups.db import create_engine

    database = Database(create_engine(settings.resolved_database_url))
    worker = MailWorker(database=database, settings=settings)
    try:
        if once:
            return await worker.run_once()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, worker.stop)
        try:
            await worker.run()
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
        return None
    finally:
        await database.dispose()
