"""What the organizer watches: the guest list's numbers, each e-mail's fate, and the progress of
what is being sent.

Every number here is counted by the database at the moment of asking, from the same rows the
guest list shows, so the counts and the list always agree.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, case, exists, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.contacts.models import Contact
from meetups.events.models import Event
from meetups.i18n import gettext as _
from meetups.invitations.models import Invitee, InviteeStatus, SentReminder, Suppression
from meetups.mail.models import OutboxMessage, OutboxStatus
from meetups.paging import PageNumbers, clamp_page

_CHUNK = 500
# The progress panel lists at most this many people still waiting for their e-mail, and at most
# this many whose e-mail failed (the Emails tab has them all).
PROGRESS_LIST_SIZE = 50
EMAILS_PAGE_SIZE = 100


class GuestFilter(StrEnum):
    """The guest list's filters: each status, and a few views across them."""

    not_invited = "not_invited"
    all_invited = "all_invited"
    opened = "opened"
    invited = "invited"  # invited and no answer yet
    accepted = "accepted"
    maybe = "maybe"
    declined = "declined"
    waitlisted = "waitlisted"
    bounced = "bounced"
    unsubscribed = "unsubscribed"

    @property
    def label(self) -> str:
        return {
            GuestFilter.not_invited: _("Not invited yet"),
            GuestFilter.all_invited: _("Invited"),
            GuestFilter.opened: _("Opened"),
            GuestFilter.invited: _("No answer yet"),
            GuestFilter.accepted: _("Accepted"),
            GuestFilter.maybe: _("Maybe"),
            GuestFilter.declined: _("Declined"),
            GuestFilter.waitlisted: _("Waitlisted"),
            GuestFilter.bounced: _("Bounced"),
            GuestFilter.unsubscribed: _("Unsubscribed"),
        }[self]


def parse_filter(value: str | None) -> GuestFilter | None:
    try:
        return GuestFilter((value or "").strip())
    except ValueError:
        return None


def _latest_message_ids(event_id: int) -> object:
    """The newest outbox row of each invitee of the event (by id: rows are numbered in order)."""
    return (
        select(func.max(OutboxMessage.id))
        .where(OutboxMessage.event_id == event_id, col(OutboxMessage.invitee_id).is_not(None))
        .group_by(col(OutboxMessage.invitee_id))
    )


def bounced_condition(event_id: int) -> ColumnElement[bool]:
    """Invitees whose latest e-mail for this event was refused for good (or given up on)."""
    failed = select(OutboxMessage.invitee_id).where(
        col(OutboxMessage.id).in_(_latest_message_ids(event_id)),  # type: ignore[arg-type]
        OutboxMessage.status == OutboxStatus.failed,
    )
    return col(Invitee.id).in_(failed)


def suppressed_condition() -> ColumnElement[bool]:
    """Invitees whose contact's address is on the suppression list (stored lower-cased)."""
    return col(Contact.email).in_(select(Suppression.email))


def filter_condition(chosen: GuestFilter, event_id: int) -> ColumnElement[bool]:
    """The condition of a filter, over Invitee joined with Contact."""
    if chosen == GuestFilter.all_invited:
        return Invitee.status != InviteeStatus.not_invited  # type: ignore[return-value]
    if chosen == GuestFilter.opened:
        return col(Invitee.opened_at).is_not(None)
    if chosen == GuestFilter.bounced:
        return bounced_condition(event_id)
    if chosen == GuestFilter.unsubscribed:
        return suppressed_condition()
    return Invitee.status == InviteeStatus(chosen.value)  # type: ignore[return-value]


@dataclass(frozen=True)
class GuestListCounts:
    """The guest list's numbers. `invited` counts everyone who had an invitation, whatever they
    answered since; `no_answer` those invited who have not answered; `accepted_seats` the places
    the accepted guests hold, plus-ones included."""

    on_list: int = 0
    not_invited: int = 0
    invited: int = 0
    opened: int = 0
    no_answer: int = 0
    accepted: int = 0
    accepted_seats: int = 0
    maybe: int = 0
    declined: int = 0
    waitlisted: int = 0
    bounced: int = 0
    unsubscribed: int = 0

    @property
    def plus_ones(self) -> int:
        return max(self.accepted_seats - self.accepted, 0)

    def of(self, chosen: GuestFilter) -> int:
        return {
            GuestFilter.not_invited: self.not_invited,
            GuestFilter.all_invited: self.invited,
            GuestFilter.opened: self.opened,
            GuestFilter.invited: self.no_answer,
            GuestFilter.accepted: self.accepted,
            GuestFilter.maybe: self.maybe,
            GuestFilter.declined: self.declined,
            GuestFilter.waitlisted: self.waitlisted,
            GuestFilter.bounced: self.bounced,
            GuestFilter.unsubscribed: self.unsubscribed,
        }[chosen]


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def guest_list_counts(event: Event, *, session: AsyncSession) -> GuestListCounts:
    """All the numbers in one query."""
    assert event.id is not None
    status = col(Invitee.status)
    accepted = status == InviteeStatus.accepted
    query = (
        select(
            func.count(),
            _count_if(status == InviteeStatus.not_invited),
            _count_if(status != InviteeStatus.not_invited),
            _count_if(col(Invitee.opened_at).is_not(None)),
            _count_if(status == InviteeStatus.invited),
            _count_if(accepted),
            func.coalesce(func.sum(case((accepted, Invitee.seats), else_=0)), 0),
            _count_if(status == InviteeStatus.maybe),
            _count_if(status == InviteeStatus.declined),
            _count_if(status == InviteeStatus.waitlisted),
            _count_if(bounced_condition(event.id)),
            _count_if(suppressed_condition()),
        )
        .select_from(Invitee)
        .join(Contact, col(Contact.id) == Invitee.contact_id)
        .where(Invitee.event_id == event.id)
    )
    row = (await session.exec(query)).one()  # type: ignore[call-overload]
    return GuestListCounts(*(int(value or 0) for value in row))


async def latest_messages(
    invitee_ids: Iterable[int], *, session: AsyncSession
) -> dict[int, OutboxMessage]:
    """Each invitee's newest e-mail, for the delivery column of the guest list."""
    wanted = sorted(set(invitee_ids))
    found: dict[int, OutboxMessage] = {}
    for start in range(0, len(wanted), _CHUNK):
        newest = (
            select(func.max(OutboxMessage.id))
            .where(col(OutboxMessage.invitee_id).in_(wanted[start : start + _CHUNK]))
            .group_by(col(OutboxMessage.invitee_id))
        )
        rows = await session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(newest)))
        for message in rows.all():
            if message.invitee_id is not None:
                found[message.invitee_id] = message
    return found


async def email_history(invitee: Invitee, *, session: AsyncSession) -> list[OutboxMessage]:
    """Every e-mail queued for this invitee, newest first."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.invitee_id == invitee.id)
        .order_by(col(OutboxMessage.id).desc())
    )
    return list((await session.exec(query)).all())


async def sent_reminders(invitee: Invitee, *, session: AsyncSession) -> list[SentReminder]:
    query = (
        select(SentReminder)
        .where(SentReminder.invitee_id == invitee.id)
        .order_by(col(SentReminder.sent_at))
    )
    return list((await session.exec(query)).all())


def is_waiting(message: OutboxMessage) -> bool:
    return message.status in {OutboxStatus.queued, OutboxStatus.sending}


def delivery_label(message: OutboxMessage) -> str:
    """queued / being sent / sent / failed, as the organizer reads it."""
    if message.status == OutboxStatus.queued and message.attempts:
        return _("Queued, will try again")
    return {
        OutboxStatus.queued: _("Queued"),
        OutboxStatus.sending: _("Being sent"),
        OutboxStatus.sent: _("Sent"),
        OutboxStatus.failed: _("Failed"),
    }.get(OutboxStatus(message.status), str(message.status))


def delivery_badge(message: OutboxMessage) -> str:
    return {
        OutboxStatus.queued: "warn" if message.attempts else "info",
        OutboxStatus.sending: "info",
        OutboxStatus.sent: "ok",
        OutboxStatus.failed: "bad",
    }.get(OutboxStatus(message.status), "")


@dataclass(frozen=True)
class Waiting:
    message: OutboxMessage
    name: str


@dataclass
class DeliveryProgress:
    """Where the event's e-mails stand: how many wait, went out, or failed; who is still waiting,
    and whose latest e-mail failed (with the server's reason)."""

    queued: int = 0  # waiting their turn, or waiting to be tried again
    sending: int = 0
    sent: int = 0
    failed: int = 0
    waiting: list[Waiting] = field(default_factory=list)
    failures: list[Waiting] = field(default_factory=list)
    failures_total: int = 0

    @property
    def total(self) -> int:
        return self.queued + self.sending + self.sent + self.failed

    @property
    def in_progress(self) -> bool:
        return bool(self.queued or self.sending)

    @property
    def done(self) -> int:
        return self.sent + self.failed

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(100 * self.done / self.total)


async def _with_names(statement: object, *, session: AsyncSession, limit: int) -> list[Waiting]:
    query = (
        statement.outerjoin(  # type: ignore[attr-defined]
            Invitee, col(Invitee.id) == OutboxMessage.invitee_id
        )
        .outerjoin(Contact, col(Contact.id) == Invitee.contact_id)
        .order_by(col(OutboxMessage.id))
        .limit(limit)
    )
    return [
        Waiting(message, name or message.recipient_name or message.recipient)
        for message, name in (await session.exec(query)).all()
    ]


async def delivery_progress(event: Event, *, session: AsyncSession) -> DeliveryProgress:
    assert event.id is not None
    progress = DeliveryProgress()
    counts = (
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.event_id == event.id)
        .group_by(col(OutboxMessage.status))
    )
    for status, count in (await session.exec(counts)).all():
        setattr(progress, OutboxStatus(status).value, count)
    base = select(OutboxMessage, Contact.name).where(OutboxMessage.event_id == event.id)
    if progress.in_progress:
        waiting = base.where(
            col(OutboxMessage.status).in_([OutboxStatus.queued, OutboxStatus.sending])
        )
        progress.waiting = await _with_names(waiting, session=session, limit=PROGRESS_LIST_SIZE)
    if progress.failed:
        standing = or_(
            col(OutboxMessage.id).in_(_latest_message_ids(event.id)),  # type: ignore[arg-type]
            col(OutboxMessage.invitee_id).is_(None),
        )
        failed = and_(OutboxMessage.status == OutboxStatus.failed, standing)
        progress.failures = await _with_names(
            base.where(failed), session=session, limit=PROGRESS_LIST_SIZE
        )
        total = (
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.event_id == event.id, failed)
        )
        progress.failures_total = (await session.exec(total)).one()
    return progress


@dataclass
class EmailsPage(PageNumbers):
    rows: list[tuple[OutboxMessage, Contact | None]]
    total: int
    page: int
    page_size: int
    kinds: list[str]


def parse_delivery_status(value: str | None) -> OutboxStatus | None:
    try:
        return OutboxStatus((value or "").strip())
    except ValueError:
        return None


async def event_emails(
    event: Event,
    *,
    session: AsyncSession,
    status: OutboxStatus | None = None,
    kind: str = "",
    page: int = 1,
    page_size: int = EMAILS_PAGE_SIZE,
) -> EmailsPage:
    """Every e-mail of the event, newest first, optionally of one status or kind."""
    assert event.id is not None
    statement = (
        select(OutboxMessage, Contact)
        .outerjoin(Invitee, col(Invitee.id) == OutboxMessage.invitee_id)
        .outerjoin(Contact, col(Contact.id) == Invitee.contact_id)
        .where(OutboxMessage.event_id == event.id)
    )
    if status is not None:
        statement = statement.where(OutboxMessage.status == status)
    kinds_query = (
        select(OutboxMessage.kind)
        .where(OutboxMessage.event_id == event.id)
        .distinct()
        .order_by(col(OutboxMessage.kind))
    )
    kinds = list((await session.exec(kinds_query)).all())
    if kind:
        statement = statement.where(OutboxMessage.kind == (kind if kind in kinds else ""))
    total = (await session.exec(select(func.count()).select_from(statement.subquery()))).one()
    page = clamp_page(page, total, page_size)
    rows = await session.exec(
        statement.order_by(col(OutboxMessage.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return EmailsPage(list(rows.all()), total, page, page_size, kinds)


async def event_email(
    event: Event, message_id: int, *, session: AsyncSession
) -> tuple[OutboxMessage, Contact | None] | None:
    """One of the event's e-mails (None for another event's, or none at all)."""
    message = await session.get(OutboxMessage, message_id)
    if message is None or message.event_id != event.id:
        return None
    invitee = await session.get(Invitee, message.invitee_id) if message.invitee_id else None
    contact = await session.get(Contact, invitee.contact_id) if invitee is not None else None
    return message, contact


async def invitable_count(event: Event, *, session: AsyncSession) -> int:
    """Not invited yet, and reachable: the number "Send invitations" would send now."""
    query = (
        select(func.count())
        .select_from(Invitee)
        .join(Contact, col(Contact.id) == Invitee.contact_id)
        .where(
            Invitee.event_id == event.id,
            Invitee.status == InviteeStatus.not_invited,
            col(Contact.anonymized_at).is_(None),
            ~suppressed_condition(),
        )
    )
    return (await session.exec(query)).one()


async def remindable_count(event: Event, *, session: AsyncSession) -> int:
    """Invited, no answer, reachable and not reminded yet: whom "Remind now" would remind."""
    reminded = exists().where(
        SentReminder.invitee_id == Invitee.id, SentReminder.kind == "no_answer"
    )
    query = (
        select(func.count())
        .select_from(Invitee)
        .join(Contact, col(Contact.id) == Invitee.contact_id)
        .where(
            Invitee.event_id == event.id,
            Invitee.status == InviteeStatus.invited,
            col(Contact.anonymized_at).is_(None),
            ~suppressed_condition(),
            ~reminded,
        )
    )
    return (await session.exec(query)).one()
