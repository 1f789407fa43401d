"""The guest's side of the calendar: "Add to calendar" on their page (the .ics download, Google
Calendar and Outlook.com links), the check-in QR code there, and the parts of their e-mails."""

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from meetups.calendar.invites import guest_email_parts, web_calendar_links
from meetups.checkin.codes import parse_code
from meetups.config import Settings
from meetups.events.models import Event, EventStatus
from tests.calendar.conftest import Party
from tests.calendar.parsing import parse_both, utc
from tests.conftest import Browser, text_of


async def test_an_accepted_guest_downloads_their_entry(party: Party, browser: Browser) -> None:
    guest = party["juergen"]
    response = await browser.get(f"/i/{guest.token}/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="bloggertreffen-montabaur.ics"'
    )
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    parsed = parse_both(response.content)
    event = parsed.event
    assert parsed.icalendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == f"meetups-event-{party.event.id}@testserver"
    assert utc(event["DTSTART"].dt) == party.event.starts_at
    assert event["ATTENDEE"].params["CN"] == "Jürgen Grünewald"
    assert event["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    assert str(event["URL"]) == f"http://testserver/i/{guest.token}"
    # In the guest's language (English for Jürgen).
    assert "Your invitation page" in str(event["DESCRIPTION"])


async def test_each_guest_gets_their_own_answer(party: Party, browser: Browser) -> None:
    response = await browser.get(f"/i/{party['davis'].token}/calendar.ics")
    event = parse_both(response.content).event
    assert event["ATTENDEE"].params["PARTSTAT"] == "TENTATIVE"
    assert event["ATTENDEE"].params["CN"] == "Dana D’Avis"
    assert str(event["DESCRIPTION"]).endswith(f"http://testserver/i/{party['davis'].token}")


async def test_a_cancelled_event_downloads_as_a_cancellation(
    party: Party, browser: Browser, session: Any
) -> None:
    event = await session.get(Event, party.event.id)
    event.status, event.sequence = EventStatus.cancelled, 1
    session.add(event)
    await session.commit()
    response = await browser.get(f"/i/{party['juergen'].token}/calendar.ics")
    parsed = parse_both(response.content)
    assert parsed.icalendar["METHOD"] == "CANCEL"
    assert str(parsed.event["STATUS"]) == "CANCELLED"


@pytest.mark.parametrize("token", ["nope", "A" * 32, "x" * 500, "%00", "ä" * 32])
async def test_a_wrong_link_downloads_nothing(party: Party, browser: Browser, token: str) -> None:
    for path in (f"/i/{token}/calendar.ics", f"/i/{token}/checkin.svg"):
        response = await browser.get(path)
        assert response.status_code == 404
        assert "BEGIN:VCALENDAR" not in response.text
        assert "This link does not work" in response.text


async def test_the_page_offers_the_calendar_and_the_code_once_accepted(
    party: Party, browser: Browser, settings: Settings
) -> None:
    guest = party["juergen"]
    page = (await browser.get(f"/i/{guest.token}")).text
    assert f'href="/i/{guest.token}/calendar.ics"' in page
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE" in page
    assert "https://outlook.live.com/calendar/0/action/compose?" in page
    assert f'src="/i/{guest.token}/checkin.svg"' in page
    text = text_of(page)
    assert "Add to your calendar" in text
    assert "Your check-in code" in text
    assert "go by e-mail to org@example.com" in text
    # The code printed under the QR code is the guest's genuine code.
    code = next(word for word in text.split() if word.startswith(f"{party.event.id}-"))
    parsed = parse_code(code, settings.secret)
    assert parsed is not None
    assert parsed.invitee_id == guest.invitee.id

    svg = await browser.get(f"/i/{guest.token}/checkin.svg")
    assert svg.status_code == 200
    assert svg.headers["content-type"] == "image/svg+xml"
    assert svg.content.startswith(b"<svg")
    assert b"<script" not in svg.content


async def test_maybe_gets_the_calendar_but_no_code(party: Party, browser: Browser) -> None:
    guest = party["davis"]
    page = (await browser.get(f"/i/{guest.token}")).text
    assert f"/i/{guest.token}/calendar.ics" in page
    assert "checkin.svg" not in page
    assert (await browser.get(f"/i/{guest.token}/checkin.svg")).status_code == 404


@pytest.mark.parametrize("key", ["dora", "carl"])
async def test_without_an_acceptance_neither(party: Party, browser: Browser, key: str) -> None:
    guest = party[key]
    page = (await browser.get(f"/i/{guest.token}")).text
    assert "calendar.ics" not in page
    assert "checkin.svg" not in page
    assert "calendar.google.com" not in page


async def test_accepting_with_htmx_shows_both_at_once(party: Party, browser: Browser) -> None:
    guest = party["dora"]
    response = await browser.submit(f"/i/{guest.token}", {"answer": "accepted"}, htmx=True)
    assert response.status_code == 200
    assert f"/i/{guest.token}/calendar.ics" in response.text
    assert f"/i/{guest.token}/checkin.svg" in response.text


def test_web_calendar_links_fill_in_the_event() -> None:
    event = Event(
        id=5,
        slug="treffen",
        title="Treffen  mit Jürgen",
        description="Mit **Kaffee** & Kuchen.",
        venue="Café Grünewald",
        address="Markt 1, Montabaur",
        timezone="Europe/Berlin",
        starts_at=datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
        ends_at=datetime(2026, 3, 29, 2, 0, tzinfo=UTC),
        status=EventStatus.published,
    )
    links = web_calendar_links(event)
    google = parse_qs(urlsplit(links.google).query)
    assert urlsplit(links.google).netloc == "calendar.google.com"
    assert google["action"] == ["TEMPLATE"]
    assert google["text"] == ["Treffen mit Jürgen"]
    assert google["dates"] == ["20260329T003000Z/20260329T020000Z"]
    assert google["ctz"] == ["Europe/Berlin"]
    assert google["details"] == ["Mit Kaffee & Kuchen."]
    assert google["location"] == ["Café Grünewald, Markt 1, Montabaur"]
    outlook = parse_qs(urlsplit(links.outlook).query)
    assert urlsplit(links.outlook).netloc == "outlook.live.com"
    assert outlook["subject"] == ["Treffen mit Jürgen"]
    assert outlook["startdt"] == ["2026-03-29T00:30:00Z"]
    assert outlook["enddt"] == ["2026-03-29T02:00:00Z"]
    assert outlook["location"] == ["Café Grünewald, Markt 1, Montabaur"]
    assert outlook["rru"] == ["addevent"]


def test_web_calendar_links_keep_long_descriptions_short() -> None:
    event = Event(
        id=5,
        slug="x",
        title="x",
        description="Wort " * 1000,
        timezone="UTC",
        starts_at=datetime(2026, 3, 29, 9, tzinfo=UTC),
        ends_at=datetime(2026, 3, 29, 10, tzinfo=UTC),
    )
    links = web_calendar_links(event)
    details = parse_qs(urlsplit(links.google).query)["details"][0]
    assert len(details) <= 1000
    assert details.endswith("…")


async def test_email_parts_follow_the_answer(party: Party, settings: Settings) -> None:
    event = party.event
    accepted = guest_email_parts(
        event,
        party["juergen"].invitee,
        party["juergen"].contact,
        settings=settings,
        calendar=True,
        checkin=True,
    )
    (alternative,) = accepted.alternatives
    assert (alternative.content_type, dict(alternative.params)) == (
        "text/calendar",
        {"method": "REQUEST"},
    )
    assert [a.filename for a in accepted.attachments] == ["invite.ics", "check-in-code.png"]
    assert accepted.attachments[1].content.startswith(b"\x89PNG")
    assert accepted.context["calendar_attached"] is True
    assert accepted.checkin_code

    maybe = guest_email_parts(
        event,
        party["davis"].invitee,
        party["davis"].contact,
        settings=settings,
        calendar=True,
        checkin=True,
    )
    assert [a.filename for a in maybe.attachments] == ["invite.ics"]
    assert maybe.checkin_code is None

    for key in ("carl", "dora"):
        nothing = guest_email_parts(
            event,
            party[key].invitee,
            party[key].contact,
            settings=settings,
            calendar=True,
            checkin=True,
        )
        assert (nothing.alternatives, nothing.attachments) == ((), ())
        assert nothing.context == {
            "checkin_code": None,
            "calendar_attached": False,
            "calendar_cancelled": False,
        }

    event.status = EventStatus.cancelled
    cancelled = guest_email_parts(
        event,
        party["juergen"].invitee,
        party["juergen"].contact,
        settings=settings,
        calendar=True,
        checkin=True,
    )
    assert dict(cancelled.alternatives[0].params) == {"method": "CANCEL"}
    assert cancelled.context["calendar_cancelled"] is True
    assert cancelled.checkin_code is None  # nobody to check in at a cancelled event
