"""kill -9 while 1,000 invitations go out: the real `meetups serve` (without its embedded worker)
and a separate `meetups worker`, an organizer clicking "Send invitations" over HTTP, and a real
SMTP server that records what arrives.

1. The web process is killed while it works on the send request: the request is one
   transaction, so nobody is invited and nothing is queued (not some of them).
2. After a restart the organizer clicks again: all 1,000 are invited and queued at once.
3. While the worker delivers, the web process is killed, and then the worker, a few hundred
   messages in. Both restart.
Afterwards every invitee has got their invitation, exactly one Message-ID each (the message in
flight at the worker's death may arrive twice, byte for byte the same), no e-mail is left queued,
being sent or failed, and the guest list's numbers say 1,000 invited."""

import asyncio
import re
import sqlite3
from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlmodel import select

from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import Database
from meetups.events.models import Event
from meetups.invitations.models import Invitee
from meetups.invitations.tracking import delivery_progress, guest_list_counts
from meetups.mail.models import OutboxMessage, OutboxStatus
from meetups.mail.outbox import delivery_counts
from tests import factories
from tests.conftest import text_of
from tests.faults.processes import Cli, environment, wait_for, wait_until_serving
from tests.network import free_port
from tests.smtp import ReceivedMail, SmtpServer, relay_settings

pytestmark = pytest.mark.slow

GUESTS = 1000
KILL_WEB_AT = 250  # messages delivered
KILL_WORKER_AT = 420  # in the middle of a batch of 50: it holds 30 more
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _guest_list_of_1000(database: Database) -> Event:
    async with database.session(write=True) as session:
        await factories.make_organizer(session, email="olga@example.com", role="organizer")
        event = await factories.make_event(session)
        contacts = [
            Contact(name=f"Blogger {number:04d}", email=f"blogger{number:04d}@example.com")
            for number in range(GUESTS)
        ]
        session.add_all(contacts)
        await session.flush()
        session.add_all(Invitee(event_id=event.id, contact_id=contact.id) for contact in contacts)  # type: ignore[arg-type]
        await session.commit()
        return event


class Organizer:
    """An organizer's browser, talking HTTP to the live server: forms carry their CSRF token."""

    def __init__(self, url: str) -> None:
        self.client = httpx.AsyncClient(base_url=url, timeout=60)

    async def form_token(self, path: str) -> tuple[str, str]:
        page = await self.client.get(path)
        assert page.status_code == 200, page.text
        match = _CSRF.search(page.text)
        assert match, page.text
        return match.group(1), page.text

    async def post(self, path: str, token: str, **data: str) -> httpx.Response:
        return await self.client.post(
            path, data={**data, "csrf_token": token}, headers={"Sec-Fetch-Site": "same-origin"}
        )

    async def sign_in(self) -> None:
        token, _page = await self.form_token("/login")
        response = await self.post(
            "/login", token, email="olga@example.com", password=factories.PASSWORD
        )
        assert response.status_code == 303, response.text


@pytest.fixture
async def organizer() -> AsyncIterator[Organizer]:
    port = free_port()
    organizer = Organizer(f"http://127.0.0.1:{port}")
    yield organizer
    await organizer.client.aclose()


async def _send_transaction_open(database: Database, settings: Settings) -> bool:
    """Whether a write transaction is under way (the web process's, the only writer now)."""
    url = settings.resolved_database_url
    if database.is_sqlite:
        return await asyncio.to_thread(_sqlite_write_locked, make_url(url).database)
    target = make_url(url)
    connection = await asyncpg.connect(
        target.set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        # FOR UPDATE on the event's row gives the transaction an id: it has locked and not ended.
        return bool(
            await connection.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 "
                "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()",
                target.database,
            )
        )
    finally:
        await connection.close()


def _sqlite_write_locked(path: str) -> bool:
    connection = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        if "locked" not in str(error):
            raise
        return True
    else:
        connection.execute("ROLLBACK")
        return False
    finally:
        connection.close()


async def _invitations(database: Database, event: Event) -> list[OutboxMessage]:
    async with database.session() as session:
        query = select(OutboxMessage).where(OutboxMessage.event_id == event.id)
        return list((await session.exec(query)).all())


async def _by_status(database: Database, event: Event) -> dict[OutboxStatus, int]:
    """Counted by the database: the test's event loop also runs the SMTP server, which must
    answer within the worker's timeout, so polls must not load 1,000 messages."""
    async with database.session() as session:
        return await delivery_counts(session=session, event_id=event.id)  # type: ignore[arg-type]


async def _invited_count(database: Database, event: Event) -> int:
    async with database.session() as session:
        return (await guest_list_counts(event, session=session)).invited


async def test_kill_9_of_web_and_worker_while_1000_invitations_go_out(
    database: Database,
    settings: Settings,
    smtp_server: SmtpServer,
    organizer: Organizer,
    tmp_path: Path,
) -> None:
    event = await _guest_list_of_1000(database)
    guests_page = f"/events/{event.slug}/guests"
    url = str(organizer.client.base_url).rstrip("/")
    port = url.rsplit(":", 1)[1]
    mail_settings = relay_settings(settings, smtp_server, smtp_timeout_seconds=1.0)
    env = environment(mail_settings, tmp_path, base_url=url, worker_in_serve="false")
    web = Cli(["serve", "--port", port], env, tmp_path)
    # A lease of 12.5 s (2.5 budgets of five 1-second timeouts): the rows the killed worker held
    # go out that long after its death.
    worker = Cli(
        ["worker"],
        {**env, "MEETUPS_WORKER_POLL_SECONDS": "0.2", "MEETUPS_WORKER_LEASE_SECONDS": "1"},
        tmp_path,
    )
    try:
        await web.start()
        await wait_until_serving(web, url)
        await organizer.sign_in()
        token, page = await organizer.form_token(guests_page)
        assert "Send invitations to 1,000 people" in text_of(page)

        # 1. Killed while the send request is under way: all or nothing, and here nothing.
        sending = asyncio.create_task(organizer.post(f"{guests_page}/invite", token))

        async def under_way() -> bool:
            assert not sending.done(), "the send request ended before it could be interrupted"
            return await _send_transaction_open(database, settings)

        await wait_for(under_way, seconds=30, what="the send request's transaction", interval=0.02)
        await asyncio.sleep(0.2)  # into the rendering of the 1,000 e-mails
        assert await _send_transaction_open(database, settings)
        web.kill()
        assert await web.wait() < 0
        with pytest.raises(httpx.TransportError):
            await sending  # the organizer's browser got no answer
        assert sum((await _by_status(database, event)).values()) == 0
        assert await _invited_count(database, event) == 0

        # 2. Restarted, the organizer clicks again: everyone is invited and queued at once.
        await web.start()
        await wait_until_serving(web, url)
        await worker.start()
        delivered = smtp_server.messages

        def kill_on_the_way(mail: ReceivedMail) -> None:
            loop = asyncio.get_running_loop()
            if len(delivered) == KILL_WEB_AT:
                loop.call_soon(web.kill)
            elif len(delivered) == KILL_WORKER_AT:
                # Right after the server's "250": the worker is recording it or sending the next.
                loop.call_soon(worker.kill)

        smtp_server.behaviour.on_message = kill_on_the_way
        token, page = await organizer.form_token(guests_page)
        response = await organizer.post(f"{guests_page}/invite", token)
        assert response.status_code == 303, response.text
        assert sum((await _by_status(database, event)).values()) == GUESTS
        assert await _invited_count(database, event) == GUESTS

        # 3. Both killed on the way, then restarted.
        assert await web.wait(120) < 0, web.output()
        assert await worker.wait(120) < 0, worker.output()
        stored = await _invitations(database, event)
        marked_sent = {row.message_id for row in stored if row.status == OutboxStatus.sent}
        held_by_the_dead = [row for row in stored if row.status == OutboxStatus.sending]
        assert KILL_WORKER_AT - 1 <= len(marked_sent) < GUESTS
        assert held_by_the_dead  # its batch, under a lease nobody renews
        smtp_server.behaviour.on_message = None
        await web.start()
        await worker.start()
        await wait_until_serving(web, url)

        async def all_sent() -> bool:
            assert worker.running, worker.output()
            return (await _by_status(database, event))[OutboxStatus.sent] == GUESTS

        await wait_for(all_sent, seconds=180, what="every invitation marked sent", interval=0.5)

        # Clicking again after all that sends nobody a second invitation.
        token, page = await organizer.form_token(guests_page)
        again = await organizer.post(f"{guests_page}/invite", token)
        assert again.status_code == 422
        assert "Everyone on the guest list has had an invitation already." in again.text
        token, page = await organizer.form_token(guests_page)
    finally:
        for process in (worker, web):
            if process.process is not None:
                await process.stop()

    stored = await _invitations(database, event)
    assert len(stored) == GUESTS
    assert {row.status for row in stored} == {OutboxStatus.sent}
    assert all(row.lease_owner is None for row in stored)
    # What the SMTP server got: every invitee, one Message-ID each, the ones stored.
    emails = {f"blogger{number:04d}@example.com" for number in range(GUESTS)}
    by_recipient: dict[str, set[str]] = defaultdict(set)
    for mail in smtp_server.messages:
        (recipient,) = mail.recipients
        by_recipient[recipient].add(mail.message_id)
    assert set(by_recipient) == emails
    assert all(len(message_ids) == 1 for message_ids in by_recipient.values())
    counts = smtp_server.counts()
    assert set(counts) == {row.message_id for row in stored}
    # Sent twice at most: the message in flight when the worker died (accepted, not yet marked).
    twice = [message_id for message_id, count in counts.items() if count > 1]
    assert len(twice) <= 1
    assert set(twice).isdisjoint(marked_sent)
    for message_id in twice:
        copies = {mail.data for mail in smtp_server.messages if mail.message_id == message_id}
        assert len(copies) == 1

    # The guest list's numbers, as the domain counts them and as the page shows them.
    async with database.session() as session:
        numbers = await guest_list_counts(event, session=session)
        progress = await delivery_progress(event, session=session)
        invitees_mailed = (
            await session.exec(
                select(func.count(func.distinct(OutboxMessage.invitee_id))).where(
                    OutboxMessage.event_id == event.id
                )
            )
        ).one()
    assert invitees_mailed == GUESTS  # one invitation each (1,000 rows, 1,000 invitees)
    assert (numbers.on_list, numbers.not_invited, numbers.invited) == (GUESTS, 0, GUESTS)
    assert (numbers.no_answer, numbers.bounced, numbers.unsubscribed) == (GUESTS, 0, 0)
    assert (progress.sent, progress.queued, progress.sending, progress.failed) == (
        GUESTS,
        0,
        0,
        0,
    )
    shown = text_of(page)
    assert "1,000 On the list" in shown
    assert "0 Not invited yet" in shown
    assert "1,000 Invited" in shown
    assert "1,000 No answer yet" in shown
    assert "0 Bounced" in shown
    assert "Everyone on the list who can get e-mail has been invited." in shown
