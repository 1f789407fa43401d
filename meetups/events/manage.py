"""Organizers managing events: create, change, duplicate, publish, cancel, archive.

Each function is one user action; it changes the session and the caller commits once.
"""

from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.models import Organizer
from meetups.db import utcnow
from meetups.errors import DomainError, ValidationFailed
from meetups.events.form import MAX_TITLE_LENGTH, EventFields
from meetups.events.models import Event, EventStatus
from meetups.events.slugs import unique_slug
from meetups.feedback.forms import anonymity_change_problem
from meetups.i18n import gettext as _
from meetups.invitations.models import Invitee, InviteeStatus

# Another writer may take the same slug between our check and our insert (PostgreSQL runs
# writers side by side); then we pick the next free one.
SLUG_ATTEMPTS = 5


async def _insert_with_unique_slug(event: Event, *, session: AsyncSession) -> Event:
    attempts = 0
    while True:
        attempts += 1
        event.slug = await unique_slug(event.title, session=session)
        try:
            # A savepoint, so that a collision undoes only this insert, not the whole action.
            async with session.begin_nested():
                session.add(event)
                await session.flush()
        except IntegrityError:
            if attempts >= SLUG_ATTEMPTS:
                raise
        else:
            return event


async def create_event(
    fields: EventFields, *, organizer: Organizer, session: AsyncSession
) -> Event:
    """A new draft event; its address comes from the title."""
    event = Event(
        slug="",
        title=fields.title,
        starts_at=fields.starts_at,
        ends_at=fields.ends_at,
        status=EventStatus.draft,
        created_by_id=organizer.id,
    )
    fields.apply_to(event)
    return await _insert_with_unique_slug(event, session=session)


async def accepted_count(event: Event, *, session: AsyncSession) -> int:
    query = (
        select(func.count())
        .select_from(Invitee)
        .where(Invitee.event_id == event.id, Invitee.status == InviteeStatus.accepted.value)
    )
    return (await session.exec(query)).one()


async def check_update(event: Event, fields: EventFields, *, session: AsyncSession) -> None:
    """Raises what `update_event` would refuse, without changing anything (so that the organizer
    is asked whom to tell only about changes that can be saved)."""
    if not event.can_edit():
        raise DomainError(_("This event is archived. Take it out of the archive to change it."))
    if fields.capacity is not None and fields.capacity < (
        taken := await accepted_count(event, session=session)
    ):
        raise ValidationFailed(
            {
                "capacity": _(
                    "%(num)s guests have accepted already; the capacity cannot be lower than that.",
                    num=taken,
                )
            }
        )
    # Answers given anonymously must never become named, nor named ones pass as anonymous.
    if problem := await anonymity_change_problem(event, fields.feedback_anonymous, session=session):
        raise ValidationFailed({"feedback_anonymous": problem})


def _squeezed(text: str) -> str:
    return " ".join(text.split())


def to_minute(moment: datetime) -> datetime:
    """The form knows minutes only: seconds of a stored time are no change."""
    return moment.replace(second=0, microsecond=0)


def changes_time_or_place(event: Event, fields: EventFields) -> bool:
    """Whether the guests' calendar entries must follow: another start, end, venue or address.
    (Another time zone for the same moments changes nothing in a calendar.)"""
    return (
        to_minute(fields.starts_at) != to_minute(event.starts_at)
        or to_minute(fields.ends_at) != to_minute(event.ends_at)
        or _squeezed(fields.venue) != _squeezed(event.venue)
        or _squeezed(fields.address) != _squeezed(event.address)
    )


async def update_event(event: Event, fields: EventFields, *, session: AsyncSession) -> Event:
    """Saves the form over an event. Its address stays, so links already sent keep working.
    A change of time or place of a published event raises its calendar SEQUENCE, so that the
    guests' calendars take the new entry (meetups.calendar.changes tells them)."""
    await check_update(event, fields, session=session)
    if event.status == EventStatus.published and changes_time_or_place(event, fields):
        event.sequence += 1
    fields.apply_to(event)
    event.updated_at = utcnow()
    session.add(event)
    await session.flush()
    return event


def copy_title(title: str) -> str:
    suffix = _(" (copy)")
    return title[: MAX_TITLE_LENGTH - len(suffix)].rstrip() + suffix


async def duplicate_event(event: Event, *, organizer: Organizer, session: AsyncSession) -> Event:
    """A draft copy with every setting but without guests, for the next meetup of the same kind."""
    copy = Event(
        **event.model_dump(
            exclude={
                "id",
                "slug",
                "status",
                "archived_at",
                "created_by_id",
                "created_at",
                "updated_at",
                "sequence",
                "seats_taken",
            }
        )
    )
    copy.title = copy_title(event.title)
    copy.status = EventStatus.draft
    copy.created_by_id = organizer.id
    return await _insert_with_unique_slug(copy, session=session)


def _changed(event: Event) -> None:
    event.updated_at = utcnow()


async def publish_event(
    event: Event, *, session: AsyncSession, now: datetime | None = None
) -> Event:
    """Makes a draft ready for invitations."""
    if event.is_archived:
        raise DomainError(_("This event is archived. Take it out of the archive first."))
    if event.is_cancelled:
        raise DomainError(_("A cancelled event cannot be published again. Duplicate it instead."))
    if event.status == EventStatus.published:
        raise DomainError(_("This event is published already."))
    if event.has_ended(now):
        raise DomainError(_("This event is over already. Change its dates before publishing it."))
    event.status = EventStatus.published
    _changed(event)
    session.add(event)
    return event


async def cancel_event(
    event: Event, *, session: AsyncSession, now: datetime | None = None
) -> Event:
    """Calls off a published event. Its guest list and history stay."""
    if event.is_cancelled:
        raise DomainError(_("This event is cancelled already."))
    if event.is_archived:
        raise DomainError(_("This event is archived. Take it out of the archive first."))
    if event.is_draft:
        raise DomainError(
            _("A draft has not been announced, so there is nothing to cancel. Archive it instead.")
        )
    if event.has_ended(now):
        raise DomainError(_("This event is over already and cannot be cancelled."))
    event.status = EventStatus.cancelled
    event.sequence += 1  # the calendar entry's cancellation must outrank the invitation
    _changed(event)
    session.add(event)
    return event


async def archive_event(
    event: Event, *, session: AsyncSession, now: datetime | None = None
) -> Event:
    """Puts a draft, cancelled or past event out of the way; nothing is deleted."""
    if event.is_archived:
        raise DomainError(_("This event is archived already."))
    if not event.can_archive(now):
        raise DomainError(
            _("This event is still ahead. Cancel it first, or archive it once it is over.")
        )
    event.archived_at = now or utcnow()
    _changed(event)
    session.add(event)
    return event


async def unarchive_event(event: Event, *, session: AsyncSession) -> Event:
    if not event.is_archived:
        raise DomainError(_("This event is not archived."))
    event.archived_at = None
    _changed(event)
    session.add(event)
    return event
