"""The events list: its sections and each event's live guest numbers, in a fixed few queries."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, case, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.db import utcnow
from meetups.events.models import Event, EventStatus
from meetups.i18n import gettext as _
from meetups.invitations.models import Invitee, InviteeStatus


class Section(StrEnum):
    upcoming = "upcoming"
    drafts = "drafts"
    past = "past"
    archived = "archived"

    @property
    def label(self) -> str:
        return {
            Section.upcoming: _("Upcoming"),
            Section.drafts: _("Drafts"),
            Section.past: _("Past"),
            Section.archived: _("Archived"),
        }[self]


@dataclass(frozen=True)
class GuestCounts:
    """How an event's guest list stands. `invited` counts everyone who got an invitation,
    whatever they answered since."""

    on_list: int = 0
    invited: int = 0
    accepted: int = 0
    declined: int = 0
    maybe: int = 0
    waitlisted: int = 0

    @property
    def not_invited(self) -> int:
        return self.on_list - self.invited

    def free_places(self, capacity: int | None) -> int | None:
        return None if capacity is None else max(capacity - self.accepted, 0)


@dataclass(frozen=True)
class EventRow:
    event: Event
    counts: GuestCounts


@dataclass(frozen=True)
class EventListing:
    section: Section
    rows: list[EventRow]
    section_sizes: dict[Section, int]

    def size(self, section: str) -> int:
        return self.section_sizes.get(Section(section), 0)


def section_condition(section: Section, now: datetime) -> ColumnElement[bool]:
    """Which events a section holds. Drafts stay drafts whatever their date; a cancelled event
    is past at once; archived events leave every other section."""
    not_archived = col(Event.archived_at).is_(None)
    if section == Section.archived:
        return col(Event.archived_at).is_not(None)
    if section == Section.drafts:
        return and_(not_archived, col(Event.status) == EventStatus.draft.value)
    published = col(Event.status) == EventStatus.published.value
    if section == Section.upcoming:
        return and_(not_archived, published, col(Event.ends_at) > now)
    ended = and_(published, col(Event.ends_at) <= now)
    return and_(not_archived, or_(col(Event.status) == EventStatus.cancelled.value, ended))


_ORDER = {
    Section.upcoming: (col(Event.starts_at).asc(),),
    Section.drafts: (col(Event.starts_at).asc(),),
    Section.past: (col(Event.starts_at).desc(),),
    Section.archived: (col(Event.starts_at).desc(),),
}


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def guest_counts(
    event_ids: Iterable[int], *, session: AsyncSession
) -> dict[int, GuestCounts]:
    """Counts for many events in one grouped query; events without guests get zeros."""
    ids = list(event_ids)
    if not ids:
        return {}
    status = col(Invitee.status)
    query = (
        select(
            Invitee.event_id,
            func.count(),
            _count(status != InviteeStatus.not_invited.value),
            _count(status == InviteeStatus.accepted.value),
            _count(status == InviteeStatus.declined.value),
            _count(status == InviteeStatus.maybe.value),
            _count(status == InviteeStatus.waitlisted.value),
        )
        .where(col(Invitee.event_id).in_(ids))
        .group_by(Invitee.event_id)
    )
    counts = {event_id: GuestCounts() for event_id in ids}
    for event_id, *numbers in (await session.exec(query)).all():
        counts[event_id] = GuestCounts(*(int(n) for n in numbers))
    return counts


async def section_sizes(*, session: AsyncSession, now: datetime) -> dict[Section, int]:
    query = select(*(_count(section_condition(section, now)) for section in Section))
    row = (await session.exec(query)).one()
    return {section: int(size) for section, size in zip(Section, row, strict=True)}


async def list_events(
    section: Section, *, session: AsyncSession, now: datetime | None = None
) -> EventListing:
    """One section of the events list, with each event's guest numbers: three queries in all."""
    now = now or utcnow()
    query = (
        select(Event)
        .where(section_condition(section, now))
        .order_by(*_ORDER[section], col(Event.id))
    )
    events = list((await session.exec(query)).all())
    counts = await guest_counts(
        (event.id for event in events if event.id is not None), session=session
    )
    rows = [EventRow(event, counts[event.id]) for event in events if event.id is not None]
    return EventListing(
        section=section, rows=rows, section_sizes=await section_sizes(session=session, now=now)
    )
