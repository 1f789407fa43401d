"""An invitee's answer: accept, decline or maybe, and the details that go with it.

Answers can change until the RSVP deadline (and never once the event was cancelled, archived or
has begun). Accepting takes places (meetups.invitations.waitlist); when the event is full, or
others are already waiting, the invitee joins the waitlist instead. Every change of answer is
confirmed by e-mail, queued in the same transaction; the caller commits once.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import utcnow
from meetups.errors import DomainError, NotFound, ValidationFailed
from meetups.events.models import Event, EventStatus
from meetups.forms import is_checked
from meetups.i18n import LANGUAGES
from meetups.i18n import gettext as _
from meetups.invitations import messages, waitlist
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.validation import clean_name, clean_text

ANSWERS = (InviteeStatus.accepted, InviteeStatus.maybe, InviteeStatus.declined)


class ClosedReason(StrEnum):
    cancelled = "cancelled"
    archived = "archived"
    started = "started"
    deadline = "deadline"


class AnswersClosed(DomainError):
    def __init__(self, reason: ClosedReason, event: Event) -> None:
        super().__init__(closed_message(reason, event))
        self.reason = reason


def closed_reason(event: Event, now: datetime) -> ClosedReason | None:
    """Why answers can no longer change, or None while they can."""
    if event.status == EventStatus.cancelled:
        return ClosedReason.cancelled
    if event.archived_at is not None:
        return ClosedReason.archived
    if event.starts_at <= now:
        return ClosedReason.started
    if event.rsvp_deadline is not None and event.rsvp_deadline <= now:
        return ClosedReason.deadline
    return None


def closed_message(reason: ClosedReason, event: Event) -> str:
    if reason == ClosedReason.cancelled:
        return _("This event has been cancelled, so answers can no longer be changed.")
    if reason == ClosedReason.deadline:
        return _(
            "Replies closed on %(deadline)s, so your answer can no longer be changed here.",
            deadline=messages.answers_close_at(event),
        )
    if reason == ClosedReason.started:
        return _("This event has already begun, so answers can no longer be changed.")
    return _("This event is over, so answers can no longer be changed.")


def parse_answer(value: str | None) -> InviteeStatus | None:
    try:
        answer = InviteeStatus((value or "").strip())
    except ValueError:
        return None
    return answer if answer in ANSWERS else None


@dataclass
class RsvpState:
    """What the invitee's page shows."""

    invitee: Invitee
    contact: Contact
    event: Event
    closed: ClosedReason | None
    position: int | None  # on the waitlist
    full: bool  # accepting now would mean joining the waitlist

    @property
    def can_change(self) -> bool:
        return self.closed is None

    @property
    def closed_message(self) -> str:
        return closed_message(self.closed, self.event) if self.closed else ""

    @property
    def answered(self) -> bool:
        return self.invitee.status in (*ANSWERS, InviteeStatus.waitlisted)


@dataclass
class AnswerOutcome:
    status: InviteeStatus
    changed: bool
    position: int | None = None
    promoted: list[Invitee] = field(default_factory=list)


async def _others_waiting(event: Event, invitee: Invitee, *, session: AsyncSession) -> bool:
    query = select(Invitee.id).where(
        Invitee.event_id == event.id,
        Invitee.status == InviteeStatus.waitlisted,
        Invitee.id != invitee.id,
    )
    return (await session.exec(query.limit(1))).first() is not None


async def page_state(
    invitee: Invitee, *, session: AsyncSession, now: datetime | None = None
) -> RsvpState:
    """The invitee's page, read only."""
    event = await session.get(Event, invitee.event_id)
    contact = await session.get(Contact, invitee.contact_id)
    if event is None or contact is None:
        raise NotFound(_("This invitation no longer exists."))
    full = waitlist.is_full(event, waitlist.seats_needed(invitee, event)) or await _others_waiting(
        event, invitee, session=session
    )
    return RsvpState(
        invitee=invitee,
        contact=contact,
        event=event,
        closed=closed_reason(event, now or utcnow()),
        position=await waitlist.waitlist_position(invitee, session=session),
        full=full,
    )


async def record_opened(invitee: Invitee, *, session: AsyncSession) -> bool:
    """Notes the first time the link was opened (never moves it later); True if this was it."""
    if invitee.opened_at is not None:
        return False
    statement = (
        update(Invitee)
        .where(col(Invitee.id) == invitee.id, col(Invitee.opened_at).is_(None))
        .values(opened_at=utcnow())
    )
    result = await session.exec(statement)  # type: ignore[call-overload]
    return result.rowcount == 1


async def _lock(invitee: Invitee, *, session: AsyncSession) -> tuple[Event, Invitee, Contact]:
    """The event and the invitee, freshly read and locked in that order (see waitlist)."""
    event = await waitlist.lock_event(invitee.event_id, session=session)
    current = await waitlist.lock_invitee(invitee.id, session=session) if invitee.id else None
    contact = await session.get(Contact, current.contact_id) if current else None
    if event is None or current is None or contact is None:
        raise NotFound(_("This invitation no longer exists."))
    return event, current, contact


def _remember_language(contact: Contact, language: str | None, session: AsyncSession) -> None:
    """The language the invitee chose on their page is the one to write to them in."""
    if language in LANGUAGES and language != contact.language:
        contact.language = language
        session.add(contact)


async def answer(
    invitee: Invitee,
    value: str | None,
    *,
    session: AsyncSession,
    settings: Settings,
    language: str | None = None,
) -> AnswerOutcome:
    """Records the answer `value` ('accepted', 'declined' or 'maybe'), takes or frees places,
    promotes from the waitlist, and queues the confirmation (and any promotion e-mails).
    Answering the same again changes nothing and sends nothing."""
    chosen = parse_answer(value)
    if chosen is None:
        raise DomainError(_("Please choose one of the answers."), field="answer")
    event, invitee, contact = await _lock(invitee, session=session)
    now = utcnow()  # taken under the lock: the order of answers is the order they were applied
    if (reason := closed_reason(event, now)) is not None:
        raise AnswersClosed(reason, event)
    _remember_language(contact, language, session)

    before = InviteeStatus(invitee.status)
    promoted: list[Invitee] = []
    if chosen == InviteeStatus.accepted:
        if before in (InviteeStatus.accepted, InviteeStatus.waitlisted):
            position = await waitlist.waitlist_position(invitee, session=session)
            return AnswerOutcome(status=before, changed=False, position=position)
        needed = waitlist.seats_needed(invitee, event)
        # Nobody overtakes those already waiting, even where a place happens to be free.
        if not await _others_waiting(event, invitee, session=session) and await waitlist.take_seats(
            event, needed, session=session
        ):
            invitee.status = InviteeStatus.accepted
            invitee.seats = needed
            invitee.waitlisted_at = None
        else:
            invitee.status = InviteeStatus.waitlisted
            invitee.waitlisted_at = now
    else:
        if before == chosen:
            return AnswerOutcome(status=before, changed=False)
        if invitee.seats:
            await waitlist.give_back_seats(event, invitee.seats, session=session)
            invitee.seats = 0
        invitee.status = chosen
        invitee.waitlisted_at = None
    invitee.responded_at = now
    session.add(invitee)
    await session.flush()
    if before in (InviteeStatus.accepted, InviteeStatus.waitlisted):
        # A place came free, or the one who blocked the head of the line left it.
        promoted = await waitlist.promote_waitlisted(
            event, session=session, settings=settings, now=now
        )
    position = await waitlist.waitlist_position(invitee, session=session)
    if not contact.is_anonymized:
        messages.queue_answer_confirmation(
            invitee,
            contact,
            event,
            session=session,
            settings=settings,
            position=position,
            withdraw_calendar=before in (InviteeStatus.accepted, InviteeStatus.maybe),
        )
    return AnswerOutcome(
        status=InviteeStatus(invitee.status), changed=True, position=position, promoted=promoted
    )


DETAIL_FIELDS = (
    "plus_one_name",
    "dietary_needs",
    "accessibility_needs",
    "travelling_from",
    "needs_hotel",
    "comment",
)


def clean_details(data: Mapping[str, str], event: Event) -> dict[str, str | bool]:
    """The details form, checked field by field; raises ValidationFailed with every problem."""
    errors: dict[str, str] = {}
    values: dict[str, str | bool] = {}
    single_line = {"travelling_from": 200}
    multi_line = {"dietary_needs": 1000, "accessibility_needs": 1000, "comment": 2000}
    plus_one = data.get("plus_one_name", "")
    try:
        plus_one = clean_text(plus_one, max_length=200)
        values["plus_one_name"] = clean_name(plus_one) if plus_one else ""
    except ValueError as error:
        errors["plus_one_name"] = str(error)
    if values.get("plus_one_name") and not event.plus_ones_allowed:
        errors["plus_one_name"] = _("This invitation is for you alone, without a companion.")
    for name, limit in single_line.items():
        try:
            values[name] = " ".join(clean_text(data.get(name), max_length=limit).split())
        except ValueError as error:
            errors[name] = str(error)
    for name, limit in multi_line.items():
        try:
            values[name] = clean_text(data.get(name), max_length=limit, multiline=True)
        except ValueError as error:
            errors[name] = str(error)
    values["needs_hotel"] = is_checked(dict(data), "needs_hotel")
    if errors:
        raise ValidationFailed(errors)
    return values


@dataclass
class DetailsOutcome:
    changed: bool
    promoted: list[Invitee] = field(default_factory=list)


async def save_details(
    invitee: Invitee,
    data: Mapping[str, str],
    *,
    session: AsyncSession,
    settings: Settings,
    language: str | None = None,
) -> DetailsOutcome:
    """Stores the details (plus-one, dietary and accessibility needs, travelling from, hotel,
    comment). A plus-one added to an acceptance takes a second place, if there is one; one taken
    away frees it for the waitlist."""
    event, invitee, contact = await _lock(invitee, session=session)
    now = utcnow()
    if (reason := closed_reason(event, now)) is not None:
        raise AnswersClosed(reason, event)
    values = clean_details(data, event)
    _remember_language(contact, language, session)

    changed = any(getattr(invitee, name) != value for name, value in values.items())
    promoted: list[Invitee] = []
    if invitee.status == InviteeStatus.accepted:
        needed = 2 if event.plus_ones_allowed and values["plus_one_name"] else 1
        extra = needed - invitee.seats
        if extra > 0 and not await waitlist.take_seats(event, extra, session=session):
            raise ValidationFailed(
                {
                    "plus_one_name": _(
                        "Sorry, there is no place left for a companion: the event is full."
                    )
                }
            )
        if extra < 0:
            await waitlist.give_back_seats(event, -extra, session=session)
        invitee.seats = needed
        for name, value in values.items():
            setattr(invitee, name, value)
        session.add(invitee)
        await session.flush()
        if extra < 0:
            promoted = await waitlist.promote_waitlisted(
                event, session=session, settings=settings, now=now
            )
    else:
        for name, value in values.items():
            setattr(invitee, name, value)
        session.add(invitee)
    return DetailsOutcome(changed=changed, promoted=promoted)
