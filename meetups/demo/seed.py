"""Demo data: two events around Montabaur, so that a newcomer sees every screen with life in it.
Running it again changes nothing that exists already (it only refreshes the demo password)."""

import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.models import Organizer, Role
from meetups.accounts.passwords import hash_password
from meetups.checkin.demo import add_demo_check_ins
from meetups.config import Settings
from meetups.contacts.csv_import import apply_import
from meetups.coverage.demo import add_demo_coverage
from meetups.db import Database, create_engine, utcnow
from meetups.demo.history import add_past_history
from meetups.events.models import Event, EventStatus
from meetups.feedback.demo import add_demo_feedback
from meetups.invitations.guest_list import add_contacts
from meetups.invitations.models import Invitee
from meetups.travel.demo import add_demo_claims

BUNDLED_BLOGGERS = Path(__file__).with_name("bloggers.csv")
DEMO_EMAIL = "demo@example.com"
UPCOMING_SLUG = "bloggertreffen-montabaur"
PAST_SLUG = "blogger-feedback-montabaur"
ZONE = "Europe/Berlin"
PAST_EVENT_GUESTS = 38

UPCOMING_DESCRIPTION = """\
Wir laden Sie herzlich zu einem Nachmittag in unsere Firmenzentrale in Montabaur ein.

**Programm**

1. Begrüßung und Kaffee
2. Einblick in unsere Kampagne zur Kundenzufriedenheit
3. Offene Gesprächsrunde: Was läuft gut, was sollten wir besser machen?
4. Ausklang mit Abendessen

Ihre ehrliche Meinung ist uns wichtig. Die Reisekosten übernehmen wir.
"""

PAST_DESCRIPTION = """\
Ein Nachmittag mit Bloggerinnen und Bloggern: Wir haben unsere neuen Tarife vorgestellt und
um offenes Feedback gebeten.
"""


@dataclass(frozen=True)
class DemoEvent:
    slug: str
    title: str
    description: str
    days_from_today: int
    capacity: int


DEMO_EVENTS = (
    DemoEvent(UPCOMING_SLUG, "Bloggertreffen Montabaur", UPCOMING_DESCRIPTION, 28, 30),
    DemoEvent(PAST_SLUG, "Blogger-Feedback Montabaur", PAST_DESCRIPTION, -14, 40),
)


def _local(day: datetime, hour: int) -> datetime:
    return datetime.combine(day.date(), time(hour), tzinfo=ZoneInfo(ZONE))


async def _ensure_demo_organizer(password: str, *, session: AsyncSession) -> Organizer:
    organizer = (await session.exec(select(Organizer).where(Organizer.email == DEMO_EMAIL))).first()
    if organizer is None:
        organizer = Organizer(
            email=DEMO_EMAIL, name="Demo Organizer", role=Role.admin, password_hash=""
        )
    organizer.password_hash = hash_password(password)
    organizer.is_active = True
    session.add(organizer)
    await session.flush()
    return organizer


async def _ensure_event(
    spec: DemoEvent, organizer: Organizer, *, session: AsyncSession
) -> tuple[Event, bool]:
    existing = (await session.exec(select(Event).where(Event.slug == spec.slug))).first()
    if existing is not None:
        return existing, False
    today = datetime.now(ZoneInfo(ZONE))
    day = today + timedelta(days=spec.days_from_today)
    starts_at, ends_at = _local(day, 14), _local(day, 18)
    event = Event(
        slug=spec.slug,
        title=spec.title,
        description=spec.description,
        venue="Firmenzentrale, Raum Westerwald",
        address="Am Bahnhof 1, 56410 Montabaur",
        timezone=ZONE,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=spec.capacity,
        plus_ones_allowed=True,
        rsvp_deadline=starts_at - timedelta(days=7),
        language="de",
        status=EventStatus.published,
        contact_name=organizer.name,
        contact_email=organizer.email,
        travel_enabled=True,
        travel_cap_cents=15_000,
        travel_mileage_rate_cents=30,
        travel_claim_deadline=ends_at + timedelta(days=30),
        feedback_enabled=True,
        feedback_closes_at=ends_at + timedelta(days=14),
        created_by_id=organizer.id,
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(event)
    await session.flush()
    return event, True


async def seed(
    settings: Settings, *, session: AsyncSession, csv_file: Path | None = None
) -> list[str]:
    """Creates what is missing and returns lines to print."""
    password = secrets.token_urlsafe(9)
    organizer = await _ensure_demo_organizer(password, session=session)
    upcoming, created_upcoming = await _ensure_event(DEMO_EVENTS[0], organizer, session=session)
    past, created_past = await _ensure_event(DEMO_EVENTS[1], organizer, session=session)

    data = (csv_file or BUNDLED_BLOGGERS).read_bytes()
    result = await apply_import(
        data, session=session, default_language=settings.default_language, event=upcoming
    )
    if created_past:
        guests = (
            select(Invitee.contact_id)
            .where(Invitee.event_id == upcoming.id)
            .order_by(Invitee.id)
            .limit(PAST_EVENT_GUESTS)
        )  # type: ignore[arg-type]
        await add_contacts(past, list((await session.exec(guests)).all()), session=session)
    history_added = await add_past_history(past, settings, session=session)
    # Check-ins first: claims, feedback and coverage come from those who attended.
    check_ins_added = await add_demo_check_ins(past, organizer, session=session)
    claims_added = await add_demo_claims(past, organizer, session=session)
    feedback_added = await add_demo_feedback(past, settings, session=session)
    coverage_added = await add_demo_coverage(past, organizer, session=session)

    def event_line(event: Event, created: bool) -> str:
        state = "created" if created else "already there"
        return f"Event {event.title!r}: {state} ({settings.absolute_url(f'/events/{event.slug}')})"

    lines = [
        event_line(upcoming, created_upcoming),
        event_line(past, created_past)
        + (" with its history of invitations and answers" if history_added else ""),
        f"Address book: {result.created} bloggers added, "
        f"{result.updated + result.unchanged} already there, "
        f"{result.rejected} rows of the file rejected; "
        f"{result.added_to_guest_list} put on the guest list.",
        f"Check-in: {check_ins_added} guests arrived at the past event."
        if check_ins_added
        else "Check-in: already there.",
        f"Travel claims: {claims_added} added to the past event (one in every status)."
        if claims_added
        else "Travel claims: already there.",
        f"Feedback: a form with {feedback_added} responses on the past event."
        if feedback_added
        else "Feedback: already there.",
        f"Coverage: {coverage_added} links on the past event."
        if coverage_added
        else "Coverage: already there.",
        "",
        f"Sign in at {settings.absolute_url('/login')}",
        f"  e-mail:   {DEMO_EMAIL}",
        f"  password: {password}   (new at every run of the demo)",
    ]
    return lines


async def seed_demo(settings: Settings, *, csv_file: Path | None = None) -> list[str]:
    database = Database(create_engine(settings.resolved_database_url))
    try:
        async with database.session(write=True) as session:
            lines = await seed(settings, session=session, csv_file=csv_file)
            await session.commit()
        return lines
    finally:
        await database.dispose()
