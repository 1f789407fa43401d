"""Fixtures of the calendar tests: an event with guests in every state (each with a personal
link), and an app that sends its mail to the test's SMTP server (the server, `mail_settings` and
the worker delivering to it, `deliver`, are shared by tests/conftest.py)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import Database, utcnow
from meetups.events.models import Event
from meetups.invitations.links import issue_link
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.web import create_app
from tests import factories
from tests.conftest import Browser


@dataclass
class Guest:
    invitee: Invitee
    contact: Contact
    token: str


@dataclass
class Party:
    event: Event
    guests: dict[str, Guest] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Guest:
        return self.guests[name]


# Who is on the list, and how they stand. Names with non-ASCII letters on purpose.
GUESTS = {
    "juergen": ("Jürgen Grünewald", "juergen@example.com", InviteeStatus.accepted, "en"),
    "davis": ("Dana D’Avis", "davis@example.com", InviteeStatus.maybe, "de"),
    "carl": ("Carl Absage", "carl@example.com", InviteeStatus.declined, "de"),
    "dora": ("Dora Offen", "dora@example.com", InviteeStatus.invited, "de"),
    # Waitlisted in the tests that need it (nobody waits while places are free, and those waiting
    # would keep the others from accepting).
    "erik": ("Erik Warteliste", "erik@example.com", InviteeStatus.invited, "de"),
    "frida": ("Frida Frage", "frida@example.com", InviteeStatus.invited, "en"),
    "nina": ("Nina Nochnicht", "nina@example.com", InviteeStatus.not_invited, "de"),
}


async def add_guest(
    session: Any,
    settings: Settings,
    event: Event,
    name: str,
    email: str,
    status: InviteeStatus,
    language: str = "de",
    **fields: Any,
) -> Guest:
    contact = await factories.make_contact(session, name=name, email=email, language=language)
    values: dict[str, Any] = {"status": status, **fields}
    if status != InviteeStatus.not_invited:
        values["invited_at"] = utcnow()
    if status == InviteeStatus.accepted:
        values.setdefault("seats", 1)
        values.setdefault("responded_at", utcnow())
    if status == InviteeStatus.waitlisted:
        values["waitlisted_at"] = utcnow()
    invitee = await factories.make_invitee(session, event, contact, **values)
    token = issue_link(invitee, settings.secret) if status != InviteeStatus.not_invited else ""
    session.add(invitee)
    await session.flush()
    return Guest(invitee, contact, token)


@pytest.fixture
async def party(session: Any, settings: Settings) -> Party:
    """A published event four weeks ahead with a guest in every state (committed)."""
    starts_at = utcnow().replace(second=0, microsecond=0) + timedelta(days=28)
    event = await factories.make_event(session, starts_at=starts_at, seats_taken=1, capacity=50)
    party = Party(event)
    for key, (name, email, status, language) in GUESTS.items():
        party.guests[key] = await add_guest(session, settings, event, name, email, status, language)
    await session.commit()
    return party


@pytest.fixture
async def organizer_browser(
    mail_settings: Settings, database: Database, session: Any
) -> AsyncIterator[Browser]:
    """A browser signed in as an organizer, on an app whose mail goes to the test's server."""
    organizer = await factories.make_organizer(session, email="olga@example.com")
    await session.commit()
    async with Browser(create_app(mail_settings, database), mail_settings.secret) as browser:
        await browser.sign_in(organizer.email)
        yield browser
