"""Fixtures of the check-in tests: an event at the door with guests in several states, and a
second event whose codes must not work here."""

from dataclasses import dataclass
from typing import Any

import pytest

from meetups.checkin.codes import checkin_code
from meetups.config import Settings
from meetups.events.models import Event
from meetups.invitations.models import InviteeStatus
from tests import factories
from tests.calendar.conftest import Guest, add_guest


@dataclass
class Door:
    event: Event
    other_event: Event
    guests: dict[str, Guest]
    stranger: Guest  # a guest of the other event
    secret: bytes

    def __getitem__(self, key: str) -> Guest:
        return self.guests[key]

    def code(self, key: str) -> str:
        guest = self.guests[key]
        return checkin_code(self.event.id or 0, guest.invitee.id or 0, self.secret)

    @property
    def url(self) -> str:
        return f"/events/{self.event.slug}/checkin"


@pytest.fixture
async def door(session: Any, settings: Settings) -> Door:
    event = await factories.make_event(session, plus_ones_allowed=True, capacity=10, seats_taken=3)
    guests = {
        "juergen": await add_guest(
            session,
            settings,
            event,
            "Jürgen Grünewald",
            "juergen@example.com",
            InviteeStatus.accepted,
            seats=2,
            plus_one_name="Zoë D’Avis",
            dietary_needs="vegetarisch, keine Nüsse",
            accessibility_needs="Rollstuhl",
        ),
        "anna": await add_guest(
            session, settings, event, "Anna Müller", "anna@example.com", InviteeStatus.accepted
        ),
        "dana": await add_guest(
            session, settings, event, "Dana Vielleicht", "dana@example.com", InviteeStatus.maybe
        ),
        "carl": await add_guest(
            session, settings, event, "Carl Absage", "carl@example.com", InviteeStatus.declined
        ),
    }
    other = await factories.make_event(
        session, slug="sommerfest", title="Sommerfest Köln", address="Domplatte, Köln"
    )
    stranger = await add_guest(
        session, settings, other, "Sven Anderswo", "sven@example.com", InviteeStatus.accepted
    )
    await session.commit()
    return Door(event, other, guests, stranger, settings.secret)
