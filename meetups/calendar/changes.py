"""When a published event changes its time or place, or is cancelled: who is told, and telling
them in the same transaction as the change.

- A change of time or place raises the event's SEQUENCE (meetups.events.manage does that), and
  everyone who accepted or said maybe gets an update e-mail carrying the new calendar entry (same
  UID, higher SEQUENCE), so their calendar moves the entry. The organizer first sees who will be
  told and may choose not to tell anyone (a typo in the address).
- A cancellation sends METHOD:CANCEL with STATUS:CANCELLED to those who accepted or said maybe (the
  entry disappears from their calendar), and a plain notice to those still waiting for an answer
  or a place (invited, waitlisted). Those who declined or were never invited hear nothing.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.calendar.invites import CALENDAR_HOLDERS
from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.events import manage
from meetups.events.form import EventFields
from meetups.events.models import Event, EventStatus
from meetups.i18n import format_event_span
from meetups.i18n import gettext as _
from meetups.invitations import messages
from meetups.invitations.models import Invitee, InviteeStatus

# Waiting for an answer or a place: a cancellation notice, without a calendar part.
WAITING = (InviteeStatus.invited, InviteeStatus.waitlisted)


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


def _place(venue: str, address: str) -> str:
    return ", ".join(part for part in (" ".join(venue.split()), " ".join(address.split())) if part)


def time_or_place_changes(event: Event, fields: EventFields) -> list[Change]:
    """What the form changes of the event's time or place, as the organizer reads it. A new
    time zone that leaves the moments as they were is no change for the guests' calendars."""
    changes: list[Change] = []
    if not manage.changes_time_or_place(event, fields):
        return changes
    times = (manage.to_minute(fields.starts_at), manage.to_minute(fields.ends_at))
    if times != (manage.to_minute(event.starts_at), manage.to_minute(event.ends_at)):
        changes.append(
            Change(
                _("When"),
                format_event_span(event.starts_at, event.ends_at, event.timezone),
                format_event_span(fields.starts_at, fields.ends_at, fields.timezone),
            )
        )
    before = _place(event.venue, event.address)
    after = _place(fields.venue, fields.address)
    if before != after:
        changes.append(Change(_("Where"), before or "–", after or "–"))
    return changes


def tells_guests(event: Event) -> bool:
    """Only a published event has guests with the event in their calendar."""
    return event.status == EventStatus.published and event.archived_at is None


@dataclass(frozen=True)
class Person:
    invitee: Invitee
    contact: Contact


async def _people(
    event: Event, statuses: tuple[InviteeStatus, ...], *, session: AsyncSession
) -> list[Person]:
    """Guests in these states who can be written to: they have a personal link (they were
    invited) and their address-book entry was not deleted."""
    query = (
        select(Invitee, Contact)
        .join(Contact, col(Contact.id) == Invitee.contact_id)
        .where(
            Invitee.event_id == event.id,
            col(Invitee.status).in_([status.value for status in statuses]),
            col(Invitee.link_nonce).is_not(None),
            col(Contact.anonymized_at).is_(None),
        )
        .order_by(col(Contact.search_key), col(Invitee.id))
    )
    return [Person(invitee, contact) for invitee, contact in (await session.exec(query)).all()]


async def people_to_update(event: Event, *, session: AsyncSession) -> list[Person]:
    """Who gets an update when the time or place changes: those who accepted or said maybe."""
    return await _people(event, CALENDAR_HOLDERS, session=session)


@dataclass(frozen=True)
class UpdatePreview:
    changes: list[Change]
    recipients: list[Person]

    @property
    def needs_decision(self) -> bool:
        """Whether to ask the organizer before saving: something guests hold would change."""
        return bool(self.changes and self.recipients)


async def preview_update(
    event: Event, fields: EventFields, *, session: AsyncSession
) -> UpdatePreview:
    if not tells_guests(event):
        return UpdatePreview([], [])
    changes = time_or_place_changes(event, fields)
    recipients = await people_to_update(event, session=session) if changes else []
    return UpdatePreview(changes, recipients)


@dataclass(frozen=True)
class UpdateOutcome:
    changed_time_or_place: bool
    told: int


async def save_event(
    event: Event,
    fields: EventFields,
    *,
    notify: bool,
    session: AsyncSession,
    settings: Settings,
) -> UpdateOutcome:
    """Saves the form over the event (meetups.events.manage.update_event raises its SEQUENCE on a
    change of time or place) and, if `notify`, queues an update with the new calendar entry to
    everyone who accepted or said maybe."""
    significant = tells_guests(event) and bool(time_or_place_changes(event, fields))
    await manage.update_event(event, fields, session=session)
    told = 0
    if significant and notify:
        for person in await people_to_update(event, session=session):
            messages.queue_event_update(
                person.invitee, person.contact, event, session=session, settings=settings
            )
            told += 1
    return UpdateOutcome(changed_time_or_place=significant, told=told)


@dataclass(frozen=True)
class CancellationAudience:
    calendar: list[Person]  # accepted or maybe: METHOD:CANCEL
    notice: list[Person]  # invited without an answer, or waitlisted: a plain notice

    @property
    def total(self) -> int:
        return len(self.calendar) + len(self.notice)


async def cancellation_audience(event: Event, *, session: AsyncSession) -> CancellationAudience:
    return CancellationAudience(
        calendar=await _people(event, CALENDAR_HOLDERS, session=session),
        notice=await _people(event, WAITING, session=session),
    )


async def cancel_event(
    event: Event, *, session: AsyncSession, settings: Settings, now: datetime | None = None
) -> CancellationAudience:
    """Cancels the event (meetups.events.manage.cancel_event raises its SEQUENCE) and queues the
    cancellation to everyone who is waiting for it, in the same transaction."""
    audience = await cancellation_audience(event, session=session)
    await manage.cancel_event(event, session=session, now=now)
    await session.flush()
    for person in [*audience.calendar, *audience.notice]:
        messages.queue_cancellation(
            person.invitee, person.contact, event, session=session, settings=settings
        )
    return audience
