"""The organizers' subscription feed: a secret address per organizer that a calendar app
subscribes to (webcal://), showing every published event.

The address is an HMAC of a random nonce under the app secret, as the invitees' links are (see
meetups.invitations.links): the database holds the nonce and a hash of the token, so a copy of it
can neither reveal nor forge an address. A new address revokes the old one; turning the feed off
deletes it.
"""

import base64
import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.models import Organizer
from meetups.calendar import ics
from meetups.calendar.invites import fallback_organizer_email
from meetups.calendar.models import CalendarFeed
from meetups.config import Settings
from meetups.db import utcnow
from meetups.events.models import Event, EventStatus
from meetups.i18n import gettext as _

TOKEN_BYTES = 24
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")
# Past events stay in the feed for a year, so that calendars keep them as a record.
KEEP_PAST = timedelta(days=366)
MAX_EVENTS = 2000
# Writing "last fetched" on every poll would make each calendar app a writer; once an hour will do.
TOUCH_EVERY = timedelta(hours=1)


def feed_token(nonce: str, secret: bytes) -> str:
    digest = hmac.new(secret, b"calendar-feed:" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:TOKEN_BYTES]).decode("ascii")


def _lookup(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def feed_path(token: str) -> str:
    return f"/feeds/{token}.ics"


def feed_urls(feed: CalendarFeed, settings: Settings) -> tuple[str, str]:
    """(https URL, webcal URL) of the feed: the second opens the calendar app directly."""
    url = settings.absolute_url(feed_path(feed_token(feed.nonce, settings.secret)))
    scheme, _sep, rest = url.partition("://")
    return url, f"webcal://{rest}" if scheme in ("http", "https") else url


async def feed_of(organizer: Organizer, *, session: AsyncSession) -> CalendarFeed | None:
    query = select(CalendarFeed).where(CalendarFeed.organizer_id == organizer.id)
    return (await session.exec(query)).first()


async def new_feed_address(
    organizer: Organizer, *, session: AsyncSession, secret: bytes, now: datetime | None = None
) -> CalendarFeed:
    """Gives the organizer a feed address; an address they had stops working at once."""
    feed = await feed_of(organizer, session=session)
    if feed is None:
        feed = CalendarFeed(organizer_id=organizer.id, nonce="", lookup="")  # type: ignore[arg-type]
    feed.nonce = secrets.token_hex(16)
    feed.lookup = _lookup(feed_token(feed.nonce, secret))
    feed.created_at = now or utcnow()
    feed.last_fetched_at = None
    session.add(feed)
    await session.flush()
    return feed


async def turn_off_feed(organizer: Organizer, *, session: AsyncSession) -> bool:
    """Deletes the organizer's feed address; True if there was one."""
    result = await session.exec(  # type: ignore[call-overload]
        delete(CalendarFeed).where(col(CalendarFeed.organizer_id) == organizer.id)
    )
    return bool(result.rowcount)


async def feed_for_token(
    token: str, *, session: AsyncSession
) -> tuple[CalendarFeed, Organizer] | None:
    """The feed and its organizer for `token`; None for a wrong or revoked address, or an
    organizer who may no longer sign in."""
    if not TOKEN_PATTERN.match(token):
        return None
    query = (
        select(CalendarFeed, Organizer)
        .join(Organizer, col(Organizer.id) == CalendarFeed.organizer_id)
        .where(CalendarFeed.lookup == _lookup(token))
    )
    row = (await session.exec(query)).first()
    if row is None or not row[1].is_active:
        return None
    return row[0], row[1]


def needs_touch(feed: CalendarFeed, now: datetime) -> bool:
    return feed.last_fetched_at is None or now - feed.last_fetched_at >= TOUCH_EVERY


async def feed_events(*, session: AsyncSession, now: datetime | None = None) -> list[Event]:
    """The published events: everything ahead, and what ended within the last year."""
    since = (now or utcnow()) - KEEP_PAST
    query = (
        select(Event)
        .where(Event.status == EventStatus.published, col(Event.ends_at) >= since)
        .order_by(col(Event.starts_at), col(Event.id))
        .limit(MAX_EVENTS)
    )
    return list((await session.exec(query)).all())


def feed_calendar(events: list[Event], *, settings: Settings, now: datetime) -> bytes:
    fallback = fallback_organizer_email(settings)
    return ics.feed_ics(
        events,
        domain=settings.site_domain,
        name=_("meetups: events"),
        stamp=now.astimezone(UTC),
        url_of=lambda event: settings.absolute_url(f"/events/{event.slug}"),
        organizer_of=lambda event: ics.organizer_of(event, fallback),
        description_of=lambda event: ics.markdown_to_text(event.description),
    )
