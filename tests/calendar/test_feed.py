"""The organizers' subscription feed: a secret webcal address per organizer, revocable."""

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from meetups.accounts.models import Organizer
from meetups.calendar.models import CalendarFeed
from meetups.db import utcnow
from meetups.events.models import EventStatus
from tests import factories
from tests.calendar.parsing import parse_both
from tests.conftest import Browser, sign_in_as, text_of

FEED_URL = re.compile(r'value="(http://testserver/feeds/[A-Za-z0-9_-]{32}\.ics)"')


async def create_address(browser: Browser) -> str:
    response = await browser.submit("/settings/calendar/address")
    assert response.status_code == 303
    page = (await browser.get("/settings/calendar")).text
    match = FEED_URL.search(page)
    assert match, page
    assert match.group(1).replace("http://", "webcal://") in page
    return match.group(1).removeprefix("http://testserver")


async def test_subscribe_to_all_published_events(
    signed_in: Browser, session: Any, app: Any, settings: Any
) -> None:
    now = utcnow().replace(microsecond=0)
    await factories.make_event(
        session, slug="ahead", title="Treffen Jürgen", starts_at=now + timedelta(days=9)
    )
    await factories.make_event(
        session,
        slug="in-new-york",
        title="New York",
        timezone="America/New_York",
        starts_at=now + timedelta(days=40),
    )
    await factories.make_event(session, slug="draft", title="Entwurf", status=EventStatus.draft)
    await factories.make_event(session, slug="off", title="Abgesagt", status=EventStatus.cancelled)
    await factories.make_event(
        session, slug="long-ago", title="Vor langer Zeit", starts_at=now - timedelta(days=800)
    )
    await factories.make_event(
        session, slug="last-month", title="Letzten Monat", starts_at=now - timedelta(days=30)
    )
    await session.commit()

    page = text_of((await signed_in.get("/settings/calendar")).text)
    assert "You have no calendar address yet." in page
    path = await create_address(signed_in)

    # Calendar apps fetch it without cookies.
    async with Browser(app, settings.secret) as calendar_app:
        response = await calendar_app.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    parsed = parse_both(response.content)
    assert parsed.icalendar["METHOD"] == "PUBLISH"
    assert [str(event["SUMMARY"]) for event in parsed.events] == [
        "Letzten Monat",
        "Treffen Jürgen",
        "New York",
    ]
    assert all("ATTENDEE" not in event for event in parsed.events)
    assert str(parsed.events[1]["URL"]) == "http://testserver/events/ahead"
    assert {str(zone["TZID"]) for zone in parsed.icalendar.walk("VTIMEZONE")} == {
        "Europe/Berlin",
        "America/New_York",
    }
    # The page notes when a calendar last fetched it.
    assert "Last fetched by a calendar" in text_of((await signed_in.get("/settings/calendar")).text)


async def test_a_new_address_revokes_the_old_one(signed_in: Browser) -> None:
    old = await create_address(signed_in)
    new = await create_address(signed_in)
    assert new != old
    assert (await signed_in.get(old)).status_code == 404
    assert (await signed_in.get(new)).status_code == 200


async def test_turning_it_off(signed_in: Browser, session: Any) -> None:
    path = await create_address(signed_in)
    response = await signed_in.submit("/settings/calendar/off")
    assert response.status_code == 303
    assert (await signed_in.get(path)).status_code == 404
    page = text_of((await signed_in.get("/settings/calendar")).text)
    assert "You have no calendar address yet." in page
    assert (await session.exec(select(CalendarFeed))).all() == []


async def test_the_database_alone_cannot_reveal_the_address(
    signed_in: Browser, session: Any
) -> None:
    path = await create_address(signed_in)
    token = path.removeprefix("/feeds/").removesuffix(".ics")
    (feed,) = (await session.exec(select(CalendarFeed))).all()
    assert token not in (feed.nonce, feed.lookup)


async def test_an_organizer_who_left_loses_the_feed(
    signed_in: Browser, session: Any, admin: Organizer
) -> None:
    path = await create_address(signed_in)
    organizer = await session.get(Organizer, admin.id)
    organizer.is_active = False
    session.add(organizer)
    await session.commit()
    assert (await signed_in.get(path)).status_code == 404


async def test_each_organizer_has_their_own(browser: Browser, session: Any) -> None:
    await sign_in_as(browser, session, "viewer")  # viewers may look, so they may subscribe
    path = await create_address(browser)
    assert (await browser.get(path)).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/nope.ics",
        "/feeds/" + "A" * 32 + ".ics",
        "/feeds/%00.ics",
        "/feeds/" + "x" * 900 + ".ics",
    ],
)
async def test_wrong_addresses(browser: Browser, path: str) -> None:
    response = await browser.get(path)
    assert response.status_code == 404
    assert "BEGIN:VCALENDAR" not in response.text


async def test_the_settings_need_a_sign_in(browser: Browser, admin: Organizer) -> None:
    response = await browser.get("/settings/calendar")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    response = await browser.submit("/settings/calendar/address")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
