"""Reminders: to those who have not answered, a set number of days before the RSVP deadline; to
those who accepted, the day before the event (with directions); and "remind now" by hand.

Nobody gets the same reminder twice. Each reminder is recorded as a SentReminder row (unique per
invitee and kind) in the same transaction as its e-mail, inserted with ON CONFLICT DO NOTHING:
of two workers (or a worker and an organizer) reaching for the same person at the same moment,
one inserts the row and queues the e-mail, the other's insert does nothing and it sends nothing.
A reminder sent by hand counts too: the scheduled one does not follow it.

The scheduler hook runs on every tick of every mail worker; it first looks with a read-only query
whether anything is due, so an idle worker never takes SQLite's write lock.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import exists
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import Database, utcnow
from meetups.errors import DomainError
from meetups.events.models import Event, EventStatus
from meetups.i18n import gettext as _
from meetups.invitations import messages
from meetups.invitations.models import Invitee, InviteeStatus, SentReminder, Suppression
from meetups.invitations.rsvp import closed_message, closed_reason
from meetups.invitations.sending import parse_ids, suppressions_for
from meetups.invitations.waitlist import lock_event
from meetups.mail.scheduler import scheduled

ReminderKind = Literal["no_answer", "day_before"]
NO_ANSWER: ReminderKind = "no_answer"
DAY_BEFORE: ReminderKind = "day_before"

# Someone invited less than this long ago gets no automatic reminder to answer yet.
FRESH_INVITATION = timedelta(hours=24)
# The day-before reminder goes out from this long before the start until the start.
DAY_BEFORE_LEAD = timedelta(hours=24)
# Someone who accepted this close to the day-before window (or in it) has their confirmation,
# with the same directions, fresh in the inbox: no reminder for them.
FRESH_ANSWER = timedelta(hours=12)
# At most this many reminders are queued in one tick (the next tick takes the rest).
MAX_PER_TICK = 200
_CHUNK = 500


def no_answer_due_at(event: Event) -> datetime | None:
    """When the reminder to answer becomes due; None when the event sends none."""
    if event.rsvp_deadline is None or event.reminder_days_before_deadline <= 0:
        return None
    return event.rsvp_deadline - timedelta(days=event.reminder_days_before_deadline)


def day_before_due_at(event: Event) -> datetime:
    return event.starts_at - DAY_BEFORE_LEAD


def _event_running(event: Event) -> bool:
    return event.status == EventStatus.published and event.archived_at is None


def no_answer_window_open(event: Event, now: datetime) -> bool:
    due = no_answer_due_at(event)
    return (
        _event_running(event)
        and due is not None
        and event.rsvp_deadline is not None
        and due <= now < event.rsvp_deadline
        and now < event.starts_at
    )


def day_before_window_open(event: Event, now: datetime) -> bool:
    return _event_running(event) and day_before_due_at(event) <= now < event.starts_at


def _not_reminded(kind: ReminderKind) -> object:
    return ~exists().where(SentReminder.invitee_id == Invitee.id, SentReminder.kind == kind)


def _not_suppressed() -> object:
    return col(Contact.email).not_in(select(Suppression.email))


def _due_query(event: Event, kind: ReminderKind, now: datetime) -> object:
    """Invitees of `event` due for the scheduled reminder `kind` at `now`."""
    query = (
        select(Invitee, Contact)
        .join(Contact, col(Contact.id) == Invitee.contact_id)
        .where(
            Invitee.event_id == event.id,
            col(Contact.anonymized_at).is_(None),
            _not_reminded(kind),
            _not_suppressed(),
        )
        .order_by(col(Invitee.id))
    )
    if kind == NO_ANSWER:
        return query.where(
            Invitee.status == InviteeStatus.invited,
            col(Invitee.responded_at).is_(None),
            col(Invitee.invited_at).is_not(None),
            col(Invitee.invited_at) <= now - FRESH_INVITATION,
        )
    return query.where(
        Invitee.status == InviteeStatus.accepted,
        # NULL (accepted without a recorded time, e.g. entered by hand) counts as long ago.
        (col(Invitee.responded_at).is_(None))
        | (col(Invitee.responded_at) <= day_before_due_at(event) - FRESH_ANSWER),
    )


async def _candidate_events(now: datetime, *, session: AsyncSession) -> list[Event]:
    """Events that may have reminders due now (the windows are checked per event)."""
    query = select(Event).where(
        Event.status == EventStatus.published,
        col(Event.archived_at).is_(None),
        Event.starts_at > now,
        (col(Event.starts_at) <= now + DAY_BEFORE_LEAD)
        | (col(Event.rsvp_deadline).is_not(None) & (col(Event.rsvp_deadline) > now)),
    )
    return list((await session.exec(query)).all())


def _open_kinds(event: Event, now: datetime) -> list[ReminderKind]:
    kinds: list[ReminderKind] = []
    if no_answer_window_open(event, now):
        kinds.append(NO_ANSWER)
    if day_before_window_open(event, now):
        kinds.append(DAY_BEFORE)
    return kinds


async def anything_due(now: datetime, *, session: AsyncSession) -> bool:
    for event in await _candidate_events(now, session=session):
        for kind in _open_kinds(event, now):
            found = await session.exec(_due_query(event, kind, now).limit(1))  # type: ignore[attr-defined]
            if found.first() is not None:
                return True
    return False


async def record_reminder(
    invitee: Invitee, kind: ReminderKind, now: datetime, *, session: AsyncSession
) -> bool:
    """Records that `invitee` gets reminder `kind`; False when they had it already (or another
    transaction is recording it at this moment and commits)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(SentReminder)
        .values(invitee_id=invitee.id, kind=kind, sent_at=now)
        .on_conflict_do_nothing(index_elements=["invitee_id", "kind"])
    )
    result = await session.exec(statement)  # type: ignore[call-overload]
    return result.rowcount == 1


def _queue(
    invitee: Invitee,
    contact: Contact,
    event: Event,
    kind: ReminderKind,
    *,
    session: AsyncSession,
    settings: Settings,
) -> bool:
    try:
        messages.queue_reminder(invitee, contact, event, kind, session=session, settings=settings)
    except ValueError:  # no personal link, or an address that cannot go into an e-mail
        return False
    return True


@dataclass
class ReminderRun:
    no_answer: int = 0
    day_before: int = 0

    @property
    def total(self) -> int:
        return self.no_answer + self.day_before


async def queue_due_reminders(
    *, session: AsyncSession, settings: Settings, now: datetime
) -> ReminderRun:
    """Queues every scheduled reminder due at `now` (at most MAX_PER_TICK); the caller commits."""
    run = ReminderRun()
    budget = MAX_PER_TICK
    for event in await _candidate_events(now, session=session):
        for kind in _open_kinds(event, now):
            if budget <= 0:
                return run
            query = _due_query(event, kind, now).limit(budget)  # type: ignore[attr-defined]
            for invitee, contact in (await session.exec(query)).all():
                if not await record_reminder(invitee, kind, now, session=session):
                    continue
                if not _queue(invitee, contact, event, kind, session=session, settings=settings):
                    continue
                budget -= 1
                setattr(run, kind, getattr(run, kind) + 1)
    return run


@scheduled
async def send_due_reminders(*, database: Database, settings: Settings, now: datetime) -> None:
    """The mail worker's hook: queues the reminders that have become due, then the worker
    delivers them in the same tick."""
    async with database.session() as session:
        if not await anything_due(now, session=session):
            return
    async with database.session(write=True) as session:
        await queue_due_reminders(session=session, settings=settings, now=now)
        await session.commit()


# Reminding by hand.


@dataclass
class RemindReport:
    sent: list[Contact] = field(default_factory=list)
    already: list[Contact] = field(default_factory=list)  # had this reminder before
    suppressed: list[tuple[Contact, Suppression]] = field(default_factory=list)
    answered: int = 0  # selected people who have answered (or are not invited): no reminder


def reminder_problem(event: Event, now: datetime | None = None) -> str | None:
    """Why nobody can be reminded to answer now, or None."""
    now = now or utcnow()
    if event.is_draft:
        return _("This event is a draft: nobody is invited yet.")
    reason = closed_reason(event, now)
    if reason is not None:
        return closed_message(reason, event)
    return None


async def remind_now(
    event: Event,
    *,
    session: AsyncSession,
    settings: Settings,
    selected: Iterable[str] | None = None,
    now: datetime | None = None,
) -> RemindReport:
    """Reminds everyone invited who has not answered yet, or only those of them selected. The
    reminder counts as the scheduled one: nobody gets it twice."""
    now = now or utcnow()
    if problem := reminder_problem(event, now):
        raise DomainError(problem)
    ids = parse_ids(selected) if selected is not None else None
    if ids is not None and not ids:
        raise DomainError(_("Please select at least one person."))
    locked = await lock_event(event.id, session=session) if event.id else None
    if locked is None:
        raise DomainError(_("There is no such event."))
    event = locked

    query = (
        select(Invitee, Contact)
        .join(Contact, col(Contact.id) == Invitee.contact_id)
        .where(Invitee.event_id == event.id, col(Contact.anonymized_at).is_(None))
        .order_by(col(Contact.search_key), col(Invitee.id))
    )
    report = RemindReport()
    if ids is None:
        rows = list(
            (await session.exec(query.where(Invitee.status == InviteeStatus.invited))).all()
        )
    else:
        rows = []
        for start in range(0, len(ids), _CHUNK):
            chunk = query.where(col(Invitee.id).in_(ids[start : start + _CHUNK]))
            rows.extend((await session.exec(chunk)).all())
        if not rows:
            raise DomainError(_("These people are not on the guest list (any more)."))
        report.answered = sum(1 for invitee, _c in rows if invitee.status != InviteeStatus.invited)
        rows = [row for row in rows if row[0].status == InviteeStatus.invited]
    if not rows:
        raise DomainError(
            _("Everyone selected has answered already, or has not been invited yet.")
            if ids is not None
            else _("Everyone invited has answered already.")
        )
    suppressed = await suppressions_for([contact.email for _i, contact in rows], session=session)
    for invitee, contact in rows:
        entry = suppressed.get(contact.email.lower())
        if entry is not None:
            report.suppressed.append((contact, entry))
        elif not await record_reminder(invitee, NO_ANSWER, now, session=session):
            report.already.append(contact)
        elif _queue(invitee, contact, event, NO_ANSWER, session=session, settings=settings):
            report.sent.append(contact)
    await session.flush()
    return report
