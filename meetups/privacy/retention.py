"""The retention purge: personal data is kept only as long as needed.

Events that ended more than `MEETUPS_RETENTION_MONTHS` ago (12 by default; 0 turns the purge off)
have their guests' event data erased as described in meetups.privacy.erasure, with two
differences: free-text feedback stays (unlinked from the person, it is the event's anonymous
result), and every guest-list row stays, so that the event's numbers do not change. The event is
marked (`Event.personal_data_purged_at`) and purged once.

The address book is the company's relationship with people, not event data, so it is left alone,
except for one case: a contact whose every guest-list entry belongs to purged events and whose
entry nobody created or changed within the retention period has nothing current left; they are
anonymized as well (without going onto the suppression list: they never asked for that).

The mail worker runs the purge on every tick (a cheap read first; the work in small batches), and
`meetups purge` runs it by hand; `meetups purge --dry-run` runs the very same code in a transaction
that is rolled back, so what it reports is exactly what a purge would do.
"""

import calendar
import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import Database, utcnow
from meetups.events.models import Event
from meetups.i18n import use_locale
from meetups.invitations.models import Invitee
from meetups.mail.models import OutboxMessage
from meetups.mail.scheduler import scheduled
from meetups.privacy.erasure import ErasureCounts, erase_invitee, erase_person, scrub_outbox
from meetups.privacy.models import PrivacyAction, PrivacyActor
from meetups.privacy.records import add_record

log = logging.getLogger("meetups.privacy")

# What one tick of a worker purges at most (the next tick takes the rest).
EVENTS_PER_TICK = 3
CONTACTS_PER_TICK = 50


def retention_cutoff(now: datetime, months: int) -> datetime:
    """`months` calendar months before `now` (the 31st becomes the last day of a shorter month)."""
    years, month_index = divmod(now.month - 1 - months, 12)
    year, month = now.year + years, month_index + 1
    day = min(now.day, calendar.monthrange(year, month)[1])
    return now.replace(year=year, month=month, day=day)


def _events_due(cutoff: datetime):  # type: ignore[no-untyped-def]
    return select(Event).where(
        col(Event.ends_at) < cutoff, col(Event.personal_data_purged_at).is_(None)
    )


def _stale_contacts(cutoff: datetime):  # type: ignore[no-untyped-def]
    on_a_list = exists().where(Invitee.contact_id == Contact.id)
    on_a_current_list = exists().where(
        Invitee.contact_id == Contact.id,
        Event.id == Invitee.event_id,
        col(Event.personal_data_purged_at).is_(None),
    )
    return select(Contact).where(
        col(Contact.anonymized_at).is_(None),
        col(Contact.created_at) < cutoff,
        col(Contact.updated_at) < cutoff,
        on_a_list,
        ~on_a_current_list,
    )


async def anything_due(cutoff: datetime, *, session: AsyncSession) -> bool:
    """Whether a purge would change anything (a read, cheap enough for every tick)."""
    event = await session.exec(_events_due(cutoff).with_only_columns(col(Event.id)).limit(1))
    if event.first() is not None:
        return True
    contact = await session.exec(
        _stale_contacts(cutoff).with_only_columns(col(Contact.id)).limit(1)
    )
    return contact.first() is not None


@dataclass(frozen=True)
class PurgedEvent:
    slug: str
    title: str
    ends_at: datetime
    guests: int
    counts: ErasureCounts


@dataclass
class PurgeReport:
    cutoff: datetime
    events: list[PurgedEvent] = field(default_factory=list)
    contacts: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.events or self.contacts)


async def purge_event(
    event: Event, *, session: AsyncSession, settings: Settings, now: datetime | None = None
) -> PurgedEvent:
    """Erases the event data of every guest of `event` and marks it purged; the caller commits."""
    now = now or utcnow()
    counts = ErasureCounts()
    guests = (
        await session.exec(
            select(Invitee)
            .where(Invitee.event_id == event.id, col(Invitee.erased_at).is_(None))
            .order_by(col(Invitee.id))
        )
    ).all()
    for invitee in guests:
        counts.add(
            await erase_invitee(
                invitee, session=session, settings=settings, drop_free_text=False, now=now
            )
        )
    # E-mails about the event to people no longer on its guest list.
    counts.add(await scrub_outbox(col(OutboxMessage.event_id) == event.id, session=session))
    event.personal_data_purged_at = now
    session.add(event)
    add_record(
        session=session,
        action=PrivacyAction.purged,
        actor=PrivacyActor.retention,
        event_id=event.id,
        counts=counts.as_dict(),
    )
    await session.flush()
    return PurgedEvent(
        slug=event.slug, title=event.title, ends_at=event.ends_at, guests=len(guests), counts=counts
    )


async def purge_expired(
    *,
    session: AsyncSession,
    settings: Settings,
    now: datetime | None = None,
    event_limit: int | None = None,
    contact_limit: int | None = None,
) -> PurgeReport:
    """Purges the events past the retention period, then the contacts with nothing current left
    (see the module's docstring). Nothing when the purge is off. The caller commits."""
    now = now or utcnow()
    report = PurgeReport(cutoff=retention_cutoff(now, settings.retention_months))
    if settings.retention_months <= 0:
        return report
    # SKIP LOCKED (PostgreSQL): workers purging at the same moment take different events.
    events = (
        await session.exec(
            _events_due(report.cutoff)
            .order_by(col(Event.ends_at), col(Event.id))
            .limit(event_limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    for event in events:
        report.events.append(await purge_event(event, session=session, settings=settings, now=now))
    contacts = (
        await session.exec(
            _stale_contacts(report.cutoff)
            .order_by(col(Contact.id))
            .limit(contact_limit)
            .with_for_update(skip_locked=True, of=Contact)
        )
    ).all()
    for contact in contacts:
        await erase_person(
            contact, actor=PrivacyActor.retention, session=session, settings=settings, now=now
        )
        report.contacts += 1
    return report


@scheduled
async def purge_expired_data(*, database: Database, settings: Settings, now: datetime) -> None:
    """The worker's share: a small batch whenever something is due."""
    if settings.retention_months <= 0:
        return
    cutoff = retention_cutoff(now, settings.retention_months)
    async with database.session() as reader:
        if not await anything_due(cutoff, session=reader):
            return
    # Anonymized entries are named in the site's language, as nobody is looking on.
    with use_locale(settings.default_language):
        async with database.session(write=True) as session:
            report = await purge_expired(
                session=session,
                settings=settings,
                now=now,
                event_limit=EVENTS_PER_TICK,
                contact_limit=CONTACTS_PER_TICK,
            )
            await session.commit()
    if report.changed:
        log.info(
            "retention purge: %s events, %s contacts (ended or untouched before %s)",
            len(report.events),
            report.contacts,
            report.cutoff.date().isoformat(),
        )
