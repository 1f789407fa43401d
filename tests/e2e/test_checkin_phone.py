"""The door, on a phone (390×844) in a real browser against `meetups serve`: find guests by
code and by name, check them in with one tap and undo it, watch the counts move, refuse a wrong
code, add a walk-in. And the guest's side: their page shows "Add to calendar" and the QR code."""

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor

from playwright.sync_api import Browser, expect
from sqlmodel import select

from meetups.checkin.codes import checkin_code
from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import Database, create_engine, utcnow
from meetups.events.models import Event
from meetups.invitations.links import issue_link
from meetups.invitations.models import Invitee, InviteeStatus
from tests.e2e.conftest import (
    LiveServer,
    assert_fits_the_screen,
    new_organizer_page,
    new_phone_context,
    screenshot,
    sign_in_as_demo_organizer,
)

SLUG = "bloggertreffen-montabaur"
DESK = f"/events/{SLUG}/checkin"


async def _accept_some(settings: Settings) -> dict[str, str]:
    """Three of the demo's guests accepted (one with a plus-one and needs); returns their
    check-in codes by name, and the personal link of the first."""
    database = Database(create_engine(settings.resolved_database_url))
    found: dict[str, str] = {}
    try:
        async with database.session(write=True) as session:
            event = (await session.exec(select(Event).where(Event.slug == SLUG))).one()
            rows = (
                await session.exec(
                    select(Invitee, Contact)
                    .join(Contact, Contact.id == Invitee.contact_id)  # type: ignore[arg-type]
                    .where(Invitee.event_id == event.id)
                    .order_by(Invitee.id)
                    .limit(3)
                )
            ).all()
            for number, (invitee, contact) in enumerate(rows):
                invitee.status = InviteeStatus.accepted
                invitee.invited_at = invitee.responded_at = utcnow()
                invitee.seats = 1
                if number == 0:
                    event.plus_ones_allowed = True
                    invitee.plus_one_name = "Zoë D’Avis"
                    invitee.seats = 2
                    invitee.dietary_needs = "Vegetarisch, keine Nüsse"
                    invitee.accessibility_needs = "Stufenloser Zugang"
                    found["link"] = issue_link(invitee, settings.secret)
                else:
                    issue_link(invitee, settings.secret)
                session.add(invitee)
                await session.flush()
                found[contact.name] = checkin_code(event.id or 0, invitee.id or 0, settings.secret)
            event.seats_taken = 4
            session.add(event)
            await session.commit()
    finally:
        await database.dispose()
    return found


def _accept_some_guests(live_server: LiveServer) -> dict[str, str]:
    """`_accept_some` on the live server's database."""
    # Playwright's sync API runs an event loop in this thread: the seeding gets a thread of its own.
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, _accept_some(live_server.settings)).result()


def test_checking_in_at_the_door_on_a_phone(live_server: LiveServer, chromium: Browser) -> None:
    password = live_server.load_demo()
    guests = _accept_some_guests(live_server)
    link = guests.pop("link")
    (first, first_code), (second, _code), _third = list(guests.items())

    context = new_phone_context(chromium, touch=True)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in_as_demo_organizer(page, live_server, password)

    # From the event's tabs to the check-in page.
    page.goto(f"{live_server.url}/events/{SLUG}")
    page.get_by_role("link", name="Check-in").click()
    expect(page).to_have_url(f"{live_server.url}{DESK}")
    counts = page.locator("#checkin-counts")
    expect(counts).to_contain_text("0 / 4")
    expect(page.locator("#checkin-results .guest-card")).to_have_count(3)
    # This Chromium cannot read QR codes itself: the page says what to do instead.
    expect(page.locator("[data-scan-unsupported]")).to_be_visible()
    expect(page.locator("[data-scan-start]")).to_be_hidden()
    assert_fits_the_screen(page)
    screenshot(page, "checkin-desk")

    # A code typed in (as a scanner would put it): the guest with their plus-one and needs.
    page.locator("#checkin-code").fill(first_code.lower())
    page.locator("[data-code-form] button").click()
    card = page.locator("#checkin-result .guest-card")
    expect(card).to_contain_text(first)
    expect(card).to_contain_text("Zoë D’Avis")
    expect(card).to_contain_text("Vegetarisch, keine Nüsse")
    expect(card).to_contain_text("Stufenloser Zugang")
    screenshot(page, "checkin-card")
    card.get_by_role("button", name="Check in both").click()
    card = page.locator("#checkin-result .guest-card")
    expect(card).to_contain_text(f"{first} is checked in.")
    expect(card).to_have_class(re.compile("arrived"))
    expect(counts).to_contain_text("2 / 4")  # the counts follow at once
    # ... and so does the same guest in the list below.
    expect(page.locator("#checkin-results .guest-card", has_text=first)).to_contain_text("Arrived")
    assert_fits_the_screen(page)
    screenshot(page, "checkin-arrived")

    # The same code again: a clear message, no second check-in.
    page.locator("#checkin-code").fill(first_code)
    page.locator("[data-code-form] button").click()
    expect(page.locator("#checkin-result .guest-card")).to_contain_text("Arrived")
    expect(
        page.locator("#checkin-result").get_by_role("button", name="Undo check-in")
    ).to_be_visible()

    # A wrong code.
    page.locator("#checkin-code").fill("12-34-WRONGWRONGWRONG")
    page.locator("[data-code-form] button").click()
    expect(page.locator("#checkin-result")).to_contain_text("This is not a valid check-in code.")

    # Search by name, without the accents, and check in from the list.
    surname = second.split()[-1]
    plain = surname.replace("ü", "u").replace("ö", "o").replace("ä", "a").lower()
    page.locator("#checkin-q").fill(plain)
    expect(page.locator("#checkin-results .guest-card")).to_have_count(1)  # the search answered
    row = page.locator("#checkin-results .guest-card", has_text=second)
    row.get_by_role("button", name="Check in").click()
    row = page.locator("#checkin-results .guest-card", has_text=second)
    expect(row).to_contain_text(f"{second} is checked in.")
    expect(counts).to_contain_text("3 / 4")
    # A tap on the wrong name is undone with one more tap.
    row.get_by_role("button", name="Undo check-in").click()
    row = page.locator("#checkin-results .guest-card", has_text=second)
    expect(row).to_contain_text(f"The check-in of {second} is undone.")
    expect(counts).to_contain_text("2 / 4")

    # A walk-in.
    page.locator("#walk-in summary").click()
    page.locator("#walk-in #f-name").fill("Walter Spontan")
    page.locator("#walk-in #f-email").fill("walter.spontan@example.com")
    screenshot(page, "checkin-walk-in")
    page.locator("#walk-in").get_by_role("button", name="Add and check in").click()
    expect(page.locator("#walk-in")).to_contain_text(
        "Walter Spontan is added to the guest list and checked in."
    )
    expect(counts).to_contain_text("3 / 5")
    expect(counts).to_contain_text("1 walk-in")
    assert_fits_the_screen(page)

    # The page works without anything from elsewhere, and without script errors.
    assert all(url.startswith(live_server.url) for url in requested), requested
    assert errors == []

    # The guest's page: "Add to calendar" and the QR code for the door.
    guest = context.new_page()
    guest.goto(f"{live_server.url}/i/{link}?lang=en")
    calendar = guest.locator(".rsvp-calendar")
    expect(calendar).to_contain_text("Add to your calendar")
    expect(calendar.get_by_role("button", name="Calendar file (.ics)")).to_have_attribute(
        "href", re.compile(r"/i/[A-Za-z0-9_-]{32}/calendar\.ics$")
    )
    qr = guest.locator(".rsvp-checkin img")
    expect(qr).to_be_visible()
    assert guest.evaluate("document.querySelector('.rsvp-checkin img').naturalWidth") > 0
    expect(guest.locator(".checkin-code-text")).to_have_text(first_code)
    assert_fits_the_screen(guest)
    screenshot(guest, "rsvp-calendar-and-code")
    context.close()


def test_the_settings_page_gives_a_calendar_address(
    live_server: LiveServer, chromium: Browser
) -> None:
    password = live_server.load_demo()
    page = new_organizer_page(chromium, live_server, password)
    page.goto(f"{live_server.url}/settings/calendar")
    page.get_by_role("button", name="Create my calendar address").click()
    address = page.locator("#feed-url")
    expect(address).to_have_value(re.compile(rf"^{re.escape(live_server.url)}/feeds/.+\.ics$"))
    expect(page.get_by_role("button", name="Open in my calendar app")).to_have_attribute(
        "href", re.compile(r"^webcal://")
    )
    screenshot(page, "settings-calendar")
    feed = page.request.get(address.input_value())
    assert feed.status == 200
    assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "SUMMARY:Bloggertreffen Montabaur" in feed.text()


def test_moving_the_event_asks_whom_to_tell(live_server: LiveServer, chromium: Browser) -> None:
    password = live_server.load_demo()
    guests = _accept_some_guests(live_server)
    guests.pop("link")
    page = new_organizer_page(chromium, live_server, password)
    page.goto(f"{live_server.url}/events/{SLUG}/edit")
    start = page.locator("#f-starts_at").input_value()
    later = start[:-5] + "16:00"
    page.locator("#f-starts_at").fill(later)
    page.locator("#f-ends_at").fill(start[:-5] + "19:00")
    page.locator("#event-form button[type=submit]").first.click()
    question = page.locator("#event-form.notify-question")
    expect(question).to_contain_text("Tell the guests about the change?")
    for name in guests:
        expect(question).to_contain_text(name)
    screenshot(page, "event-change-question")
    question.get_by_role("button", name="Save and tell 3 guests").click()
    expect(page).to_have_url(f"{live_server.url}/events/{SLUG}")
    expect(page.locator(".flash")).to_contain_text("3 guests are told about them by e-mail.")
    expect(page.locator(".event-when-where")).to_contain_text("16:00")
