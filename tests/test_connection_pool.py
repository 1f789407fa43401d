"""Pages that write a little on the side (a wrong link counted, a feed's last fetch, a claim seen)
do it in a session of their own after handing the request's pooled connection back. With a pool
of one connection, any request that holds one connection while it waits for a second would wait
for itself and fail after the pool's timeout (a burst of such requests did, in bench/)."""

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlmodel import select

from meetups.calendar import feeds
from meetups.calendar.models import CalendarFeed
from meetups.config import Settings
from meetups.db import Database, create_engine
from meetups.deps import SESSION_COOKIE
from meetups.invitations.models import Invitee
from meetups.travel.models import Claim, ClaimStatus
from meetups.web import create_app
from tests import factories
from tests.conftest import Browser
from tests.invitations.rsvp_helpers import invite
from tests.travel.conftest import make_guest, make_travel_event
from tests.travel.helpers import make_claim


@pytest.fixture
async def one_connection(settings: Settings) -> AsyncIterator[Database]:
    database = Database(
        create_engine(settings.resolved_database_url, pool_size=1, max_overflow=0, pool_timeout=3)
    )
    yield database
    await database.dispose()


@pytest.fixture
async def lean_browser(settings: Settings, one_connection: Database) -> AsyncIterator[Browser]:
    async with Browser(create_app(settings, one_connection), settings.secret) as client:
        yield client


async def test_the_first_opening_of_an_invitation_needs_one_connection(
    lean_browser: Browser, session: Any, settings: Settings
) -> None:
    event = await factories.make_event(session)
    invitee, token = await invite(session, settings, event)
    await session.commit()

    response = await lean_browser.get(f"/i/{token}")

    assert response.status_code == 200
    stored = (await session.exec(select(Invitee).where(Invitee.id == invitee.id))).one()
    await session.refresh(stored)
    assert stored.opened_at is not None


async def test_a_wrong_personal_link_is_counted_with_one_connection(lean_browser: Browser) -> None:
    response = await lean_browser.get("/i/" + "A" * 32)

    assert response.status_code == 404


async def test_a_wrong_calendar_link_is_counted_with_one_connection(
    lean_browser: Browser,
) -> None:
    response = await lean_browser.get("/i/" + "A" * 32 + "/calendar.ics")

    assert response.status_code == 404


async def test_a_calendar_feed_notes_its_fetch_with_one_connection(
    lean_browser: Browser, session: Any, settings: Settings
) -> None:
    organizer = await factories.make_organizer(session)
    feed = await feeds.new_feed_address(organizer, session=session, secret=settings.secret)
    url, _webcal = feeds.feed_urls(feed, settings)
    await session.commit()

    response = await lean_browser.get(urlsplit(url).path)

    assert response.status_code == 200
    stored = (await session.exec(select(CalendarFeed))).one()
    await session.refresh(stored)
    assert stored.last_fetched_at is not None


async def test_a_spent_password_reset_link_is_counted_with_one_connection(
    lean_browser: Browser,
) -> None:
    response = await lean_browser.get("/password-reset/" + "A" * 43)

    assert response.status_code == 404


async def test_a_stale_session_is_sent_to_sign_in_with_one_connection(
    lean_browser: Browser, session: Any
) -> None:
    await factories.make_organizer(session)
    await session.commit()
    lean_browser.cookies.set(SESSION_COOKIE, "not-a-session")

    response = await lean_browser.get("/events")

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


async def test_opening_a_submitted_claim_marks_it_seen_with_one_connection(
    lean_browser: Browser, session: Any, settings: Settings
) -> None:
    organizer = await factories.make_organizer(session, role="organizer")
    event = await make_travel_event(session)
    guest = await make_guest(session, settings, event)
    claim = await make_claim(session, guest, status=ClaimStatus.submitted, amounts=[4_200])
    await session.commit()
    await lean_browser.sign_in(organizer.email)

    response = await lean_browser.get(f"/events/{event.slug}/travel/claims/{claim.id}")

    assert response.status_code == 200
    stored = (await session.exec(select(Claim).where(Claim.id == claim.id))).one()
    await session.refresh(stored)
    assert stored.seen_at is not None
