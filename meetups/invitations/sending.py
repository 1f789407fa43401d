"""Sending invitations: to everyone on the guest list not invited yet, or to the ones selected;
sending one person's invitation again; and giving someone a new personal link.

Each function is one organizer action: it changes the invitees and queues their e-mails in the
caller's transaction (the caller commits once, so a change and its e-mail are stored together or
not at all). The worker delivers them afterwards.

Nothing goes out twice by accident: an invitee moves from "not invited" to "invited" only once,
under a lock (the event's row, FOR UPDATE on PostgreSQL; SQLite serializes writers anyway), so two
organizers pressing "Send" at the same moment invite each person once. Addresses on the
suppression list (people who unsubscribed) get nothing, and the organizer is told who and why.
"""

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.config import Settings
from meetups.contacts import book
from meetups.contacts.models import Contact
from meetups.db import utcnow
from meetups.errors import DomainError
from meetups.events.models import Event
from meetups.i18n import gettext as _
from meetups.invitations import messages
from meetups.invitations.guest_list import Guest, get_guest
from meetups.invitations.links import issue_link
from meetups.invitations.models import Invitee, InviteeStatus, Suppression
from meetups.invitations.unsubscribe import reason_label
from meetups.invitations.waitlist import lock_event, lock_invitee
from meetups.mail.models import OutboxMessage, OutboxStatus

# At most this many ids are taken from one submitted selection.
MAX_SELECTED = 5000
_CHUNK = 500
_FLUSH_EVERY = 25


class NothingToSend(DomainError):
    """Everyone concerned has had their invitation: not an error for a script that runs again."""


def invitation_problem(event: Event, now: datetime | None = None) -> str | None:
    """Why invitations cannot go out for this event now, or None when they can."""
    now = now or utcnow()
    if event.is_archived:
        return _("This event is archived, so no invitations can be sent.")
    if event.is_cancelled:
        return _("This event is cancelled, so no invitations can be sent.")
    if event.is_draft:
        return _("This event is a draft. Publish it before you send invitations.")
    if event.has_ended(now):
        return _("This event is over, so no invitations can be sent.")
    if event.rsvp_deadline is not None and event.rsvp_deadline <= now:
        return _(
            "The deadline for answers has passed. Move it in the event's settings "
            "before you invite more people."
        )
    return None


def ensure_can_invite(event: Event, now: datetime | None = None) -> None:
    problem = invitation_problem(event, now)
    if problem:
        raise DomainError(problem)


async def suppressions_for(
    emails: Iterable[str], *, session: AsyncSession
) -> dict[str, Suppression]:
    """The suppression-list entries of these addresses, by address (stored lower-cased)."""
    wanted = sorted({email.strip().lower() for email in emails if email})
    found: dict[str, Suppression] = {}
    for start in range(0, len(wanted), _CHUNK):
        query = select(Suppression).where(
            col(Suppression.email).in_(wanted[start : start + _CHUNK])
        )
        for entry in (await session.exec(query)).all():
            found[entry.email.strip().lower()] = entry
    return found


async def suppression_of(contact: Contact, *, session: AsyncSession) -> Suppression | None:
    return (await suppressions_for([contact.email], session=session)).get(contact.email.lower())


def parse_ids(values: Iterable[str]) -> list[int]:
    """The ids of a submitted selection; anything that cannot be an id is left out."""
    ids = {number for value in values if (number := book.parse_id(value))}
    return sorted(ids)[:MAX_SELECTED]


@dataclass
class SendReport:
    """What `send_invitations` did, for the organizer."""

    sent: list[Contact] = field(default_factory=list)
    # Left out because the address is on the suppression list, with the entry saying why.
    suppressed: list[tuple[Contact, Suppression]] = field(default_factory=list)
    # Selected people who had their invitation already (use "send again" for one person).
    already_invited: int = 0
    # Addresses that cannot be written into an e-mail (deleted contacts, broken data).
    unusable: list[Contact] = field(default_factory=list)


def _invite(
    invitee: Invitee,
    contact: Contact,
    event: Event,
    *,
    session: AsyncSession,
    settings: Settings,
    now: datetime,
) -> bool:
    """Invites one person: a personal link, the status, the e-mail. False (and nothing changed)
    when their address cannot be written into an e-mail."""
    before = (invitee.link_nonce, invitee.link_lookup)
    issue_link(invitee, settings.secret)
    try:
        messages.queue_invitation(invitee, contact, event, session=session, settings=settings)
    except ValueError:
        invitee.link_nonce, invitee.link_lookup = before
        return False
    invitee.status = InviteeStatus.invited
    invitee.invited_at = now
    session.add(invitee)
    return True


async def send_invitations(
    event: Event,
    *,
    session: AsyncSession,
    settings: Settings,
    selected: Iterable[str] | None = None,
    now: datetime | None = None,
) -> SendReport:
    """Invites everyone on the guest list who is not invited yet, or only those of them whose
    invitee ids are in `selected`. Raises DomainError when the event cannot take invitations or
    there is nobody to invite."""
    now = now or utcnow()
    ensure_can_invite(event, now)
    ids = parse_ids(selected) if selected is not None else None
    if ids is not None and not ids:
        raise DomainError(_("Please select at least one person."))
    # One sender at a time per event; in the fixed lock order (event, then invitees).
    locked = await lock_event(event.id, session=session) if event.id else None
    if locked is None:
        raise DomainError(_("There is no such event."))
    event = locked
    ensure_can_invite(event, now)

    query = (
        select(Invitee, Contact)
        .join(Contact, col(Contact.id) == Invitee.contact_id)
        .where(Invitee.event_id == event.id)
        .order_by(col(Contact.search_key), col(Invitee.id))
        .with_for_update(of=Invitee)  # type: ignore[arg-type]
        .execution_options(populate_existing=True)
    )
    report = SendReport()
    rows: list[tuple[Invitee, Contact]] = []
    if ids is None:
        query = query.where(Invitee.status == InviteeStatus.not_invited)
        rows = list((await session.exec(query)).all())
    else:
        for start in range(0, len(ids), _CHUNK):
            chunk = query.where(col(Invitee.id).in_(ids[start : start + _CHUNK]))
            rows.extend((await session.exec(chunk)).all())
        rows.sort(key=lambda row: (row[1].search_key, row[0].id or 0))
        if not rows:
            raise DomainError(_("These people are not on the guest list (any more)."))
        report.already_invited = sum(
            1 for invitee, _contact in rows if invitee.status != InviteeStatus.not_invited
        )
        rows = [row for row in rows if row[0].status == InviteeStatus.not_invited]
    if not rows:
        if report.already_invited:
            raise NothingToSend(
                _(
                    "Everyone selected has had an invitation already. To send one again, "
                    "open the person and choose “Send the invitation again”."
                )
            )
        raise NothingToSend(_("Everyone on the guest list has had an invitation already."))

    suppressed = await suppressions_for([contact.email for _i, contact in rows], session=session)
    for number, (invitee, contact) in enumerate(rows, start=1):
        if number % _FLUSH_EVERY == 0:
            # Rendering thousands of e-mails is CPU work that would keep the server from answering
            # anyone else until it ends: writing in batches hands control back in between.
            await session.flush()
            await asyncio.sleep(0)
        entry = suppressed.get(contact.email.lower())
        if entry is not None:
            report.suppressed.append((contact, entry))
        elif contact.is_anonymized or not _invite(
            invitee, contact, event, session=session, settings=settings, now=now
        ):
            report.unusable.append(contact)
        else:
            report.sent.append(contact)
    await session.flush()
    return report


async def _invitation_in_flight(invitee: Invitee, *, session: AsyncSession) -> bool:
    query = select(OutboxMessage.id).where(
        OutboxMessage.invitee_id == invitee.id,
        OutboxMessage.kind == messages.KIND_INVITATION,
        col(OutboxMessage.status).in_([OutboxStatus.queued, OutboxStatus.sending]),
    )
    return (await session.exec(query.limit(1))).first() is not None


async def _locked_guest(event: Event, invitee_id: object, *, session: AsyncSession) -> Guest:
    guest = await get_guest(event, invitee_id, session=session)
    await lock_event(event.id, session=session)  # type: ignore[arg-type]
    invitee = await lock_invitee(guest.invitee.id, session=session)  # type: ignore[arg-type]
    if invitee is None or invitee.event_id != event.id:
        raise DomainError(_("This person is not on the guest list (any more)."))
    return Guest(invitee=invitee, contact=guest.contact)


async def _refuse_if_suppressed(contact: Contact, *, session: AsyncSession) -> None:
    if (entry := await suppression_of(contact, session=session)) is not None:
        raise DomainError(
            _(
                "Nothing was sent to %(name)s: this address gets no invitations or reminders "
                "any more. Why: %(reason)s.",
                name=contact.name,
                reason=reason_label(entry.reason),
            )
        )


async def resend_invitation(
    event: Event,
    invitee_id: object,
    *,
    session: AsyncSession,
    settings: Settings,
    now: datetime | None = None,
) -> Contact:
    """Sends someone's invitation once more, with the link they have (it stays valid)."""
    now = now or utcnow()
    ensure_can_invite(event, now)
    guest = await _locked_guest(event, invitee_id, session=session)
    invitee, contact = guest.invitee, guest.contact
    if invitee.status == InviteeStatus.not_invited or not invitee.link_nonce:
        raise DomainError(
            _("%(name)s has not been invited yet: send the invitation first.", name=contact.name)
        )
    if contact.is_anonymized:
        raise DomainError(_("This contact was deleted, so nothing can be sent to them."))
    await _refuse_if_suppressed(contact, session=session)
    if await _invitation_in_flight(invitee, session=session):
        raise DomainError(_("An invitation to %(name)s is on its way already.", name=contact.name))
    try:
        messages.queue_invitation(invitee, contact, event, session=session, settings=settings)
    except ValueError:
        raise DomainError(
            _("The address of %(name)s cannot be used for e-mail.", name=contact.name)
        ) from None
    await session.flush()
    return contact


@dataclass(frozen=True)
class NewLink:
    contact: Contact
    mailed: bool  # False when the address is suppressed (the old link is dead all the same)


async def replace_link(
    event: Event,
    invitee_id: object,
    *,
    session: AsyncSession,
    settings: Settings,
    now: datetime | None = None,
) -> NewLink:
    """Revokes someone's personal link (a forwarded or leaked one stops working at once) and mails
    them the new one, unless their address is suppressed."""
    now = now or utcnow()
    guest = await _locked_guest(event, invitee_id, session=session)
    invitee, contact = guest.invitee, guest.contact
    if invitee.status == InviteeStatus.not_invited or not invitee.link_nonce:
        raise DomainError(
            _("%(name)s has no personal link yet: it comes with the invitation.", name=contact.name)
        )
    if event.is_archived or event.is_cancelled or event.has_ended(now):
        raise DomainError(_("This event is over or closed, so its links cannot be replaced."))
    issue_link(invitee, settings.secret)
    session.add(invitee)
    mailed = False
    if not contact.is_anonymized and await suppression_of(contact, session=session) is None:
        try:
            messages.queue_invitation(invitee, contact, event, session=session, settings=settings)
            mailed = True
        except ValueError:
            mailed = False
    await session.flush()
    return NewLink(contact=contact, mailed=mailed)
