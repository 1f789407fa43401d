"""Arranging invitees with personal links, and reading back what the app stored, for the tests of
the invitee's side (test_rsvp*, test_waitlist*, test_messages*, test_unsubscribe*)."""

import re
from typing import Any

from sqlmodel import col, select

from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import utcnow
from meetups.events.models import Event
from meetups.invitations.links import issue_link
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.mail.models import OutboxMessage
from tests import factories


async def invite(
    session: Any, settings: Settings, event: Event, contact: Contact | None = None, **fields: Any
) -> tuple[Invitee, str]:
    """An invited guest with a personal link (flushed, not committed) and the link's token."""
    contact = contact or await factories.make_contact(session)
    values: dict[str, Any] = {"status": InviteeStatus.invited, "invited_at": utcnow(), **fields}
    invitee = await factories.make_invitee(session, event, contact, **values)
    token = issue_link(invitee, settings.secret)
    session.add(invitee)
    await session.flush()
    return invitee, token


async def invite_many(
    session: Any, settings: Settings, event: Event, count: int, *, language: str = "de"
) -> list[tuple[Invitee, str]]:
    guests = []
    for number in range(count):
        contact = await factories.make_contact(
            session,
            name=f"Guest {number:03d}",
            email=f"guest{number:03d}@example.com",
            language=language,
        )
        guests.append(await invite(session, settings, event, contact))
    return guests


async def fresh(session: Any, model: type, row_id: int) -> Any:
    """The row as the database has it now; the session is left without a transaction, so the
    app can write again (SQLite has one writer)."""
    session.expunge_all()
    row = await session.get(model, row_id)
    await session.commit()
    return row


async def all_rows(session: Any, statement: Any) -> list[Any]:
    session.expunge_all()
    rows = list((await session.exec(statement)).all())
    await session.commit()
    return rows


async def outbox_rows(session: Any, **where: Any) -> list[OutboxMessage]:
    statement = select(OutboxMessage).order_by(col(OutboxMessage.id))
    for name, value in where.items():
        statement = statement.where(getattr(OutboxMessage, name) == value)
    return await all_rows(session, statement)


def answer_url(token: str) -> str:
    return f"/i/{token}"


def link_in(text: str) -> str:
    """The personal link's path in an e-mail's text."""
    match = re.search(r"https?://[^/\s]+(/i/[A-Za-z0-9_-]{32})", text)
    assert match, text
    return match.group(1)
