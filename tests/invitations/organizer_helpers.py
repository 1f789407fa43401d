"""Arranging guest lists and reading back what the app stored and showed, for the organizer
side's tests (test_sending*, test_reminders*, test_emails_tab*, test_attendees*)."""

import re
from email.message import EmailMessage
from typing import Any

from sqlmodel import col, select

from meetups.config import Settings
from meetups.contacts.models import Contact, fold
from meetups.db import utcnow
from meetups.events.models import Event
from meetups.invitations.links import issue_link
from meetups.invitations.models import Invitee, InviteeStatus, SentReminder, Suppression
from meetups.mail.models import OutboxMessage
from tests import factories

SLUG = "bloggertreffen-montabaur"
GUESTS = f"/events/{SLUG}/guests"


async def add_guest(
    session: Any,
    event: Event,
    name: str,
    *,
    settings: Settings | None = None,
    language: str = "de",
    email: str | None = None,
    **fields: Any,
) -> Invitee:
    """A contact on the guest list; with `settings`, invited (a personal link) unless a status
    is given."""
    address = email or re.sub(r"[^a-z]+", ".", fold(name)).strip(".") + "@example.org"
    contact = await factories.make_contact(session, name=name, email=address, language=language)
    if settings is not None:
        fields = {"status": InviteeStatus.invited, "invited_at": utcnow(), **fields}
    invitee = await factories.make_invitee(session, event, contact, **fields)
    if settings is not None:
        issue_link(invitee, settings.secret)
        session.add(invitee)
        await session.flush()
    return invitee


async def suppress(session: Any, email: str, reason: str = "unsubscribed") -> None:
    session.add(Suppression(email=email, reason=reason))
    await session.flush()


async def rows(session: Any, statement: Any) -> list[Any]:
    """What the database holds now; then the session lets the app write again (SQLite has one
    writer)."""
    session.expunge_all()
    found = list((await session.exec(statement)).all())
    await session.commit()
    return found


async def outbox(session: Any, **where: Any) -> list[OutboxMessage]:
    statement = select(OutboxMessage).order_by(col(OutboxMessage.id))
    for name, value in where.items():
        statement = statement.where(getattr(OutboxMessage, name) == value)
    return await rows(session, statement)


async def invitee(session: Any, invitee_id: int) -> Invitee:
    found = await rows(session, select(Invitee).where(Invitee.id == invitee_id))
    return found[0]


async def statuses(session: Any, event: Event) -> dict[str, str]:
    """Each guest's name and status."""
    statement = (
        select(Contact.name, Invitee.status)
        .join(Invitee, col(Invitee.contact_id) == Contact.id)
        .where(Invitee.event_id == event.id)
    )
    return {name: InviteeStatus(status).value for name, status in await rows(session, statement)}


async def reminders_of(session: Any) -> list[tuple[int, str]]:
    statement = select(SentReminder.invitee_id, SentReminder.kind).order_by(
        col(SentReminder.invitee_id), col(SentReminder.kind)
    )
    return [tuple(row) for row in await rows(session, statement)]  # type: ignore[misc]


def stat(html: str, key: str) -> str:
    """The number in a stat box of the guest list (`key`: a filter such as "accepted")."""
    match = re.search(rf'class="stat stat-{key}(?: nonzero)?"[^>]*>\s*<strong>([^<]*)', html)
    assert match, f"no stat {key}"
    return match.group(1).strip()


def listed_names(html: str) -> list[str]:
    table = html[html.index("<tbody>") : html.index("</tbody>")] if "<tbody>" in html else ""
    return re.findall(r'<a href="/events/[a-z0-9-]+/guests/\d+">([^<]+)</a>', table)


def body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def link_path(text: str) -> str:
    """The personal link's path in an e-mail."""
    match = re.search(r"https?://[^/\s]+(/i/[A-Za-z0-9_-]{32})(?![A-Za-z0-9_-])", text)
    assert match, text
    return match.group(1)


def flash_of(response: Any) -> str:
    """The message a redirect leaves for the next page."""
    from urllib.parse import unquote

    return unquote(response.cookies.get("meetups_flash", ""))
