"""Calendar files over HTTP: a guest's copy from their page, the organizers' subscription feed,
and the settings page where an organizer gets (or revokes) their feed address."""

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups.calendar import feeds
from meetups.calendar.ics import ics_filename
from meetups.calendar.invites import invitee_ics
from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import Database, utcnow
from meetups.deps import CurrentOrganizer, SessionDep, SettingsDep, release_connection
from meetups.events.models import Event
from meetups.htmx import redirect, render
from meetups.i18n import gettext as _
from meetups.invitations import guessing
from meetups.personal_link import (
    PRIVATE_HEADERS,
    client_address,
    count_wrong_link,
    find_invitee,
    wrong_link_page,
)

router = APIRouter()

CALENDAR_TYPE = "text/calendar; charset=utf-8"


def _attachment(filename: str) -> str:
    return f'attachment; filename="{filename}"'


@router.get("/i/{token}/calendar.ics")
async def invitee_calendar(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    """The event for the guest's calendar, with their answer (Add to calendar)."""
    found = await find_invitee(request, token, session, settings)
    if isinstance(found, Response):
        return found
    event = await session.get(Event, found.event_id)
    contact = await session.get(Contact, found.contact_id)
    if event is None or contact is None:
        return wrong_link_page(request, settings)
    content = invitee_ics(event, found, contact, settings=settings)
    return Response(
        content,
        media_type=CALENDAR_TYPE,
        headers={**PRIVATE_HEADERS, "Content-Disposition": _attachment(ics_filename(event))},
    )


@router.get("/feeds/{token}.ics")
async def calendar_feed(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    """The subscription feed. Calendar apps poll it without cookies; the address is the key."""
    if await guessing.too_many_wrong_links(
        client_address(request), session=session, settings=settings
    ):
        return Response(status_code=429, headers=PRIVATE_HEADERS)
    found = await feeds.feed_for_token(token, session=session)
    if found is None:
        await count_wrong_link(request, session)
        return Response(
            _("This calendar address does not work (any more)."),
            status_code=404,
            media_type="text/plain; charset=utf-8",
            headers=PRIVATE_HEADERS,
        )
    feed, _organizer = found
    now = utcnow()
    if feeds.needs_touch(feed, now):
        await _touch(request, session, feed.id, now)
    events = await feeds.feed_events(session=session, now=now)
    content = feeds.feed_calendar(events, settings=settings, now=now)
    return Response(
        content,
        media_type=CALENDAR_TYPE,
        headers={**PRIVATE_HEADERS, "Content-Disposition": 'inline; filename="meetups.ics"'},
    )


async def _touch(request: Request, session: SessionDep, feed_id: int | None, now: datetime) -> None:
    from meetups.calendar.models import CalendarFeed

    await release_connection(session)
    database: Database = request.app.state.database
    async with database.session(write=True) as writer:
        feed = await writer.get(CalendarFeed, feed_id)
        if feed is not None:
            feed.last_fetched_at = now
            writer.add(feed)
            await writer.commit()


async def _settings_page(
    request: Request, organizer: CurrentOrganizer, session: SessionDep, settings: Settings
) -> Response:
    feed = await feeds.feed_of(organizer, session=session)
    https_url, webcal_url = feeds.feed_urls(feed, settings) if feed else ("", "")
    context = {
        "title": _("Calendar"),
        "feed": feed,
        "https_url": https_url,
        "webcal_url": webcal_url,
    }
    return render(request, "calendar/settings.html", context, block="feed")


@router.get("/settings/calendar")
async def calendar_settings(
    request: Request, session: SessionDep, settings: SettingsDep, organizer: CurrentOrganizer
) -> Response:
    return await _settings_page(request, organizer, session, settings)


@router.post("/settings/calendar/address")
async def new_calendar_address(
    request: Request, session: SessionDep, settings: SettingsDep, organizer: CurrentOrganizer
) -> Response:
    had_one = await feeds.feed_of(organizer, session=session) is not None
    await feeds.new_feed_address(organizer, session=session, secret=settings.secret)
    await session.commit()
    message = (
        _("Here is your new calendar address. The old one no longer works.")
        if had_one
        else _("Here is your calendar address. Subscribe to it in your calendar app.")
    )
    return redirect(request, "/settings/calendar", flash=message)


@router.post("/settings/calendar/off")
async def turn_off_calendar(
    request: Request, session: SessionDep, settings: SettingsDep, organizer: CurrentOrganizer
) -> Response:
    removed = await feeds.turn_off_feed(organizer, session=session)
    await session.commit()
    message = (
        _("Your calendar address is turned off. Calendars subscribed to it no longer update.")
        if removed
        else _("You have no calendar address.")
    )
    return redirect(request, "/settings/calendar", flash=message)
