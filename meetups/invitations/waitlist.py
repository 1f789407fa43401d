"""Places and the waitlist: who holds a seat, who waits, and who moves up when a seat frees.

The capacity holds however many people accept at the same moment because a seat is only ever
taken by one conditional statement,

    UPDATE event SET seats_taken = seats_taken + :n
    WHERE id = :id AND (capacity IS NULL OR seats_taken + :n <= capacity)

whose row count says whether it worked; the database checks and counts in one step, on SQLite and
on PostgreSQL alike. On top of that, every change of an answer first locks the event's row (FOR
UPDATE on PostgreSQL; SQLite's writers are serialized by BEGIN IMMEDIATE anyway), so the answers to
one event are applied one after the other, in a fixed lock order (event, then invitees): no
deadlocks, and the waitlist's order is the order in which the answers were applied.

Promotion is strictly in order: the first on the waitlist moves up as soon as there is room for
them (and their plus-one); nobody further back overtakes them.
"""

from datetime import datetime

from sqlalchemy import and_, case, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import utcnow
from meetups.events.models import Event, EventStatus
from meetups.invitations.models import Invitee, InviteeStatus


def seats_needed(invitee: Invitee, event: Event) -> int:
    """The places this guest takes when accepted: 1, or 2 with a plus-one where allowed."""
    return 2 if event.plus_ones_allowed and invitee.plus_one_name else 1


async def lock_event(event_id: int, *, session: AsyncSession) -> Event | None:
    """The event, freshly read and locked for the rest of the transaction (PostgreSQL)."""
    query = (
        select(Event)
        .where(Event.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.exec(query)).first()


async def lock_invitee(invitee_id: int, *, session: AsyncSession) -> Invitee | None:
    """The invitee, freshly read and locked; call after `lock_event` (always that order)."""
    query = (
        select(Invitee)
        .where(Invitee.id == invitee_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.exec(query)).first()


async def take_seats(event: Event, seats: int, *, session: AsyncSession) -> bool:
    """Takes `seats` places if the capacity allows it; False (and nothing changed) if not."""
    if seats <= 0:
        return True
    statement = (
        update(Event)
        .where(
            col(Event.id) == event.id,
            or_(
                col(Event.capacity).is_(None),
                col(Event.seats_taken) + seats <= col(Event.capacity),
            ),
        )
        .values(seats_taken=col(Event.seats_taken) + seats)
    )
    result = await session.exec(statement)  # type: ignore[call-overload]
    if result.rowcount != 1:
        return False
    await session.refresh(event, ["seats_taken"])
    return True


async def give_back_seats(event: Event, seats: int, *, session: AsyncSession) -> None:
    """Returns `seats` places (never below zero)."""
    if seats <= 0:
        return
    taken = col(Event.seats_taken)
    statement = (
        update(Event)
        .where(col(Event.id) == event.id)
        .values(seats_taken=case((taken >= seats, taken - seats), else_=0))
    )
    await session.exec(statement)  # type: ignore[call-overload]
    await session.refresh(event, ["seats_taken"])


def free_seats(event: Event) -> int | None:
    """Places still free, or None when the event has no limit."""
    if event.capacity is None:
        return None
    return max(event.capacity - event.seats_taken, 0)


def is_full(event: Event, seats: int = 1) -> bool:
    free = free_seats(event)
    return free is not None and free < seats


async def waitlist_position(invitee: Invitee, *, session: AsyncSession) -> int | None:
    """1 for the first in line; None for someone not on the waitlist."""
    if invitee.status != InviteeStatus.waitlisted or invitee.waitlisted_at is None:
        return None
    ahead = (
        select(func.count())
        .select_from(Invitee)
        .where(
            Invitee.event_id == invitee.event_id,
            Invitee.status == InviteeStatus.waitlisted,
            or_(
                col(Invitee.waitlisted_at) < invitee.waitlisted_at,
                and_(
                    col(Invitee.waitlisted_at) == invitee.waitlisted_at,
                    col(Invitee.id) < invitee.id,
                ),
            ),
        )
    )
    return (await session.exec(ahead)).one() + 1


async def waitlisted(event: Event, *, session: AsyncSession) -> list[Invitee]:
    """The waitlist, first in line first."""
    query = (
        select(Invitee)
        .where(Invitee.event_id == event.id, Invitee.status == InviteeStatus.waitlisted)
        .order_by(col(Invitee.waitlisted_at), col(Invitee.id))
    )
    return list((await session.exec(query)).all())


def promotions_possible(event: Event, now: datetime) -> bool:
    """Nobody moves up for a cancelled or archived event, or once it has begun."""
    return (
        event.status != EventStatus.cancelled
        and event.archived_at is None
        and event.starts_at > now
    )


async def promote_waitlisted(
    event: Event,
    *,
    session: AsyncSession,
    settings: Settings,
    now: datetime | None = None,
    leaving: int | None = None,
) -> list[Invitee]:
    """Moves people up from the waitlist, in order, while there is room for the first in line;
    each one promoted is told by e-mail (queued in this transaction). `leaving` is an invitee
    who is on the way out and must not be picked. The caller holds the event's lock
    (`lock_event`) and commits."""
    from meetups.invitations import messages  # messages renders pages of this area's state

    now = now or utcnow()
    promoted: list[Invitee] = []
    if not promotions_possible(event, now):
        return promoted
    while True:
        query = (
            select(Invitee)
            .where(
                Invitee.event_id == event.id,
                Invitee.status == InviteeStatus.waitlisted,
                col(Invitee.waitlisted_at).is_not(None),
                col(Invitee.id) != (leaving or 0),
            )
            .order_by(col(Invitee.waitlisted_at), col(Invitee.id))
            .limit(1)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        first = (await session.exec(query)).first()
        if first is None:
            break
        needed = seats_needed(first, event)
        if not await take_seats(event, needed, session=session):
            break
        first.status = InviteeStatus.accepted
        first.seats = needed
        first.waitlisted_at = None
        session.add(first)
        await session.flush()  # so that the next look at the waitlist no longer sees them
        promoted.append(first)
        contact = await session.get(Contact, first.contact_id)
        if contact is not None and not contact.is_anonymized:
            messages.queue_promotion(first, contact, event, session=session, settings=settings)
    return promoted


async def release_seats(
    invitee: Invitee, *, session: AsyncSession, settings: Settings, now: datetime | None = None
) -> list[Invitee]:
    """Frees the places `invitee` holds (and their waitlist place) and moves the next people up.
    For taking someone off the guest list or any other path that ends an acceptance: call it
    before deleting or changing the invitee, in the same transaction; the caller commits.
    The invitee's status is left to the caller. Returns those promoted."""
    event = await lock_event(invitee.event_id, session=session)
    if event is None:
        return []
    current = await lock_invitee(invitee.id, session=session) if invitee.id else None
    if current is not None:
        invitee = current
    if invitee.seats:
        await give_back_seats(event, invitee.seats, session=session)
        invitee.seats = 0
    invitee.waitlisted_at = None
    session.add(invitee)
    await session.flush()
    return await promote_waitlisted(
        event, session=session, settings=settings, now=now, leaving=invitee.id
    )
