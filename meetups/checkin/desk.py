"""The check-in desk: finding a guest by code or name, checking them in (and undoing it),
walk-ins, the counts, and who attended.

Each action is one function that changes the session; the caller commits once. Two phones at the
door may tap the same guest at the same moment: the unique key on CheckIn.invitee_id lets one of
them win and tells the other that the guest is in already.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.models import Organizer
from meetups.checkin.codes import parse_code
from meetups.checkin.models import CheckIn
from meetups.config import Settings
from meetups.contacts.book import clean_query, parse_id
from meetups.contacts.models import Contact, fold
from meetups.db import utcnow
from meetups.errors import DomainError, NotFound
from meetups.events.models import Event, EventStatus
from meetups.i18n import format_datetime, format_time
from meetups.i18n import gettext as _
from meetups.invitations import guest_list, waitlist
from meetups.invitations.models import Invitee, InviteeStatus

SEARCH_LIMIT = 30
LIST_LIMIT = 300


@dataclass
class DeskGuest:
    """A guest as the door sees them."""

    invitee: Invitee
    contact: Contact
    check_in: CheckIn | None
    plus_ones_allowed: bool
    checked_in_by: str = ""

    @property
    def arrived(self) -> bool:
        return self.check_in is not None

    @property
    def plus_one(self) -> str:
        return self.invitee.plus_one_name if self.plus_ones_allowed else ""

    @property
    def expected(self) -> bool:
        return self.invitee.status == InviteeStatus.accepted

    @property
    def status_note(self) -> str:
        """Why this guest is not simply expected, for the door to see before letting them in."""
        status = InviteeStatus(self.invitee.status)
        notes = {
            InviteeStatus.not_invited: _("Was never invited."),
            InviteeStatus.invited: _("Has not answered the invitation."),
            InviteeStatus.maybe: _("Answered “maybe”."),
            InviteeStatus.declined: _("Declined the invitation."),
            InviteeStatus.waitlisted: _("Is on the waitlist, without a place."),
        }
        return notes.get(status, "")


class CheckInRefused(DomainError):
    """Something the door should read: a wrong code, a code of another event, a second tap."""

    def __init__(self, message: str, *, guest: DeskGuest | None = None) -> None:
        super().__init__(message)
        self.guest = guest


def desk_problem(event: Event) -> str | None:
    """Why nobody can be checked in to this event, or None."""
    if event.archived_at is not None:
        return _("This event is archived. Take it out of the archive to check guests in.")
    if event.status == EventStatus.cancelled:
        return _("This event is cancelled, so there is nobody to check in.")
    if event.status == EventStatus.draft:
        return _("This event is a draft. Publish it and invite guests first.")
    return None


def _ensure_open(event: Event) -> None:
    if (problem := desk_problem(event)) is not None:
        raise DomainError(problem)


async def _check_ins(invitee_ids: list[int], *, session: AsyncSession) -> dict[int, CheckIn]:
    found: dict[int, CheckIn] = {}
    for start in range(0, len(invitee_ids), 500):
        chunk = invitee_ids[start : start + 500]
        query = select(CheckIn).where(col(CheckIn.invitee_id).in_(chunk))
        found.update({row.invitee_id: row for row in (await session.exec(query)).all()})
    return found


async def _organizer_names(ids: set[int], *, session: AsyncSession) -> dict[int, str]:
    if not ids:
        return {}
    query = select(Organizer.id, Organizer.name).where(col(Organizer.id).in_(sorted(ids)))
    return {row[0]: row[1] for row in (await session.exec(query)).all()}


async def _desk_guests(
    event: Event, rows: list[tuple[Invitee, Contact]], *, session: AsyncSession
) -> list[DeskGuest]:
    ids = [invitee.id for invitee, _contact in rows if invitee.id]
    check_ins = await _check_ins(ids, session=session)
    names = await _organizer_names(
        {c.checked_in_by_id for c in check_ins.values() if c.checked_in_by_id}, session=session
    )
    guests = []
    for invitee, contact in rows:
        check_in = check_ins.get(invitee.id or 0)
        by = names.get(check_in.checked_in_by_id or 0, "") if check_in else ""
        guests.append(
            DeskGuest(
                invitee=invitee,
                contact=contact,
                check_in=check_in,
                plus_ones_allowed=event.plus_ones_allowed,
                checked_in_by=by,
            )
        )
    return guests


def _guests_query(event: Event):  # type: ignore[no-untyped-def]
    return (
        select(Invitee, Contact)
        .join(Contact, col(Contact.id) == Invitee.contact_id)
        .where(Invitee.event_id == event.id)
    )


async def desk_guest(event: Event, invitee_id: object, *, session: AsyncSession) -> DeskGuest:
    """One guest of this event, by the invitee id from a URL or a form."""
    number = parse_id(invitee_id)
    row = None
    if number is not None:
        row = (await session.exec(_guests_query(event).where(Invitee.id == number))).first()
    if row is None:
        raise NotFound(_("This person is not on the guest list (any more)."))
    return (await _desk_guests(event, [(row[0], row[1])], session=session))[0]


async def guest_for_code(
    event: Event, text: str | None, *, session: AsyncSession, settings: Settings
) -> DeskGuest:
    """The guest whose check-in code was scanned or typed. A wrong code, a code of another
    event, or of someone taken off the guest list, is refused with a message that says which."""
    if not (text or "").strip():
        raise CheckInRefused(_("Please scan a code or type it in."))
    parsed = parse_code(text, settings.secret)
    if parsed is None:
        raise CheckInRefused(
            _("This is not a valid check-in code. Search for the guest by name instead.")
        )
    if parsed.event_id != event.id:
        other = await session.get(Event, parsed.event_id)
        if other is None:
            raise CheckInRefused(_("This code belongs to another event, not to this one."))
        raise CheckInRefused(
            _(
                "This code is for “%(title)s” on %(date)s, not for this event.",
                title=other.title,
                date=format_datetime(other.starts_at, other.timezone, "medium"),
            )
        )
    try:
        return await desk_guest(event, parsed.invitee_id, session=session)
    except NotFound:
        raise CheckInRefused(
            _("This guest has been taken off the guest list since the code was sent.")
        ) from None


async def search_guests(
    event: Event, query: str | None, *, session: AsyncSession
) -> tuple[list[DeskGuest], bool]:
    """Guests whose name, e-mail or plus-one contains every word of `query` (accents and case
    do not matter), by name; with no query, the expected guests. Returns (guests, more_exist)."""
    words = fold(clean_query(query)).split()[:10]
    statement = _guests_query(event).where(col(Contact.anonymized_at).is_(None))
    if not words:
        statement = statement.where(Invitee.status == InviteeStatus.accepted)
    rows = list((await session.exec(statement.order_by(col(Contact.search_key)))).all())
    limit = SEARCH_LIMIT if words else LIST_LIMIT
    matching: list[tuple[Invitee, Contact]] = []
    for invitee, contact in rows:
        haystack = contact.search_key + " " + fold(invitee.plus_one_name)
        if all(word in haystack for word in words):
            matching.append((invitee, contact))
    guests = await _desk_guests(event, matching[:limit], session=session)
    return guests, len(matching) > limit


def already_message(guest: DeskGuest, event: Event) -> str:
    assert guest.check_in is not None
    when = format_time(guest.check_in.checked_in_at, event.timezone)
    if guest.checked_in_by:
        return _(
            "%(name)s is checked in already, since %(time)s (by %(organizer)s).",
            name=guest.contact.name,
            time=when,
            organizer=guest.checked_in_by,
        )
    return _("%(name)s is checked in already, since %(time)s.", name=guest.contact.name, time=when)


async def check_in(
    event: Event,
    invitee_id: object,
    *,
    organizer: Organizer,
    session: AsyncSession,
    walk_in: bool = False,
    now: datetime | None = None,
) -> DeskGuest:
    """Marks the guest (and their plus-one, if they have one) as arrived."""
    _ensure_open(event)
    guest = await desk_guest(event, invitee_id, session=session)
    if guest.check_in is not None:
        raise CheckInRefused(already_message(guest, event), guest=guest)
    row = CheckIn(
        invitee_id=guest.invitee.id,  # type: ignore[arg-type]
        event_id=event.id,  # type: ignore[arg-type]
        checked_in_at=now or utcnow(),
        checked_in_by_id=organizer.id,
        plus_one_arrived=bool(guest.plus_one),
        walk_in=walk_in,
    )
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        # Another phone was a moment faster.
        guest = await desk_guest(event, guest.invitee.id, session=session)
        if guest.check_in is None:
            raise
        raise CheckInRefused(already_message(guest, event), guest=guest) from None
    guest.check_in = row
    guest.checked_in_by = organizer.name
    return guest


async def undo_check_in(event: Event, invitee_id: object, *, session: AsyncSession) -> DeskGuest:
    """Takes a check-in back (a tap on the wrong name)."""
    _ensure_open(event)
    guest = await desk_guest(event, invitee_id, session=session)
    if guest.check_in is None:
        raise CheckInRefused(_("%(name)s is not checked in.", name=guest.contact.name), guest=guest)
    await session.exec(delete(CheckIn).where(col(CheckIn.invitee_id) == guest.invitee.id))  # type: ignore[call-overload]
    guest.check_in = None
    guest.checked_in_by = ""
    return guest


async def set_plus_one_arrived(
    event: Event, invitee_id: object, arrived: bool, *, session: AsyncSession
) -> DeskGuest:
    """Whether the guest's plus-one came along (they are counted as arrived with the guest)."""
    _ensure_open(event)
    guest = await desk_guest(event, invitee_id, session=session)
    if guest.check_in is None:
        raise CheckInRefused(_("Check %(name)s in first.", name=guest.contact.name), guest=guest)
    if not guest.plus_one:
        raise CheckInRefused(_("%(name)s has no plus-one.", name=guest.contact.name), guest=guest)
    guest.check_in.plus_one_arrived = arrived
    session.add(guest.check_in)
    await session.flush()
    return guest


async def add_walk_in(
    event: Event,
    data: dict[str, str],
    *,
    organizer: Organizer,
    session: AsyncSession,
    now: datetime | None = None,
) -> DeskGuest:
    """Someone who came without an invitation (or whose invitation nobody can find): put on the
    guest list as accepted and checked in. Someone already in the address book (same e-mail) is
    taken as they are; someone already on the guest list is simply checked in.

    The walk-in takes a free place where there is one; at a full event they are admitted
    without one (the door decided), so the waitlist is not disturbed."""
    _ensure_open(event)
    values = {
        "name": data.get("name", ""),
        "email": data.get("email", ""),
        "language": data.get("language") or event.language,
    }
    added = await guest_list.add_new_guest(event, values, session=session)  # checks the fields
    query = select(Invitee).where(
        Invitee.event_id == event.id, Invitee.contact_id == added.contact.id
    )
    invitee = (await session.exec(query)).first()
    if invitee is None:
        raise DomainError(_("This person was deleted from the address book and cannot be added."))
    if added.added:
        now = now or utcnow()
        locked = await waitlist.lock_event(event.id, session=session)  # type: ignore[arg-type]
        seats = 1 if await waitlist.take_seats(locked or event, 1, session=session) else 0
        invitee.status = InviteeStatus.accepted
        invitee.responded_at = now
        invitee.seats = seats
        session.add(invitee)
        await session.flush()
    return await check_in(
        event, invitee.id, organizer=organizer, session=session, walk_in=added.added, now=now
    )


@dataclass(frozen=True)
class DeskCounts:
    expected_guests: int
    expected_plus_ones: int
    arrived_guests: int
    arrived_plus_ones: int
    walk_ins: int

    @property
    def expected(self) -> int:
        return self.expected_guests + self.expected_plus_ones

    @property
    def arrived(self) -> int:
        return self.arrived_guests + self.arrived_plus_ones

    @property
    def missing(self) -> int:
        return max(self.expected - self.arrived, 0)

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.arrived / self.expected)) if self.expected else 0


async def desk_counts(event: Event, *, session: AsyncSession) -> DeskCounts:
    """Arrived (guests and plus-ones, walk-ins among them) against expected (accepted guests
    and their plus-ones)."""
    accepted = (Invitee.event_id == event.id) & (Invitee.status == InviteeStatus.accepted)
    expected_guests = (
        await session.exec(select(func.count()).select_from(Invitee).where(accepted))
    ).one()
    expected_plus_ones = 0
    if event.plus_ones_allowed:
        expected_plus_ones = (
            await session.exec(
                select(func.count())
                .select_from(Invitee)
                .where(accepted, col(Invitee.plus_one_name) != "")
            )
        ).one()
    row = (
        await session.exec(
            select(
                func.count(col(CheckIn.id)),
                func.count(col(CheckIn.id)).filter(col(CheckIn.plus_one_arrived)),
                func.count(col(CheckIn.id)).filter(col(CheckIn.walk_in)),
            ).where(CheckIn.event_id == event.id)
        )
    ).one()
    return DeskCounts(
        expected_guests=expected_guests,
        expected_plus_ones=expected_plus_ones,
        arrived_guests=row[0],
        arrived_plus_ones=row[1],
        walk_ins=row[2],
    )


async def check_in_used(event: Event, *, session: AsyncSession) -> bool:
    query = select(CheckIn.id).where(CheckIn.event_id == event.id).limit(1)
    return (await session.exec(query)).first() is not None


async def attended_invitees(event: Event, *, session: AsyncSession) -> list[Invitee]:
    """Who attended: the guests checked in, once check-in has been used for the event; until
    then everyone who accepted. Travel claims and feedback requests go to these."""
    if await check_in_used(event, session=session):
        query = (
            select(Invitee)
            .join(CheckIn, col(CheckIn.invitee_id) == Invitee.id)
            .where(Invitee.event_id == event.id)
        )
    else:
        query = select(Invitee).where(
            Invitee.event_id == event.id, Invitee.status == InviteeStatus.accepted
        )
    return list((await session.exec(query.order_by(col(Invitee.id)))).all())
