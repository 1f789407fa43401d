"""Everything held about a person, as one JSON file: they download it behind their personal link,
or an organizer downloads it from the address book to answer a request that came by other ways.

The person is the subject, not the event: the file covers every event they were on a guest list
for (reached through any one of their links), and nothing of anyone else. Their receipts travel
inside it (base64), up to a total size; larger ones are listed and stay downloadable from the
travel page of their event. Anonymous feedback cannot be found by design: the file says that it
exists, not what it said. Organizers' names are left out; the file says "an organizer".
"""

import base64
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import col, func, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.models import Organizer
from meetups.checkin.models import CheckIn
from meetups.config import Settings
from meetups.contacts import book
from meetups.contacts.models import Contact
from meetups.coverage.models import CoverageLink
from meetups.db import utcnow
from meetups.events.models import Event
from meetups.feedback.answers import answer_marker
from meetups.feedback.models import (
    FeedbackAnswer,
    FeedbackAnswered,
    FeedbackOption,
    FeedbackQuestion,
    FeedbackRequest,
    FeedbackResponse,
)
from meetups.i18n import gettext as _
from meetups.invitations.models import Invitee, SentReminder, Suppression
from meetups.mail.models import OutboxMessage
from meetups.privacy.models import PrivacyAction, PrivacyActor
from meetups.privacy.records import add_record, records_about
from meetups.travel.models import Claim, ClaimDecision, ClaimItem, Receipt, ReceiptContent

FORMAT = "meetups-personal-data/1"
# Receipts beyond this total are listed without their content (the file is built in memory).
MAX_EMBEDDED_RECEIPT_BYTES = 50 * 1024 * 1024


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _money(cents: int | None) -> str | None:
    """Cents as a decimal amount ("49.90"), never a float."""
    if cents is None:
        return None
    return f"{cents // 100}.{cents % 100:02d}"


@dataclass
class ExportCounts:
    invitations: int = 0
    claims: int = 0
    receipts: int = 0
    emails: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "invitations": self.invitations,
            "claims": self.claims,
            "receipts": self.receipts,
            "emails": self.emails,
        }


class _ReceiptBudget:
    def __init__(self, limit: int) -> None:
        self.left = limit

    def take(self, size: int) -> bool:
        if size > self.left:
            return False
        self.left -= size
        return True


def _email(message: OutboxMessage) -> dict[str, Any]:
    return {
        "subject": message.subject,
        "kind": message.kind,
        "queued_at": _moment(message.created_at),
        "sent_at": _moment(message.sent_at),
        "status": message.status.value,
    }


async def _claim(
    invitee: Invitee, *, session: AsyncSession, budget: _ReceiptBudget, counts: ExportCounts
) -> dict[str, Any] | None:
    claim = (await session.exec(select(Claim).where(Claim.invitee_id == invitee.id))).first()
    if claim is None:
        return None
    counts.claims += 1
    items = (
        await session.exec(
            select(ClaimItem).where(ClaimItem.claim_id == claim.id).order_by(col(ClaimItem.id))
        )
    ).all()
    receipts = {
        receipt.item_id: receipt
        for receipt in (
            await session.exec(select(Receipt).where(Receipt.claim_id == claim.id))
        ).all()
    }
    item_rows = []
    for item in items:
        receipt = receipts.get(item.id)  # type: ignore[arg-type]
        item_rows.append(
            {
                "category": item.category.value,
                "spent_on": _day(item.spent_on),
                "description": item.description,
                "distance_km": (
                    f"{item.distance_tenths_km // 10}.{item.distance_tenths_km % 10}"
                    if item.distance_tenths_km is not None
                    else None
                ),
                "amount": _money(item.amount_cents),
                "approved": _money(item.approved_cents),
                "receipt": await _receipt(receipt, session=session, budget=budget)
                if receipt is not None
                else None,
            }
        )
        if receipt is not None:
            counts.receipts += 1
    history = (
        await session.exec(
            select(ClaimDecision)
            .where(ClaimDecision.claim_id == claim.id)
            .order_by(col(ClaimDecision.at), col(ClaimDecision.id))
        )
    ).all()
    return {
        "status": claim.status.value,
        "currency": claim.currency,
        "payee_name": claim.payee_name,
        "iban": claim.iban,
        "bic": claim.bic,
        "requested": _money(claim.requested_cents),
        "approved": _money(claim.approved_cents),
        "created_at": _moment(claim.created_at),
        "submitted_at": _moment(claim.submitted_at),
        "decided_at": _moment(claim.decided_at),
        "paid_on": _day(claim.paid_on),
        "items": item_rows,
        "history": [
            {
                "action": step.action.value,
                "at": _moment(step.at),
                "by": "you" if step.by_invitee else "organizer",
                "requested": _money(step.requested_cents),
                "approved": _money(step.approved_cents),
                "reason": step.reason,
                "paid_on": _day(step.paid_on),
            }
            for step in history
        ],
    }


async def _receipt(
    receipt: Receipt, *, session: AsyncSession, budget: _ReceiptBudget
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "file_name": receipt.original_name or receipt.stored_name,
        "content_type": receipt.content_type,
        "size": receipt.size,
        "sha256": receipt.sha256,
        "uploaded_at": _moment(receipt.uploaded_at),
        "content_base64": None,
    }
    if budget.take(receipt.size):
        content = await session.get(ReceiptContent, receipt.id)
        if content is not None:
            entry["content_base64"] = base64.b64encode(content.data).decode("ascii")
    else:
        entry["note"] = _(
            "Too large to include here: open the travel page of this event with your "
            "invitation's link to download it."
        )
    return entry


async def _feedback(
    event: Event, invitee: Invitee, *, session: AsyncSession, settings: Settings
) -> dict[str, Any] | None:
    query = select(FeedbackResponse).where(FeedbackResponse.invitee_id == invitee.id)
    response = (await session.exec(query)).first()
    if response is None:
        marker = answer_marker(event.id, invitee.id, settings.secret)  # type: ignore[arg-type]
        if await session.get(FeedbackAnswered, marker) is None:
            return None
        return {
            "anonymous": True,
            "note": _(
                "You gave feedback anonymously. Anonymous answers are stored so that nobody, "
                "not even we, can tell which ones are yours: they are not in this file, and "
                "deleting your data cannot remove them."
            ),
        }
    rows = (
        await session.exec(
            select(FeedbackAnswer, FeedbackQuestion, FeedbackOption)
            .join(FeedbackQuestion, col(FeedbackQuestion.id) == FeedbackAnswer.question_id)
            .outerjoin(FeedbackOption, col(FeedbackOption.id) == FeedbackAnswer.option_id)
            .where(FeedbackAnswer.response_id == response.id)
            .order_by(
                col(FeedbackQuestion.position), col(FeedbackQuestion.id), col(FeedbackAnswer.seq)
            )
        )
    ).all()
    answers: dict[int, dict[str, Any]] = {}
    for answer, question, option in rows:
        entry = answers.setdefault(
            question.id,  # type: ignore[arg-type]
            {"question": question.label, "kind": question.kind.value},
        )
        if option is not None:
            entry.setdefault("chosen", []).append(option.label)
        elif answer.number is not None:
            entry["answer"] = answer.number
        else:
            entry["answer"] = answer.text
    return {
        "anonymous": False,
        "submitted_at": _moment(response.submitted_at),
        "updated_at": _moment(response.updated_at),
        "answers": list(answers.values()),
    }


async def _event_entry(
    invitee: Invitee,
    event: Event,
    *,
    session: AsyncSession,
    settings: Settings,
    budget: _ReceiptBudget,
    counts: ExportCounts,
) -> dict[str, Any]:
    check_in = (await session.exec(select(CheckIn).where(CheckIn.invitee_id == invitee.id))).first()
    reminders = (
        await session.exec(
            select(SentReminder)
            .where(SentReminder.invitee_id == invitee.id)
            .order_by(col(SentReminder.sent_at))
        )
    ).all()
    requests = (
        await session.exec(
            select(FeedbackRequest)
            .where(FeedbackRequest.invitee_id == invitee.id)
            .order_by(col(FeedbackRequest.sent_at))
        )
    ).all()
    coverage = (
        await session.exec(
            select(CoverageLink)
            .where(CoverageLink.invitee_id == invitee.id)
            .order_by(col(CoverageLink.id))
        )
    ).all()
    emails = (
        await session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.invitee_id == invitee.id)
            .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
        )
    ).all()
    counts.emails += len(emails)
    return {
        "event": {
            "title": event.title,
            "starts_at": _moment(event.starts_at),
            "ends_at": _moment(event.ends_at),
            "timezone": event.timezone,
            "venue": event.venue,
            "address": event.address,
            "status": event.status.value,
        },
        "guest_list": {
            "status": invitee.status.value,
            "added_at": _moment(invitee.added_at),
            "invited_at": _moment(invitee.invited_at),
            "link_opened_at": _moment(invitee.opened_at),
            "answered_at": _moment(invitee.responded_at),
            "waitlisted_at": _moment(invitee.waitlisted_at),
            "places": invitee.seats,
            "plus_one_name": invitee.plus_one_name,
            "dietary_needs": invitee.dietary_needs,
            "accessibility_needs": invitee.accessibility_needs,
            "travelling_from": invitee.travelling_from,
            "needs_hotel": invitee.needs_hotel,
            "comment": invitee.comment,
            "erased_at": _moment(invitee.erased_at),
        },
        "reminders": [{"kind": row.kind, "sent_at": _moment(row.sent_at)} for row in reminders],
        "feedback_requests": [
            {"kind": row.kind, "sent_at": _moment(row.sent_at)} for row in requests
        ],
        "check_in": {
            "checked_in_at": _moment(check_in.checked_in_at),
            "plus_one_arrived": check_in.plus_one_arrived,
            "walk_in": check_in.walk_in,
        }
        if check_in is not None
        else None,
        "travel_claim": await _claim(invitee, session=session, budget=budget, counts=counts),
        "feedback": await _feedback(event, invitee, session=session, settings=settings),
        "coverage": [
            {
                "url": link.url,
                "title": link.title,
                "site": link.site,
                "kind": link.kind.value,
                "published_on": _day(link.published_on),
                "discloses_paid_travel": link.discloses_paid_travel,
                "added_at": _moment(link.created_at),
            }
            for link in coverage
        ],
        "emails": [_email(message) for message in emails],
    }


@dataclass(frozen=True)
class PersonalData:
    data: dict[str, Any]
    counts: ExportCounts

    def json_bytes(self) -> bytes:
        return json.dumps(self.data, ensure_ascii=False, indent=2).encode("utf-8")


async def personal_data(
    contact: Contact,
    *,
    session: AsyncSession,
    settings: Settings,
    now: datetime | None = None,
    receipt_limit: int = MAX_EMBEDDED_RECEIPT_BYTES,
) -> PersonalData:
    """Everything held about `contact` (read only)."""
    now = now or utcnow()
    counts = ExportCounts()
    budget = _ReceiptBudget(receipt_limit)
    entries = (
        await session.exec(
            select(Invitee, Event)
            .join(Event, col(Event.id) == Invitee.event_id)
            .where(Invitee.contact_id == contact.id)
            .order_by(col(Event.starts_at), col(Invitee.id))
        )
    ).all()
    events = []
    for invitee, event in entries:
        counts.invitations += 1
        events.append(
            await _event_entry(
                invitee, event, session=session, settings=settings, budget=budget, counts=counts
            )
        )
    own_ids = [invitee.id for invitee, _event in entries]
    # E-mails to their address that no guest-list entry of theirs points at (any more).
    others = (
        await session.exec(
            select(OutboxMessage)
            .where(
                func.lower(OutboxMessage.recipient) == contact.email.lower(),
                or_(
                    col(OutboxMessage.invitee_id).is_(None),
                    col(OutboxMessage.invitee_id).not_in(own_ids or [0]),
                ),
            )
            .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
        )
    ).all()
    counts.emails += len(others)
    suppression = (
        await session.exec(select(Suppression).where(Suppression.email == contact.email.lower()))
    ).first()
    log = await records_about(contact.id, session=session)  # type: ignore[arg-type]
    data = {
        "format": FORMAT,
        "exported_at": _moment(now),
        "about": _(
            "Everything meetups holds about you: your entry in the address book, every "
            "invitation with your answers, check-ins, travel claims with their receipts (as "
            "base64), your feedback, the links to your posts, and the e-mails we sent you."
        ),
        "contact": {
            "name": contact.name,
            "email": contact.email,
            "blog_url": contact.blog_url,
            "city": contact.city,
            "language": contact.language,
            "tags": contact.tag_names,
            "notes": contact.notes,
            "in_address_book_since": _moment(contact.created_at),
            "last_changed_at": _moment(contact.updated_at),
        },
        "events": events,
        "other_emails": [_email(message) for message in others],
        "do_not_contact": {"since": _moment(suppression.created_at), "reason": suppression.reason}
        if suppression is not None
        else None,
        "privacy_log": [
            {
                "at": _moment(record.at),
                "action": record.action.value,
                "by": record.actor.value,
            }
            for record in log
        ],
    }
    return PersonalData(data=data, counts=counts)


async def export_for_invitee(
    invitee: Invitee, *, session: AsyncSession, settings: Settings, now: datetime | None = None
) -> PersonalData:
    """The person's data for their download, recorded in the privacy log. The caller commits."""
    contact = await session.get(Contact, invitee.contact_id)
    assert contact is not None  # the guest-list row holds a foreign key to it
    return await _recorded_export(
        contact,
        actor=PrivacyActor.invitee,
        invitee=invitee,
        session=session,
        settings=settings,
        now=now,
    )


async def export_for_organizer(
    contact: Contact,
    organizer: Organizer,
    *,
    session: AsyncSession,
    settings: Settings,
    now: datetime | None = None,
) -> PersonalData:
    """The same file for an organizer answering a person's request for their data (one that
    reached them by e-mail or letter, not through the personal link), recorded in the privacy
    log under the organizer's name. The caller commits."""
    book.refuse_if_anonymized(contact)
    return await _recorded_export(
        contact,
        actor=PrivacyActor.organizer,
        organizer=organizer,
        session=session,
        settings=settings,
        now=now,
    )


async def _recorded_export(
    contact: Contact,
    *,
    actor: PrivacyActor,
    session: AsyncSession,
    settings: Settings,
    now: datetime | None,
    invitee: Invitee | None = None,
    organizer: Organizer | None = None,
) -> PersonalData:
    exported = await personal_data(contact, session=session, settings=settings, now=now)
    add_record(
        session=session,
        action=PrivacyAction.exported,
        actor=actor,
        organizer=organizer,
        event_id=invitee.event_id if invitee is not None else None,
        contact_id=contact.id,
        invitee_id=invitee.id if invitee is not None else None,
        counts=exported.counts.as_dict(),
    )
    return exported


def file_name(now: datetime, *, contact_id: int | None = None) -> str:
    """The download's name: the person's own, or the organizer's, which says whose it is."""
    if contact_id is None:
        return f"meetups-your-data-{now:%Y-%m-%d}.json"
    return f"meetups-contact-{contact_id}-{now:%Y-%m-%d}.json"
