"""Queueing: an outbox row in the caller's transaction, rendered once, stored as sent."""

import email
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest

from meetups.config import Settings
from meetups.db import Database
from meetups.mail.models import OutboxMessage, OutboxStatus
from meetups.mail.outbox import delivery_counts, queue_email
from tests import factories
from tests.smtp import outbox


def queue(session: Any, settings: Settings, **changes: Any) -> OutboxMessage:
    values: dict[str, Any] = {
        "to": "anna.mueller@example.com",
        "to_name": "Anna Müller",
        "subject": "Einladung: Bloggertreffen",
        "text": "Hallo Anna",
        "html": "<p>Hallo Anna</p>",
        "kind": "invitation",
        "reply_to": "org@example.com",
        "reply_to_name": "Olga Organizer",
        **changes,
    }
    return queue_email(session=session, settings=settings, **values)


async def test_queued_with_the_change_that_caused_it(
    database: Database, session: Any, settings: Settings
) -> None:
    event = await factories.make_event(session)
    contact = await factories.make_contact(session)
    invitee = await factories.make_invitee(session, event, contact)
    row = queue(session, settings, event_id=event.id, invitee_id=invitee.id)
    await session.commit()

    (stored,) = await outbox(database)
    assert stored.id == row.id
    assert (stored.kind, stored.event_id, stored.invitee_id) == ("invitation", event.id, invitee.id)
    assert (stored.recipient, stored.recipient_name) == ("anna.mueller@example.com", "Anna Müller")
    assert stored.subject == "Einladung: Bloggertreffen"
    assert stored.status == OutboxStatus.queued
    assert stored.attempts == 0
    assert stored.next_attempt_at == stored.created_at
    assert stored.lease_until is None
    assert stored.sent_at is None
    assert stored.last_error is None


async def test_rollback_queues_nothing(
    database: Database, session: Any, settings: Settings
) -> None:
    await factories.make_event(session)
    queue(session, settings)
    await session.rollback()
    assert await outbox(database) == []


async def test_nothing_is_written_before_the_caller_commits(
    database: Database, session: Any, settings: Settings
) -> None:
    queue(session, settings)
    assert await outbox(database) == []  # another connection sees nothing yet
    await session.commit()
    assert len(await outbox(database)) == 1


async def test_the_stored_message_is_the_complete_email(session: Any, settings: Settings) -> None:
    row = queue(session, settings, unsubscribe_url="https://meetups.example/unsubscribe/token")
    parsed = email.message_from_string(row.raw, _class=EmailMessage, policy=default_policy)
    assert parsed["Message-ID"] == row.message_id
    assert row.message_id.startswith("<")
    assert row.message_id.endswith("@testserver>")
    assert parsed["To"].addresses[0].display_name == "Anna Müller"
    assert parsed["Reply-To"].addresses[0].addr_spec == "org@example.com"
    assert parsed["From"].addresses[0].addr_spec == "meetups@localhost"
    assert parsed["List-Unsubscribe"] == "<https://meetups.example/unsubscribe/token>"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Hallo Anna</p>"


async def test_every_message_gets_its_own_message_id(session: Any, settings: Settings) -> None:
    rows = [queue(session, settings, to=f"person{n}@example.com") for n in range(20)]
    assert len({row.message_id for row in rows}) == 20


async def test_a_bad_address_is_refused_before_anything_is_stored(
    database: Database, session: Any, settings: Settings
) -> None:
    with pytest.raises(ValueError, match="e-mail address"):
        queue(session, settings, to="not an address")
    with pytest.raises(ValueError, match="kind"):
        queue(session, settings, kind="")
    await session.commit()
    assert await outbox(database) == []


async def test_deleting_the_event_keeps_the_mail_history(
    database: Database, session: Any, settings: Settings
) -> None:
    event = await factories.make_event(session)
    queue(session, settings, event_id=event.id)
    await session.commit()
    await session.delete(event)
    await session.commit()
    (stored,) = await outbox(database)
    assert stored.event_id is None


async def test_delivery_counts_by_status(session: Any, settings: Settings) -> None:
    event = await factories.make_event(session)
    other = await factories.make_event(session, slug="another-event")
    rows = [queue(session, settings, event_id=event.id, to=f"p{n}@example.com") for n in range(4)]
    queue(session, settings, event_id=other.id)
    queue(session, settings, event_id=event.id, kind="reminder")
    rows[0].status = OutboxStatus.sent
    rows[1].status = OutboxStatus.failed
    await session.commit()

    counts = await delivery_counts(session=session, event_id=event.id, kind="invitation")
    assert counts == {
        OutboxStatus.queued: 2,
        OutboxStatus.sending: 0,
        OutboxStatus.sent: 1,
        OutboxStatus.failed: 1,
    }
    everything = await delivery_counts(session=session, event_id=event.id)
    assert everything[OutboxStatus.queued] == 3
