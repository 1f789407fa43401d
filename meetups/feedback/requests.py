"""Asking attendees for feedback: the request after the event, one reminder before the form
closes, and "send it now" for organizers.

The request goes to those who attended (meetups.checkin: checked in, or accepted where check-in
was not used), by default the morning after the event at 9:00 in the event's zone (or a set number
of hours after its end). The reminder goes a set number of days before the form closes to those
who were asked at least a day earlier and have not answered. Addresses on the suppression list
(unsubscribed) and anonymized contacts get nothing.

Nobody gets the same request twice: each one is a FeedbackRequest row, unique per invitee and
kind, inserted with ON CONFLICT DO NOTHING in the same transaction as its e-mail; of two workers
(or a worker and an organizer) reaching for the same person at once, only one queues it. The hook
first looks with a read-only session whether anything is due, so an idle worker never takes
SQLite's write lock.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups import i18n
from meetups.checkin.desk import attended_invitees
from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import Database, utcnow
from meetups.errors import DomainError
from meetups.events.form import FEEDBACK_CLOSES_AFTER_END
from meetups.events.models import Event, EventStatus
from meetups.feedback.answers import answer_marker, closes_at
from meetups.feedback.forms import settings_of
from meetups.feedback.models import (
    FeedbackAnswered,
    FeedbackQuestion,
    FeedbackRequest,
    FeedbackSettings,
)
from meetups.i18n import gettext as _
from meetups.invitations.links import issue_link, personal_url
from meetups.invitations.messages import moment_text, render_email
from meetups.invitations.models import Invitee, Suppression
from meetups.mail.outbox import queue_email
from meetups.mail.scheduler import scheduled

REQUEST = "request"
REMINDER = "reminder"
OUTBOX_KINDS = {REQUEST: "feedback_request", REMINDER: "feedback_reminder"}
REQUEST_HOUR = 9
# A reminder follows its request by at least this long.
FRESH_REQUEST = timedelta(hours=24)
MAX_PER_TICK = 200


def request_due_at(event: Event, options: FeedbackSettings) -> datetime:
    """When the request goes out: the morning after the event at 9:00 in its zone, or the set
    number of hours after its end."""
    if options.request_delay_hours is not None:
        return event.ends_at + timedelta(hours=options.request_delay_hours)
    zone = ZoneInfo(event.timezone)
    next_day = event.ends_at.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(next_day, time(REQUEST_HOUR), tzinfo=zone).astimezone(UTC)


def reminder_due_at(event: Event, options: FeedbackSettings) -> datetime | None:
    if options.reminder_days_before_close <= 0:
        return None
    return closes_at(event) - timedelta(days=options.reminder_days_before_close)


def feedback_url(invitee: Invitee, settings: Settings) -> str | None:
    url = personal_url(invitee, settings)
    return f"{url}/feedback" if url else None


def _form_running(event: Event, now: datetime) -> bool:
    return (
        event.feedback_enabled
        and event.status == EventStatus.published
        and event.archived_at is None
        and event.ends_at <= now < closes_at(event)
    )


async def _candidate_events(now: datetime, *, session: AsyncSession) -> list[Event]:
    """Published events whose form may be open now and has questions."""
    has_questions = exists().where(FeedbackQuestion.event_id == Event.id)
    query = select(Event).where(
        col(Event.feedback_enabled),
        Event.status == EventStatus.published,
        col(Event.archived_at).is_(None),
        Event.ends_at <= now,
        (col(Event.feedback_closes_at) > now)
        | (
            col(Event.feedback_closes_at).is_(None)
            & (col(Event.ends_at) > now - FEEDBACK_CLOSES_AFTER_END)
        ),
        has_questions,
    )
    return [event for event in (await session.exec(query)).all() if _form_running(event, now)]


async def _already(event: Event, kind: str, *, session: AsyncSession) -> dict[int, datetime]:
    query = select(FeedbackRequest.invitee_id, FeedbackRequest.sent_at).where(
        FeedbackRequest.event_id == event.id, FeedbackRequest.kind == kind
    )
    return dict((await session.exec(query)).all())


async def _answered_markers(event: Event, *, session: AsyncSession) -> set[str]:
    query = select(FeedbackAnswered.marker).where(FeedbackAnswered.event_id == event.id)
    return set((await session.exec(query)).all())


async def _contacts(invitees: Sequence[Invitee], *, session: AsyncSession) -> dict[int, Contact]:
    ids = sorted({invitee.contact_id for invitee in invitees})
    found: dict[int, Contact] = {}
    for start in range(0, len(ids), 500):
        query = select(Contact).where(col(Contact.id).in_(ids[start : start + 500]))
        found.update({contact.id: contact for contact in (await session.exec(query)).all()})  # type: ignore[misc]
    return found


async def _suppressed(contacts: Sequence[Contact], *, session: AsyncSession) -> set[str]:
    emails = sorted({contact.email.lower() for contact in contacts})
    found: set[str] = set()
    for start in range(0, len(emails), 500):
        query = select(Suppression.email).where(
            col(Suppression.email).in_(emails[start : start + 500])
        )
        found.update(email.lower() for email in (await session.exec(query)).all())
    return found


@dataclass
class Recipients:
    """Whom a request or reminder would go to now, and whom it skips and why."""

    due: list[tuple[Invitee, Contact]] = field(default_factory=list)
    already: list[tuple[Invitee, Contact]] = field(default_factory=list)
    suppressed: list[tuple[Invitee, Contact]] = field(default_factory=list)


async def request_recipients(
    event: Event, *, session: AsyncSession, settings: Settings
) -> Recipients:
    """The attendees, sorted into those due for the request and those who are not."""
    attendees = await attended_invitees(event, session=session)
    return await _sort(event, attendees, REQUEST, session=session)


async def reminder_recipients(
    event: Event, now: datetime, *, session: AsyncSession, settings: Settings
) -> Recipients:
    """Those asked at least a day ago who have not answered and not been reminded."""
    asked = await _already(event, REQUEST, session=session)
    answered = await _answered_markers(event, session=session)
    waiting = [
        invitee_id
        for invitee_id, sent_at in asked.items()
        if sent_at <= now - FRESH_REQUEST
        and answer_marker(event.id, invitee_id, settings.secret) not in answered  # type: ignore[arg-type]
    ]
    invitees: list[Invitee] = []
    for start in range(0, len(waiting), 500):
        query = select(Invitee).where(col(Invitee.id).in_(waiting[start : start + 500]))
        invitees.extend((await session.exec(query.order_by(col(Invitee.id)))).all())
    return await _sort(event, invitees, REMINDER, session=session)


async def _sort(
    event: Event, invitees: Sequence[Invitee], kind: str, *, session: AsyncSession
) -> Recipients:
    done = await _already(event, kind, session=session)
    contacts = await _contacts(invitees, session=session)
    suppressed = await _suppressed(list(contacts.values()), session=session)
    recipients = Recipients()
    for invitee in invitees:
        contact = contacts.get(invitee.contact_id)
        if contact is None or contact.anonymized_at is not None or invitee.erased_at is not None:
            continue
        if invitee.id in done:
            recipients.already.append((invitee, contact))
        elif contact.email.lower() in suppressed:
            recipients.suppressed.append((invitee, contact))
        else:
            recipients.due.append((invitee, contact))
    return recipients


async def _record(invitee: Invitee, kind: str, now: datetime, *, session: AsyncSession) -> bool:
    """Records that `invitee` gets `kind`; False when they had it already (or another
    transaction is recording it at this moment and commits)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(FeedbackRequest)
        .values(event_id=invitee.event_id, invitee_id=invitee.id, kind=kind, sent_at=now)
        .on_conflict_do_nothing(index_elements=["invitee_id", "kind"])
    )
    result = await session.exec(statement)  # type: ignore[call-overload]
    return result.rowcount == 1


def queue_feedback_email(
    invitee: Invitee,
    contact: Contact,
    event: Event,
    kind: str,
    *,
    session: AsyncSession,
    settings: Settings,
) -> None:
    """Renders the request or reminder in the contact's language and adds it to the outbox."""
    if invitee.link_nonce is None:
        # Someone added at the door has no personal link yet: they get one now.
        issue_link(invitee, settings.secret)
        session.add(invitee)
    link = feedback_url(invitee, settings)
    assert link is not None
    with i18n.use_locale(contact.language):
        closes = moment_text(closes_at(event), event.timezone)
    rendered = render_email(
        f"feedback/{kind}",
        contact.language,
        {
            "name": contact.name,
            "event": event,
            "link": link,
            "closes": closes,
            "anonymous": event.feedback_anonymous,
            "organizer_name": event.contact_name.strip(),
        },
    )
    queue_email(
        session=session,
        settings=settings,
        to=contact.email,
        to_name=contact.name,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        kind=OUTBOX_KINDS[kind],
        reply_to=event.contact_email.strip() or None,
        reply_to_name=event.contact_name,
        event_id=event.id,
        invitee_id=invitee.id,
    )


async def _send(
    event: Event,
    rows: Sequence[tuple[Invitee, Contact]],
    kind: str,
    now: datetime,
    budget: int,
    *,
    session: AsyncSession,
    settings: Settings,
) -> tuple[list[Contact], list[Contact]]:
    """Records and queues `kind` for `rows` (at most `budget`): (sent, had it already)."""
    sent: list[Contact] = []
    already: list[Contact] = []
    for invitee, contact in rows:
        if len(sent) >= budget:
            break
        if not await _record(invitee, kind, now, session=session):
            already.append(contact)
            continue
        try:
            # A savepoint: an address that cannot go into an e-mail undoes only its own record.
            async with session.begin_nested():
                queue_feedback_email(
                    invitee, contact, event, kind, session=session, settings=settings
                )
                await session.flush()
        except ValueError:
            continue
        sent.append(contact)
    return sent, already


@dataclass
class FeedbackRun:
    requests: int = 0
    reminders: int = 0


async def _due_now(
    event: Event, now: datetime, *, session: AsyncSession, settings: Settings
) -> dict[str, Recipients]:
    options = await settings_of(event, session=session)
    due: dict[str, Recipients] = {}
    if now >= request_due_at(event, options):
        due[REQUEST] = await request_recipients(event, session=session, settings=settings)
    reminder_at = reminder_due_at(event, options)
    if reminder_at is not None and now >= reminder_at:
        due[REMINDER] = await reminder_recipients(event, now, session=session, settings=settings)
    return due


async def anything_due(now: datetime, *, session: AsyncSession, settings: Settings) -> bool:
    for event in await _candidate_events(now, session=session):
        due = await _due_now(event, now, session=session, settings=settings)
        if any(recipients.due for recipients in due.values()):
            return True
    return False


async def queue_due_feedback(
    *, session: AsyncSession, settings: Settings, now: datetime
) -> FeedbackRun:
    """Queues every request and reminder due at `now` (at most MAX_PER_TICK); the caller commits."""
    run = FeedbackRun()
    budget = MAX_PER_TICK
    for event in await _candidate_events(now, session=session):
        due = await _due_now(event, now, session=session, settings=settings)
        for kind in (REQUEST, REMINDER):
            if kind not in due or budget <= 0:
                continue
            sent, _already = await _send(
                event, due[kind].due, kind, now, budget, session=session, settings=settings
            )
            budget -= len(sent)
            if kind == REQUEST:
                run.requests += len(sent)
            else:
                run.reminders += len(sent)
    return run


@scheduled
async def send_due_feedback(*, database: Database, settings: Settings, now: datetime) -> None:
    """The mail worker's hook: queues the feedback requests and reminders that have become due."""
    async with database.session() as session:
        if not await anything_due(now, session=session, settings=settings):
            return
    async with database.session(write=True) as session:
        await queue_due_feedback(session=session, settings=settings, now=now)
        await session.commit()


# Sending by hand.


@dataclass
class SendReport:
    sent: list[Contact] = field(default_factory=list)
    already: list[Contact] = field(default_factory=list)
    suppressed: list[Contact] = field(default_factory=list)


def send_problem(event: Event, has_questions: bool, now: datetime) -> str | None:
    """Why the request cannot be sent now, or None."""
    if not event.feedback_enabled:
        return _("Feedback is switched off for this event (see its settings).")
    if event.status != EventStatus.published or event.archived_at is not None:
        return _("Only a published event that is not archived can ask for feedback.")
    if not has_questions:
        return _("The form has no questions yet.")
    if now < event.ends_at:
        return _("The form opens when the event is over; the request can be sent from then on.")
    if now >= closes_at(event):
        return _("The form is closed.")
    return None


async def send_now(
    event: Event, *, session: AsyncSession, settings: Settings, now: datetime | None = None
) -> SendReport:
    """Sends the request at once to every attendee who has not had it."""
    now = now or utcnow()
    has_questions = (
        await session.exec(
            select(FeedbackQuestion.id).where(FeedbackQuestion.event_id == event.id).limit(1)
        )
    ).first() is not None
    if problem := send_problem(event, has_questions, now):
        raise DomainError(problem)
    recipients = await request_recipients(event, session=session, settings=settings)
    report = SendReport(
        already=[contact for _i, contact in recipients.already],
        suppressed=[contact for _i, contact in recipients.suppressed],
    )
    if not recipients.due and not recipients.already and not recipients.suppressed:
        raise DomainError(_("Nobody attended this event (no one accepted or checked in)."))
    sent, already = await _send(
        event,
        recipients.due,
        REQUEST,
        now,
        len(recipients.due),
        session=session,
        settings=settings,
    )
    report.sent = sent
    report.already.extend(already)
    return report


@dataclass(frozen=True)
class RequestCounts:
    requested: int
    reminded: int
    next_request_at: datetime | None
    reminder_at: datetime | None


async def request_counts(event: Event, *, session: AsyncSession) -> RequestCounts:
    options = await settings_of(event, session=session)
    requested = await _already(event, REQUEST, session=session)
    reminded = await _already(event, REMINDER, session=session)
    return RequestCounts(
        requested=len(requested),
        reminded=len(reminded),
        next_request_at=request_due_at(event, options),
        reminder_at=reminder_due_at(event, options),
    )
