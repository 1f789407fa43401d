"""An event's guest list: who is on it and where they stand, and adding people (picked from
the address book, a whole tag, a new person, or a CSV import) or taking them off again."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.config import Settings
from meetups.contacts import book
from meetups.contacts.models import Contact
from meetups.errors import DomainError, NotFound, ValidationFailed
from meetups.events.models import Event, EventStatus
from meetups.i18n import gettext as _
from meetups.invitations.messages import queue_removal
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.invitations.tracking import GuestFilter, filter_condition
from meetups.invitations.unsubscribe import reason_label, suppression_for
from meetups.paging import PageNumbers, clamp_page
from meetups.validation import clean_text, normalize_email

STATUS_BADGES: dict[InviteeStatus, str] = {
    InviteeStatus.not_invited: "",
    InviteeStatus.invited: "info",
    InviteeStatus.accepted: "ok",
    InviteeStatus.maybe: "warn",
    InviteeStatus.declined: "bad",
    InviteeStatus.waitlisted: "warn",
}
PAGE_SIZE = 100
# The organizer's note in the e-mail that tells someone they are off the list: a few sentences.
MAX_REMOVAL_NOTE_LENGTH = 1000
# Those who expect a place (or to be told of one) would turn up or keep waiting: the e-mail that
# tells them they are off the list is offered ticked. The others are asked about, unticked.
TOLD_OF_REMOVAL_BY_DEFAULT = (InviteeStatus.accepted, InviteeStatus.waitlisted)


def status_label(status: InviteeStatus | str) -> str:
    labels = {
        InviteeStatus.not_invited: _("Not invited yet"),
        InviteeStatus.invited: _("Invited"),
        InviteeStatus.accepted: _("Accepted"),
        InviteeStatus.maybe: _("Maybe"),
        InviteeStatus.declined: _("Declined"),
        InviteeStatus.waitlisted: _("Waitlisted"),
    }
    known = parse_status(str(status))
    return labels[known] if known is not None else str(status)


def status_badge(status: InviteeStatus | str) -> str:
    try:
        return STATUS_BADGES[InviteeStatus(status)]
    except ValueError:
        return ""


def parse_status(value: str | None) -> InviteeStatus | None:
    try:
        return InviteeStatus((value or "").strip())
    except ValueError:
        return None


def is_closed(event: Event) -> bool:
    return event.status == EventStatus.cancelled or event.archived_at is not None


def ensure_open(event: Event) -> None:
    """Cancelled and archived events keep their guest list as it was."""
    if event.status == EventStatus.cancelled:
        raise DomainError(
            _("This event is cancelled, so its guest list cannot be changed any more.")
        )
    if event.archived_at is not None:
        raise DomainError(
            _("This event is archived, so its guest list cannot be changed any more.")
        )


async def listed_contact_ids(
    event: Event, contact_ids: Iterable[int], *, session: AsyncSession
) -> set[int]:
    """Which of these contacts are on the event's guest list already."""
    wanted = sorted(set(contact_ids))
    found: set[int] = set()
    for start in range(0, len(wanted), 500):
        query = select(Invitee.contact_id).where(
            Invitee.event_id == event.id, col(Invitee.contact_id).in_(wanted[start : start + 500])
        )
        found.update((await session.exec(query)).all())
    return found


async def add_contacts(
    event: Event, contact_ids: Iterable[int], *, session: AsyncSession
) -> list[int]:
    """Puts these contacts on the guest list; those already on it stay as they are. Returns the
    ids newly added. The caller has checked that the contacts exist and the event is open."""
    wanted = list(dict.fromkeys(contact_ids))
    listed = await listed_contact_ids(event, wanted, session=session)
    new_ids = [contact_id for contact_id in wanted if contact_id not in listed]
    session.add_all(Invitee(event_id=event.id, contact_id=contact_id) for contact_id in new_ids)  # type: ignore[arg-type]
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise DomainError(
            _("Someone changed this guest list at the same moment. Please try again.")
        ) from None
    return new_ids


@dataclass
class AddResult:
    added: list[Contact] = field(default_factory=list)
    already: list[Contact] = field(default_factory=list)


async def _add(event: Event, contacts: list[Contact], *, session: AsyncSession) -> AddResult:
    ensure_open(event)
    people = [
        contact for contact in contacts if not contact.is_anonymized and contact.id is not None
    ]
    added = set(
        await add_contacts(event, [contact.id for contact in people if contact.id], session=session)
    )
    return AddResult(
        added=[contact for contact in people if contact.id in added],
        already=[contact for contact in people if contact.id not in added],
    )


async def add_guests(
    event: Event, contact_ids: Iterable[str], *, session: AsyncSession
) -> AddResult:
    """Adds the people picked in the address book (ids as submitted; unknown ones are ignored)."""
    ensure_open(event)
    ids = sorted({number for value in contact_ids if (number := book.parse_id(value))})[:5000]
    if not ids:
        raise DomainError(_("Please pick at least one person."))
    contacts: list[Contact] = []
    for start in range(0, len(ids), 500):
        query = select(Contact).where(col(Contact.id).in_(ids[start : start + 500]))
        contacts.extend((await session.exec(query)).all())
    if not any(not contact.is_anonymized for contact in contacts):
        raise DomainError(_("These people are no longer in the address book."))
    return await _add(event, sorted(contacts, key=lambda c: c.search_key), session=session)


async def add_tag(event: Event, tag: str, *, session: AsyncSession) -> AddResult:
    """Adds everyone in the address book who carries `tag`."""
    ensure_open(event)
    name = book.clean_query(tag).lower()
    if not name:
        raise DomainError(_("Please choose a tag."), field="tag")
    query = (
        select(Contact)
        .where(col(Contact.anonymized_at).is_(None), book.has_tag(name))
        .order_by(col(Contact.search_key))
    )
    contacts = list((await session.exec(query)).all())
    if not contacts:
        raise DomainError(
            _("Nobody in the address book has the tag “%(tag)s”.", tag=name[:50]), field="tag"
        )
    return await _add(event, contacts, session=session)


@dataclass(frozen=True)
class NewGuest:
    contact: Contact
    created: bool  # a new contact, not someone already in the address book
    added: bool  # newly on the guest list, not on it already


async def add_new_guest(
    event: Event, data: Mapping[str, str], *, session: AsyncSession
) -> NewGuest:
    """Adds a person typed in on the guest list page. Someone already in the address book (same
    e-mail address) is reused as they are, so a typo in the name cannot overwrite their entry."""
    ensure_open(event)
    values = {**data, "language": data.get("language") or event.language}
    try:
        email = normalize_email(values.get("email"))
    except ValueError:
        email = None
    contact = await book.find_by_email(email, session=session) if email else None
    created = contact is None
    if contact is None:
        contact = await book.create_contact(values, session=session)  # checks every field
    result = await _add(event, [contact], session=session)
    return NewGuest(contact=contact, created=created, added=bool(result.added))


async def get_guest(event: Event, invitee_id: object, *, session: AsyncSession) -> "Guest":
    """Someone on this event's guest list, by the invitee id from a URL or a form."""
    number = book.parse_id(invitee_id)
    invitee = await session.get(Invitee, number) if number else None
    contact = await session.get(Contact, invitee.contact_id) if invitee is not None else None
    if invitee is None or contact is None or invitee.event_id != event.id:
        raise NotFound(_("This person is not on the guest list (any more)."))
    return Guest(invitee=invitee, contact=contact)


def needs_confirmation(invitee: Invitee) -> bool:
    """Taking off someone who was invited (they have a link) or who answered is asked twice."""
    return invitee.status != InviteeStatus.not_invited or invitee.responded_at is not None


@dataclass(frozen=True)
class RemovalNotice:
    """The organizer asked to tell the person by e-mail, with this note (plain text, may be "")."""

    note: str = ""


def read_removal_notice(*, tell: bool, note: str | None) -> RemovalNotice | None:
    """The notice from the confirmation form, or None when they are not to be told. Raises
    ValidationFailed (field "note") for a note that is too long, or one written for nobody: it
    would be dropped without a word."""
    try:
        text = clean_text(note, max_length=MAX_REMOVAL_NOTE_LENGTH, multiline=True)
    except ValueError:
        raise ValidationFailed(
            {
                "note": _(
                    "The note is too long: at most %(max)s characters, please.",
                    max=MAX_REMOVAL_NOTE_LENGTH,
                )
            }
        ) from None
    if not tell:
        if text:
            raise ValidationFailed(
                {
                    "note": _(
                        "The note is only sent with the e-mail: tick “Tell them by e-mail”, "
                        "or empty the note."
                    )
                }
            )
        return None
    return RemovalNotice(note=text)


async def removal_notice_refusal(guest: "Guest", *, session: AsyncSession) -> str | None:
    """Why no e-mail can tell this person that they were taken off the list; None when one can.
    Nobody hears of a list they were never invited from; the suppression list is respected as
    for every other message to guests."""
    if guest.invitee.status == InviteeStatus.not_invited:
        return _("They have not been invited, so they are not told by e-mail.")
    if guest.contact.is_anonymized:
        return _("This contact was deleted, so nothing can be sent to them.")
    if (entry := await suppression_for(guest.contact.email, session=session)) is not None:
        return _(
            "They cannot be told by e-mail: their address gets no e-mail from us any more "
            "(%(reason)s). Write to them yourself if they should know.",
            reason=reason_label(entry.reason),
        )
    return None


class Telling(StrEnum):
    """Whether the person taken off the list was told by e-mail."""

    told = "told"  # the e-mail is queued
    not_told = "not_told"  # the organizer chose not to tell them
    unreachable = "unreachable"  # asked for, but no e-mail can go to their address
    never_invited = "never_invited"  # they never heard of the event from us: nothing to tell


@dataclass(frozen=True)
class Removal:
    contact: Contact
    freed: int  # places given back (1, or 2 with a plus-one)
    promoted: list[Contact]  # moved up from the waitlist into the freed places, told by e-mail
    telling: Telling = Telling.not_told


async def remove_guest(
    event: Event,
    invitee_id: object,
    *,
    session: AsyncSession,
    settings: Settings,
    notice: RemovalNotice | None = None,
    now: datetime | None = None,
) -> Removal:
    """Takes someone off the guest list (their address book entry stays). Places they held are
    freed and the waitlist moves up, in the same transaction; their personal link stops working.
    With a `notice`, an e-mail tells them (also in this transaction), if they were invited and
    their address gets e-mail from us."""
    from meetups.invitations.waitlist import lock_event, lock_invitee, release_seats

    ensure_open(event)
    guest = await get_guest(event, invitee_id, session=session)
    await lock_event(event.id, session=session)  # type: ignore[arg-type]
    invitee = await lock_invitee(guest.invitee.id, session=session)  # type: ignore[arg-type]
    if invitee is None:
        raise NotFound(_("This person is not on the guest list (any more)."))
    freed = invitee.seats
    promoted: list[Contact] = []
    if invitee.seats or invitee.status in {InviteeStatus.accepted, InviteeStatus.waitlisted}:
        for person in await release_seats(invitee, session=session, settings=settings, now=now):
            if (contact := await session.get(Contact, person.contact_id)) is not None:
                promoted.append(contact)
    locked = Guest(invitee=invitee, contact=guest.contact)
    if invitee.status == InviteeStatus.not_invited:
        telling = Telling.never_invited
    elif notice is None:
        telling = Telling.not_told
    elif await removal_notice_refusal(locked, session=session) is not None:
        telling = Telling.unreachable
    else:
        try:
            # Rendered while the invitee still exists: what they held decides what it says.
            queue_removal(
                invitee, guest.contact, event, note=notice.note, session=session, settings=settings
            )
            telling = Telling.told
        except ValueError:  # an address that cannot be written into an e-mail
            telling = Telling.unreachable
    await session.delete(invitee)
    await session.flush()
    return Removal(contact=guest.contact, freed=freed, promoted=promoted, telling=telling)


@dataclass(frozen=True)
class Guest:
    invitee: Invitee
    contact: Contact


@dataclass
class GuestPage(PageNumbers):
    guests: list[Guest]
    total: int
    page: int
    page_size: int


async def list_guests(
    event: Event,
    *,
    session: AsyncSession,
    status: InviteeStatus | GuestFilter | None = None,
    query: str = "",
    page: int = 1,
    page_size: int = PAGE_SIZE,
) -> GuestPage:
    """The guest list, by name, optionally only one status (or another filter of
    tracking.GuestFilter) and people matching `query`."""
    statement = (
        select(Invitee, Contact)
        .join(Contact, col(Contact.id) == Invitee.contact_id)
        .where(Invitee.event_id == event.id, *book.contains_words(query))
    )
    if status is not None and event.id is not None:
        statement = statement.where(filter_condition(GuestFilter(status.value), event.id))
    total = (await session.exec(select(func.count()).select_from(statement.subquery()))).one()
    page = clamp_page(page, total, page_size)
    rows = await session.exec(
        statement.order_by(col(Contact.search_key), col(Invitee.id))
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return GuestPage(
        [Guest(invitee, contact) for invitee, contact in rows.all()], total, page, page_size
    )


async def status_counts(event: Event, *, session: AsyncSession) -> dict[InviteeStatus, int]:
    """How many guests stand where, every status present (zero when nobody does)."""
    query = (
        select(Invitee.status, func.count())
        .where(Invitee.event_id == event.id)
        .group_by(col(Invitee.status))
    )
    counts = dict.fromkeys(InviteeStatus, 0)
    for status, count in (await session.exec(query)).all():
        if (known := parse_status(status)) is not None:
            counts[known] = count
    return counts


async def open_events_without(contact: Contact, *, session: AsyncSession) -> list[Event]:
    """Events this person could still be added to: not cancelled, not archived, not on yet."""
    on_list = select(Invitee.event_id).where(Invitee.contact_id == contact.id)
    query = (
        select(Event)
        .where(
            Event.status != EventStatus.cancelled,
            col(Event.archived_at).is_(None),
            col(Event.id).not_in(on_list),
        )
        .order_by(col(Event.starts_at).desc())
        .limit(100)
    )
    return list((await session.exec(query)).all())


async def get_event_by_id(event_id: object, *, session: AsyncSession) -> Event:
    number = book.parse_id(event_id)
    event = await session.get(Event, number) if number else None
    if event is None:
        raise NotFound(_("There is no such event."))
    return event
