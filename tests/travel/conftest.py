"""Fixtures of the travel tests: an event that is over and reimburses travel costs, guests with
personal links, and receipt files (organizers signed in with each role are shared by
tests/conftest.py)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.events.models import Event
from meetups.invitations.links import issue_link
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.travel.samples import receipt_pdf, receipt_png
from tests import factories

CAP_CENTS = 150_00


@dataclass
class Guest:
    invitee: Invitee
    contact: Contact
    token: str

    @property
    def url(self) -> str:
        return f"/i/{self.token}/travel"


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


async def make_travel_event(session: Any, **fields: Any) -> Event:
    starts_at = fields.pop("starts_at", _now() - timedelta(days=3))
    values: dict[str, Any] = {
        "slug": "blogger-feedback",
        "title": "Blogger-Feedback Montabaur",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(hours=4),
        "travel_enabled": True,
        "travel_cap_cents": CAP_CENTS,
        "travel_mileage_rate_cents": 30,
        "travel_claim_deadline": starts_at + timedelta(days=30),
        **fields,
    }
    return await factories.make_event(session, **values)


async def make_guest(
    session: Any,
    settings: Settings,
    event: Event,
    *,
    name: str = "Anna Müller",
    email: str = "anna.mueller@example.com",
    language: str = "en",
    status: InviteeStatus = InviteeStatus.accepted,
) -> Guest:
    contact = await factories.make_contact(session, name=name, email=email, language=language)
    invitee = await factories.make_invitee(
        session, event, contact, status=status, seats=1 if status == InviteeStatus.accepted else 0
    )
    token = issue_link(invitee, settings.secret)
    session.add(invitee)
    await session.flush()
    return Guest(invitee=invitee, contact=contact, token=token)


@pytest.fixture
async def event(session: Any) -> Event:
    event = await make_travel_event(session)
    await session.commit()
    return event


@pytest.fixture
async def guest(session: Any, settings: Settings, event: Event) -> Guest:
    guest = await make_guest(session, settings, event)
    await session.commit()
    return guest


@pytest.fixture
async def other_guest(session: Any, settings: Settings, event: Event) -> Guest:
    guest = await make_guest(
        session, settings, event, name="Ben Berger", email="ben.berger@example.com"
    )
    await session.commit()
    return guest


@pytest.fixture
def png() -> bytes:
    return receipt_png()


@pytest.fixture
def pdf() -> bytes:
    return receipt_pdf(["Deutsche Bahn", "ICE Köln – Montabaur", "Summe 49,90 EUR"])
