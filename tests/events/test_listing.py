"""The events list: which section holds which event, and the live guest numbers."""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event as sa_event

from meetups.db import Database
from meetups.events.listing import GuestCounts, Section, guest_counts, list_events
from meetups.events.models import EventStatus
from meetups.invitations.models import InviteeStatus
from tests import factories

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


async def _events_in_every_state(session: Any) -> None:
    make = factories.make_event
    await make(session, slug="soon", title="Soon", starts_at=NOW + 3 * DAY)
    await make(session, slug="later", title="Later", starts_at=NOW + 30 * DAY)
    await make(session, slug="running", title="Running now", starts_at=NOW - timedelta(hours=1))
    await make(
        session, slug="draft", title="Draft", status=EventStatus.draft, starts_at=NOW + 9 * DAY
    )
    await make(
        session,
        slug="old-draft",
        title="Old draft",
        status=EventStatus.draft,
        starts_at=NOW - 9 * DAY,
    )
    await make(session, slug="over", title="Over", starts_at=NOW - 20 * DAY)
    await make(session, slug="older", title="Older", starts_at=NOW - 40 * DAY)
    await make(
        session,
        slug="called-off",
        title="Called off",
        status=EventStatus.cancelled,
        starts_at=NOW + 5 * DAY,
    )
    await make(
        session, slug="put-away", title="Put away", archived_at=NOW, starts_at=NOW - 60 * DAY
    )
    await make(
        session,
        slug="put-away-draft",
        title="Put away draft",
        status=EventStatus.draft,
        archived_at=NOW,
        starts_at=NOW + 60 * DAY,
    )
    await session.commit()


async def test_each_event_is_in_exactly_one_section(session: Any) -> None:
    await _events_in_every_state(session)
    slugs = {}
    for section in Section:
        listing = await list_events(section, session=session, now=NOW)
        slugs[section] = [row.event.slug for row in listing.rows]
    assert slugs == {
        # Upcoming: soonest first; an event that has begun but not ended is still upcoming.
        Section.upcoming: ["running", "soon", "later"],
        Section.drafts: ["old-draft", "draft"],
        # Past: latest first; a cancelled event is past at once.
        Section.past: ["called-off", "over", "older"],
        Section.archived: ["put-away-draft", "put-away"],
    }
    assert listing.section_sizes == {
        Section.upcoming: 3,
        Section.drafts: 2,
        Section.past: 3,
        Section.archived: 2,
    }


async def test_empty_sections(session: Any) -> None:
    listing = await list_events(Section.upcoming, session=session, now=NOW)
    assert listing.rows == []
    assert listing.section_sizes == dict.fromkeys(Section, 0)


async def test_guest_counts(session: Any) -> None:
    event = await factories.make_event(session, slug="full", capacity=3)
    quiet = await factories.make_event(session, slug="quiet")
    statuses = [
        InviteeStatus.not_invited,
        InviteeStatus.not_invited,
        InviteeStatus.invited,
        InviteeStatus.accepted,
        InviteeStatus.accepted,
        InviteeStatus.declined,
        InviteeStatus.maybe,
        InviteeStatus.waitlisted,
    ]
    for number, status in enumerate(statuses):
        contact = await factories.make_contact(session, email=f"guest{number}@example.com")
        await factories.make_invitee(session, event, contact, status=status)
    await session.commit()

    counts = await guest_counts([event.id, quiet.id], session=session)
    assert counts[event.id] == GuestCounts(
        on_list=8, invited=6, accepted=2, declined=1, maybe=1, waitlisted=1
    )
    assert counts[event.id].not_invited == 2
    assert counts[event.id].free_places(3) == 1
    assert counts[event.id].free_places(None) is None
    assert counts[quiet.id] == GuestCounts()
    assert await guest_counts([], session=session) == {}


async def test_the_list_uses_a_fixed_number_of_queries(session: Any, database: Database) -> None:
    """One query for the events, one grouped query for all their guests, one for the tab sizes."""
    for number in range(12):
        event = await factories.make_event(
            session, slug=f"event-{number}", starts_at=NOW + (number + 1) * DAY
        )
        for guest in range(3):
            contact = await factories.make_contact(session, email=f"g{number}-{guest}@example.com")
            await factories.make_invitee(session, event, contact, status=InviteeStatus.accepted)
    await session.commit()

    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    sa_event.listen(database.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with database.session() as reader:
            listing = await list_events(Section.upcoming, session=reader, now=NOW)
    finally:
        sa_event.remove(database.engine.sync_engine, "before_cursor_execute", record)
    assert len(listing.rows) == 12
    assert all(row.counts.accepted == 3 and row.counts.on_list == 3 for row in listing.rows)
    assert len(statements) == 3, statements
