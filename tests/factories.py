"""Building test data in one place."""

from datetime import UTC, datetime, timedelta
from typing import Any

from meetups.accounts.models import Organizer, Role
from meetups.accounts.passwords import hash_password
from meetups.contacts.models import Contact
from meetups.events.models import Event, EventStatus
from meetups.invitations.models import Invitee

PASSWORD = "correct horse battery"
_PASSWORD_HASH = hash_password(PASSWORD)


async def make_organizer(
    session: Any,
    *,
    email: str = "org@example.com",
    name: str = "Olga Organizer",
    role: str = "organizer",
    active: bool = True,
) -> Organizer:
    organizer = Organizer(
        email=email, name=name, role=Role(role), password_hash=_PASSWORD_HASH, is_active=active
    )
    session.add(organizer)
    await session.flush()
    return organizer


async def make_event(session: Any, **fields: Any) -> Event:
    starts_at = fields.pop(
        "starts_at", datetime.now(UTC).replace(microsecond=0) + timedelta(days=28)
    )
    values: dict[str, Any] = {
        "slug": "bloggertreffen-montabaur",
        "title": "Bloggertreffen Montabaur",
        "description": "Ein Nachmittag mit **Feedback**.",
        "venue": "Firmenzentrale",
        "address": "Elgendorfer Straße 57, 56410 Montabaur",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=4),
        "status": EventStatus.published,
        "contact_name": "Olga Organizer",
        "contact_email": "org@example.com",
        **fields,
    }
    event = Event(**values)
    session.add(event)
    await session.flush()
    return event


async def make_contact(session: Any, **fields: Any) -> Contact:
    values: dict[str, Any] = {
        "name": "Anna Müller",
        "email": "anna.mueller@example.com",
        "language": "de",
        **fields,
    }
    contact = Contact(**values)
    session.add(contact)
    await session.flush()
    return contact


async def make_invitee(session: Any, event: Event, contact: Contact, **fields: Any) -> Invitee:
    invitee = Invitee(event_id=event.id, contact_id=contact.id, **fields)  # type: ignore[arg-type]
    session.add(invitee)
    await session.flush()
    return invitee
