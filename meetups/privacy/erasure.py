"""Deleting a person's data, in one place: for the invitee's own request behind their link, for an
organizer's "Delete" in the address book, and (its event part) for the retention purge.

What goes, and what stays, and why:

- Their answers (plus-one, dietary and accessibility needs, travelling from, hotel, comment) are
  emptied (a plus-one's name becomes "+1", so that it still counts) and their personal links
  revoked; the guest-list rows stay, with their status, so that the events' numbers (invited,
  accepted, checked in) stay right. Where they held or waited for a place at an event still to
  come, the place is given up, and the waitlist moves up.
- Travel claims an organizer has decided (approved, partly approved, rejected, paid) are the
  company's accounting records: amounts, categories, dates and the decision history stay; the
  payee's name, IBAN and BIC, the descriptions and the receipts go. Finance keeps its own copy
  of what was paid (the CSV and SEPA exports). Claims not decided yet are withdrawn (deleted):
  without bank details they could not be paid anyway.
- A named feedback response is unlinked from the person (and its times cleared), so the ratings
  and choices still count in the results; their free-text answers are removed (the retention
  purge keeps those, unlinked). Anonymous responses cannot be found by design and stay as they are.
- Coverage links they added stay (a published post is public), without their name.
- E-mails to them: those still queued are cancelled (deleted); the others keep kind, subject,
  dates and delivery status, while the address, the name and the message itself (which carried
  their personal link) are scrubbed. Mail caught by the built-in catcher is deleted.
- Check-ins, reminders sent and feedback requests stay: they name nobody once the entry is
  anonymous, and they make the numbers.
- The address book entry is anonymized (or deleted outright when it never mattered for an
  event: nobody answered, nobody came).
- On request, the address is put on the suppression list (in clear: every check of the list
  compares addresses, and a keyed hash would be lost with a new secret key, and with it the
  promise never to write again). That is the only thing kept that names them.
"""

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.models import Organizer
from meetups.config import Settings
from meetups.contacts import book
from meetups.contacts.models import Contact
from meetups.coverage.models import CoverageLink
from meetups.db import utcnow
from meetups.errors import NotFound
from meetups.events.models import Event
from meetups.feedback.models import FeedbackAnswer, FeedbackResponse
from meetups.i18n import gettext as _
from meetups.invitations import unsubscribe
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.invitations.waitlist import release_seats
from meetups.mail.models import CaughtMail, OutboxMessage, OutboxStatus
from meetups.privacy.models import PrivacyAction, PrivacyActor
from meetups.privacy.records import add_record
from meetups.travel.models import (
    Claim,
    ClaimDecision,
    ClaimItem,
    ClaimStatus,
    Receipt,
    ReceiptContent,
)

# Claims an organizer has decided on: records of the company's accounts, kept without bank data.
DECIDED_CLAIMS = (
    ClaimStatus.approved,
    ClaimStatus.partly_approved,
    ClaimStatus.rejected,
    ClaimStatus.paid,
)
# Answers that hold or wait for a place: given up when the person is erased before the event.
HOLDING_A_PLACE = (InviteeStatus.accepted, InviteeStatus.waitlisted, InviteeStatus.maybe)
# What an erased plus-one's name becomes (the plus-one counts, nobody is named).
PLUS_ONE_MARK = "+1"
# What scrubbed e-mails show as their recipient: reserved, never deliverable (RFC 2606).
ERASED_ADDRESS = "erased@invalid"


@dataclass
class ErasureCounts:
    """What an erasure touched, for the privacy log."""

    invitations: int = 0
    seats_released: int = 0
    claims_kept: int = 0
    claims_withdrawn: int = 0
    receipts: int = 0
    feedback_unlinked: int = 0
    free_texts: int = 0
    coverage_unlinked: int = 0
    emails_scrubbed: int = 0
    emails_cancelled: int = 0
    caught_mails: int = 0

    def add(self, other: "ErasureCounts") -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, int]:
        return {name: value for name, value in asdict(self).items() if value}


async def _erase_claim(invitee: Invitee, *, session: AsyncSession, now: datetime) -> ErasureCounts:
    counts = ErasureCounts()
    claim = (await session.exec(select(Claim).where(Claim.invitee_id == invitee.id))).first()
    if claim is None:
        return counts
    receipt_ids = list(
        (await session.exec(select(Receipt.id).where(Receipt.claim_id == claim.id))).all()
    )
    counts.receipts = len(receipt_ids)
    if receipt_ids:
        await session.exec(  # type: ignore[call-overload]
            delete(ReceiptContent).where(col(ReceiptContent.receipt_id).in_(receipt_ids))
        )
        await session.exec(delete(Receipt).where(col(Receipt.claim_id) == claim.id))  # type: ignore[call-overload]
    if claim.status in DECIDED_CLAIMS:
        claim.payee_name = claim.iban = claim.bic = ""
        claim.revision += 1  # pages showing the claim as it was refuse to act on it
        claim.updated_at = now
        session.add(claim)
        await session.exec(  # type: ignore[call-overload]
            update(ClaimItem).where(col(ClaimItem.claim_id) == claim.id).values(description="")
        )
        # The invitee's own steps carry their name; the organizers' steps stay as they were.
        await session.exec(  # type: ignore[call-overload]
            update(ClaimDecision)
            .where(col(ClaimDecision.claim_id) == claim.id, col(ClaimDecision.by_invitee))
            .values(actor_name="", reason="")
        )
        counts.claims_kept = 1
    else:
        for table in (ClaimDecision, ClaimItem):
            await session.exec(delete(table).where(col(table.claim_id) == claim.id))  # type: ignore[call-overload, attr-defined]
        await session.exec(delete(Claim).where(col(Claim.id) == claim.id))  # type: ignore[call-overload]
        counts.claims_withdrawn = 1
    return counts


async def _unlink_feedback(
    invitee: Invitee, *, session: AsyncSession, drop_free_text: bool
) -> ErasureCounts:
    counts = ErasureCounts()
    query = select(FeedbackResponse).where(FeedbackResponse.invitee_id == invitee.id)
    response = (await session.exec(query)).first()
    if response is None:
        return counts
    if drop_free_text:
        result = await session.exec(  # type: ignore[call-overload]
            delete(FeedbackAnswer).where(
                col(FeedbackAnswer.response_id) == response.id, col(FeedbackAnswer.text) != ""
            )
        )
        counts.free_texts = result.rowcount
    # Without the person and without times, nothing ties the response to them any more.
    response.invitee_id = None
    response.submitted_at = response.updated_at = None
    session.add(response)
    counts.feedback_unlinked = 1
    return counts


async def scrub_outbox(
    condition: ColumnElement[bool], *, session: AsyncSession, addresses: tuple[str, ...] = ()
) -> ErasureCounts:
    """Cancels the queued e-mails matching `condition` and scrubs the rest: address, name and
    message go (the message carried the personal link); kind, subject, times and delivery status
    stay for the events' e-mail lists. `addresses` are blanked out of delivery errors too."""
    counts = ErasureCounts()
    cancelled = await session.exec(  # type: ignore[call-overload]
        delete(OutboxMessage).where(
            condition,
            col(OutboxMessage.status).in_([OutboxStatus.queued, OutboxStatus.sending]),
        )
    )
    counts.emails_cancelled = cancelled.rowcount
    not_yet_scrubbed = or_(col(OutboxMessage.raw) != "", OutboxMessage.recipient != ERASED_ADDRESS)
    errors = await session.exec(
        select(OutboxMessage.id, OutboxMessage.last_error).where(
            condition, col(OutboxMessage.last_error).is_not(None)
        )
    )
    for message_id, error in errors.all():
        cleaned = _without_addresses(error or "", addresses)
        if cleaned != error:
            await session.exec(  # type: ignore[call-overload]
                update(OutboxMessage)
                .where(col(OutboxMessage.id) == message_id)
                .values(last_error=cleaned)
            )
    scrubbed = await session.exec(  # type: ignore[call-overload]
        update(OutboxMessage)
        .where(condition, not_yet_scrubbed)
        .values(recipient=ERASED_ADDRESS, recipient_name="", raw="")
    )
    counts.emails_scrubbed = scrubbed.rowcount
    return counts


def _without_addresses(text: str, addresses: tuple[str, ...]) -> str:
    lowered = text.lower()
    for address in addresses:
        start = lowered.find(address.lower()) if address else -1
        while start >= 0:
            text = text[:start] + ERASED_ADDRESS + text[start + len(address) :]
            lowered = text.lower()
            start = lowered.find(address.lower(), start + len(ERASED_ADDRESS))
    return text


async def delete_caught_mail(address: str, *, session: AsyncSession) -> int:
    """Deletes what the built-in mail catcher received for `address` (development and demos)."""
    wanted = address.strip().lower()
    if not wanted:
        return 0
    candidates = await session.exec(
        select(CaughtMail.id, CaughtMail.recipients).where(
            func.lower(CaughtMail.recipients).contains(wanted, autoescape=True)
        )
    )
    ids = [
        mail_id
        for mail_id, recipients in candidates.all()
        if wanted in {part.strip().lower() for part in recipients.split(",")}
    ]
    if ids:
        await session.exec(delete(CaughtMail).where(col(CaughtMail.id).in_(ids)))  # type: ignore[call-overload]
    return len(ids)


async def erase_invitee(
    invitee: Invitee,
    *,
    session: AsyncSession,
    settings: Settings,
    drop_free_text: bool,
    now: datetime | None = None,
    address: str = "",
) -> ErasureCounts:
    """Erases what one guest-list entry holds of the person (see the module's docstring); the
    row itself stays. `address` is blanked out of delivery errors. The caller commits."""
    now = now or utcnow()
    counts = ErasureCounts(invitations=1)
    event = await session.get(Event, invitee.event_id)
    holds_a_place = invitee.seats > 0 or invitee.status in HOLDING_A_PLACE
    if event is not None and not event.has_ended(now) and holds_a_place:
        # Locks the event, then the invitee (the waitlist's lock order), and refreshes it.
        await release_seats(invitee, session=session, settings=settings, now=now)
        invitee.status = InviteeStatus.declined
        counts.seats_released = 1
    # A plus-one's name gives way to a mark, so that "came with a plus-one" still counts.
    invitee.plus_one_name = PLUS_ONE_MARK if invitee.plus_one_name else ""
    invitee.dietary_needs = invitee.accessibility_needs = ""
    invitee.travelling_from = invitee.comment = ""
    invitee.needs_hotel = False
    invitee.link_nonce = invitee.link_lookup = None  # the personal link stops working
    invitee.erased_at = invitee.erased_at or now
    session.add(invitee)
    counts.add(await _erase_claim(invitee, session=session, now=now))
    counts.add(await _unlink_feedback(invitee, session=session, drop_free_text=drop_free_text))
    unlinked = await session.exec(  # type: ignore[call-overload]
        update(CoverageLink)
        .where(col(CoverageLink.invitee_id) == invitee.id)
        .values(invitee_id=None, author_name="", updated_at=now)
    )
    counts.coverage_unlinked = unlinked.rowcount
    counts.add(
        await scrub_outbox(
            col(OutboxMessage.invitee_id) == invitee.id,
            session=session,
            addresses=(address,) if address else (),
        )
    )
    await session.flush()
    return counts


@dataclass(frozen=True)
class ErasurePreview:
    """What deleting would do to this person's data, for the page that asks them to confirm."""

    events: int
    places: list[Event]  # events still to come where they hold or wait for a place
    claims_kept: int
    claims_withdrawn: int
    named_feedback: int
    coverage: int


async def preview_erasure(
    contact: Contact, *, session: AsyncSession, now: datetime | None = None
) -> ErasurePreview:
    now = now or utcnow()
    rows = (
        await session.exec(
            select(Invitee, Event)
            .join(Event, col(Event.id) == Invitee.event_id)
            .where(Invitee.contact_id == contact.id)
            .order_by(col(Event.starts_at))
        )
    ).all()
    ids = [invitee.id for invitee, _event in rows]
    places = [
        event
        for invitee, event in rows
        if not event.has_ended(now) and (invitee.seats or invitee.status in HOLDING_A_PLACE)
    ]
    statuses = (
        (await session.exec(select(Claim.status).where(col(Claim.invitee_id).in_(ids)))).all()
        if ids
        else []
    )
    kept = sum(1 for status in statuses if status in DECIDED_CLAIMS)
    named = await session.exec(
        select(func.count())
        .select_from(FeedbackResponse)
        .where(col(FeedbackResponse.invitee_id).in_(ids or [0]))
    )
    coverage = await session.exec(
        select(func.count())
        .select_from(CoverageLink)
        .where(col(CoverageLink.invitee_id).in_(ids or [0]))
    )
    return ErasurePreview(
        events=len(rows),
        places=places,
        claims_kept=kept,
        claims_withdrawn=len(statuses) - kept,
        named_feedback=named.one(),
        coverage=coverage.one(),
    )


async def lock_contact(contact_id: int, *, session: AsyncSession) -> Contact:
    """The contact, freshly read and locked (PostgreSQL), so that two erasures of the same person
    happen one after the other and the second finds the work done."""
    query = (
        select(Contact)
        .where(Contact.id == contact_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    contact = (await session.exec(query)).first()
    if contact is None:
        raise NotFound(_("There is no such contact. It may have been deleted."))
    return contact


class AlreadyErased(NotFound):
    """The person behind a link asked twice; the first request did the work."""


@dataclass(frozen=True)
class PersonErased:
    removal: book.Removal
    counts: ErasureCounts
    suppressed: bool


async def erase_person(
    contact: Contact,
    *,
    actor: PrivacyActor,
    session: AsyncSession,
    settings: Settings,
    organizer: Organizer | None = None,
    invitee: Invitee | None = None,
    suppress: bool = False,
    now: datetime | None = None,
) -> PersonErased:
    """Deletes everything held about the person, across all events, and records it in the
    privacy log. `invitee` is the guest-list entry whose link asked for it (actor invitee);
    `suppress` keeps their address on the suppression list. Raises DomainError when an organizer
    (or the purge) finds the entry erased already. The caller commits."""
    now = now or utcnow()
    contact = await lock_contact(contact.id, session=session)  # type: ignore[arg-type]
    if invitee is not None:
        # The same request twice at once (a double click): the second waited for the lock.
        current = (
            await session.exec(
                select(Invitee)
                .where(Invitee.id == invitee.id)
                .execution_options(populate_existing=True)
            )
        ).first()
        if current is None or (current.erased_at is not None and current.link_lookup is None):
            raise AlreadyErased(_("Your data is deleted already."))
    # An entry anonymized before its links were revoked (by an older version) can still be
    # cleared by the person behind such a link; anyone else finds the work done.
    already_anonymized = contact.is_anonymized
    if actor != PrivacyActor.invitee:
        book.refuse_if_anonymized(contact)
    contact_id, address = contact.id, contact.email
    # The retention purge keeps every row, so that old events keep their numbers.
    keep_entry = (
        already_anonymized
        or actor == PrivacyActor.retention
        or await book.has_answered(contact, session=session)
    )
    counts = ErasureCounts()
    entries = await session.exec(
        select(Invitee).where(Invitee.contact_id == contact_id).order_by(col(Invitee.id))
    )
    for entry in entries.all():
        counts.add(
            await erase_invitee(
                entry,
                session=session,
                settings=settings,
                drop_free_text=actor != PrivacyActor.retention,
                now=now,
                address=address,
            )
        )
    # E-mails to their address that no guest-list entry points at any more.
    counts.add(
        await scrub_outbox(
            func.lower(OutboxMessage.recipient) == address.lower(),
            session=session,
            addresses=(address,),
        )
    )
    counts.caught_mails = await delete_caught_mail(address, session=session)
    suppressed = False
    if suppress and not already_anonymized:
        await unsubscribe.suppress(address, unsubscribe.REASON_ERASED, session=session)
        suppressed = True
    summary = counts.as_dict()
    if already_anonymized:
        removal = book.Removal.anonymized
    elif keep_entry:
        await book.anonymize_contact(contact, session=session)
        removal = book.Removal.anonymized
        summary["contact_anonymized"] = 1
    else:
        await session.delete(contact)  # its guest-list rows go with it (ON DELETE CASCADE)
        await session.flush()
        await book.drop_unused_tags(session=session)
        removal = book.Removal.deleted
        summary["contact_deleted"] = 1
    if suppressed:
        summary["suppressed"] = 1
    add_record(
        session=session,
        action=PrivacyAction.purged if actor == PrivacyActor.retention else PrivacyAction.erased,
        actor=actor,
        organizer=organizer,
        event_id=invitee.event_id if invitee is not None else None,
        contact_id=contact_id,
        invitee_id=invitee.id if invitee is not None else None,
        counts=summary,
    )
    await session.flush()
    return PersonErased(removal=removal, counts=counts, suppressed=suppressed)
