"""The organizers' side of claims: the queue, looking at a claim, and deciding on it.

A decision names the claim's revision the organizer saw: if the invitee changed the claim in the
meantime, the decision is refused and the page shows the new state. Every decision is recorded
in the claim's history (who, when, what, why) and e-mailed to the invitee, in one transaction.
Approving more than the event's cap per person needs an explicit override with a reason.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.models import Organizer
from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import utcnow
from meetups.errors import DomainError, NotFound, ValidationFailed
from meetups.events.form import parse_money_cents
from meetups.events.models import Event
from meetups.i18n import format_money
from meetups.i18n import gettext as _
from meetups.invitations.models import Invitee
from meetups.travel import messages, receipts
from meetups.travel.claims import history_of, items_of
from meetups.travel.models import (
    DECIDABLE_STATUSES,
    PAYABLE_STATUSES,
    Claim,
    ClaimDecision,
    ClaimItem,
    ClaimStatus,
    DecisionAction,
    Receipt,
    TravelBudget,
)
from meetups.travel.money import over_cap_by, parse_amount
from meetups.validation import clean_text

MAX_REASON = 2000


def status_labels() -> dict[ClaimStatus, str]:
    return {
        ClaimStatus.draft: _("Draft"),
        ClaimStatus.submitted: _("Submitted"),
        ClaimStatus.needs_changes: _("Needs changes"),
        ClaimStatus.approved: _("Approved"),
        ClaimStatus.partly_approved: _("Partly approved"),
        ClaimStatus.rejected: _("Rejected"),
        ClaimStatus.paid: _("Paid"),
    }


def action_labels() -> dict[DecisionAction, str]:
    return {
        DecisionAction.submitted: _("Submitted"),
        DecisionAction.changed: _("Changed by the guest"),
        DecisionAction.needs_changes: _("Sent back for changes"),
        DecisionAction.approved: _("Approved"),
        DecisionAction.partly_approved: _("Approved in part"),
        DecisionAction.rejected: _("Rejected"),
        DecisionAction.paid: _("Marked as paid"),
    }


class StaleClaim(DomainError):
    def __init__(self) -> None:
        super().__init__(
            _("The claim changed while you were looking at it. Please check it again and decide.")
        )


# --- The queue --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    claim: Claim
    contact: Contact
    event: Event
    items: int


@dataclass
class Totals:
    """Sums of one currency: requested (submitted and later, not drafts), approved (approved,
    partly approved and paid) and paid."""

    currency: str
    requested: int = 0
    approved: int = 0
    paid: int = 0
    claims: int = 0
    budget: int | None = None

    @property
    def open_to_pay(self) -> int:
        return self.approved - self.paid

    @property
    def budget_left(self) -> int | None:
        return None if self.budget is None else self.budget - self.approved


@dataclass
class Queue:
    rows: list[QueueRow]
    counts: dict[ClaimStatus, int]
    totals: list[Totals] = field(default_factory=list)


def parse_status(value: str | None) -> ClaimStatus | None:
    try:
        return ClaimStatus((value or "").strip())
    except ValueError:
        return None


async def queue(
    *,
    session: AsyncSession,
    event: Event | None = None,
    status: ClaimStatus | None = None,
    limit: int = 500,
) -> Queue:
    """Claims of one event or of all, optionally of one status, the ones waiting longest first;
    with the count per status and the totals (of all statuses, not only the shown one)."""
    query = (
        select(Claim, Contact, Event)
        .join(Invitee, col(Invitee.id) == Claim.invitee_id)
        .join(Contact, col(Contact.id) == Invitee.contact_id)
        .join(Event, col(Event.id) == Claim.event_id)
    )
    count_query = select(Claim.status, func.count()).group_by(Claim.status)
    if event is not None:
        query = query.where(Claim.event_id == event.id)
        count_query = count_query.where(Claim.event_id == event.id)
    if status is not None:
        query = query.where(Claim.status == status)
    query = query.order_by(
        col(Claim.submitted_at).is_(None), col(Claim.submitted_at), col(Claim.id)
    ).limit(limit)
    found = (await session.exec(query)).all()
    item_counts: dict[int, int] = {}
    if found:
        ids = [claim.id for claim, _contact, _event in found]
        item_query = (
            select(ClaimItem.claim_id, func.count())
            .where(col(ClaimItem.claim_id).in_(ids))
            .group_by(ClaimItem.claim_id)
        )
        item_counts = dict((await session.exec(item_query)).all())  # type: ignore[arg-type]
    rows = [
        QueueRow(claim=claim, contact=contact, event=ev, items=item_counts.get(claim.id, 0))  # type: ignore[arg-type]
        for claim, contact, ev in found
    ]
    counts = dict.fromkeys(ClaimStatus, 0)
    for value, number in (await session.exec(count_query)).all():
        counts[ClaimStatus(value)] = number
    return Queue(rows=rows, counts=counts, totals=await totals(session=session, event=event))


async def totals(*, session: AsyncSession, event: Event | None = None) -> list[Totals]:
    """Requested / approved / paid per currency (one event has one), with the event's budget."""
    query = select(
        Claim.currency,
        Claim.status,
        func.count(),
        func.sum(Claim.requested_cents),
        func.sum(Claim.approved_cents),
    ).group_by(Claim.currency, Claim.status)
    if event is not None:
        query = query.where(Claim.event_id == event.id)
    by_currency: dict[str, Totals] = {}
    for currency, status, number, requested, approved in (await session.exec(query)).all():
        sums = by_currency.setdefault(currency, Totals(currency=currency))
        status = ClaimStatus(status)
        if status == ClaimStatus.draft:
            continue
        sums.claims += number
        sums.requested += requested or 0
        if status in (*PAYABLE_STATUSES, ClaimStatus.paid):
            sums.approved += approved or 0
        if status == ClaimStatus.paid:
            sums.paid += approved or 0
    if event is not None:
        budget = await budget_of(event, session=session)
        sums = by_currency.setdefault(event.travel_currency, Totals(currency=event.travel_currency))
        sums.budget = budget
    return sorted(by_currency.values(), key=lambda t: t.currency)


async def budget_of(event: Event, *, session: AsyncSession) -> int | None:
    query = select(TravelBudget.amount_cents).where(TravelBudget.event_id == event.id)
    return (await session.exec(query)).first()


async def set_budget(event: Event, text: str, *, session: AsyncSession) -> int | None:
    """Sets (or with an empty text, removes) the event's travel budget."""
    try:
        cents = parse_money_cents(text or "", maximum_cents=10_000_000_00)
    except ValueError as error:
        raise ValidationFailed({"budget": str(error)}) from None
    existing = (
        await session.exec(select(TravelBudget).where(TravelBudget.event_id == event.id))
    ).first()
    if cents is None:
        if existing is not None:
            await session.delete(existing)
        return None
    if existing is None:
        existing = TravelBudget(event_id=event.id, amount_cents=cents)  # type: ignore[arg-type]
    existing.amount_cents = cents
    existing.updated_at = utcnow()
    session.add(existing)
    return cents


async def to_review_counts(event_ids: Sequence[int], *, session: AsyncSession) -> dict[int, int]:
    """Submitted claims per event (for lists of events)."""
    if not event_ids:
        return {}
    query = (
        select(Claim.event_id, func.count())
        .where(col(Claim.event_id).in_(event_ids), Claim.status == ClaimStatus.submitted)
        .group_by(Claim.event_id)
    )
    return dict((await session.exec(query)).all())  # type: ignore[arg-type]


# --- One claim --------------------------------------------------------------------------------


@dataclass
class ClaimDetail:
    claim: Claim
    event: Event
    invitee: Invitee
    contact: Contact
    items: list[ClaimItem]
    receipts: dict[int, Receipt]
    history: list[ClaimDecision]
    actors: dict[int, str]

    @property
    def cap(self) -> int | None:
        return self.event.travel_cap_cents

    @property
    def can_decide(self) -> bool:
        return self.claim.status in DECIDABLE_STATUSES

    @property
    def can_mark_paid(self) -> bool:
        return self.claim.status in PAYABLE_STATUSES and self.claim.has_payee


async def get_claim(event: Event, claim_id: object, *, session: AsyncSession) -> Claim:
    """A claim of `event`; NotFound for any other id (of another event, or none)."""
    try:
        number = int(str(claim_id))
    except ValueError:
        raise NotFound(_("There is no such claim.")) from None
    if not 1 <= number <= 2**31 - 1:
        raise NotFound(_("There is no such claim."))
    claim = (
        await session.exec(select(Claim).where(Claim.id == number, Claim.event_id == event.id))
    ).first()
    if claim is None:
        raise NotFound(_("There is no such claim."))
    return claim


async def claim_detail(event: Event, claim_id: object, *, session: AsyncSession) -> ClaimDetail:
    claim = await get_claim(event, claim_id, session=session)
    invitee = await session.get(Invitee, claim.invitee_id)
    contact = await session.get(Contact, invitee.contact_id) if invitee else None
    if invitee is None or contact is None:
        raise NotFound(_("There is no such claim."))
    history = await history_of(claim, session=session)
    organizer_ids = {step.organizer_id for step in history if step.organizer_id}
    actors: dict[int, str] = {}
    if organizer_ids:
        query = select(Organizer.id, Organizer.name).where(col(Organizer.id).in_(organizer_ids))
        actors = dict((await session.exec(query)).all())  # type: ignore[arg-type]
    return ClaimDetail(
        claim=claim,
        event=event,
        invitee=invitee,
        contact=contact,
        items=await items_of(claim, session=session),
        receipts=await receipts.receipts_by_item(claim.id, session=session),  # type: ignore[arg-type]
        history=history,
        actors=actors,
    )


async def mark_seen(claim: Claim, *, session: AsyncSession) -> bool:
    """Notes that an organizer who may decide opened the submitted claim: from now on the invitee
    can no longer change it. True if this was the first look."""
    if claim.status != ClaimStatus.submitted or claim.seen_at is not None:
        return False
    statement = (
        update(Claim)
        .where(
            col(Claim.id) == claim.id,
            col(Claim.status) == ClaimStatus.submitted,
            col(Claim.seen_at).is_(None),
        )
        .values(seen_at=utcnow())
    )
    result = await session.exec(statement)  # type: ignore[call-overload]
    return result.rowcount == 1


# --- Decisions --------------------------------------------------------------------------------


def _reason(text: str | None, *, required: str | None, field_name: str = "reason") -> str:
    try:
        reason = clean_text(text, max_length=MAX_REASON, multiline=True)
    except ValueError as error:
        raise ValidationFailed({field_name: str(error)}) from None
    if required and not reason:
        raise ValidationFailed({field_name: required})
    return reason


def _revision(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return -1


async def _locked(
    event: Event, claim_id: object, revision: object, *, session: AsyncSession
) -> Claim:
    claim = await get_claim(event, claim_id, session=session)
    claim = (await session.exec(select(Claim).where(Claim.id == claim.id).with_for_update())).one()
    await session.refresh(claim)
    if _revision(revision) != claim.revision:
        raise StaleClaim
    return claim


async def _participants(claim: Claim, *, session: AsyncSession) -> tuple[Invitee, Contact]:
    invitee = await session.get(Invitee, claim.invitee_id)
    contact = await session.get(Contact, invitee.contact_id) if invitee else None
    if invitee is None or contact is None:
        raise NotFound(_("There is no such claim."))
    return invitee, contact


def _record(
    claim: Claim,
    action: DecisionAction,
    organizer: Organizer,
    *,
    session: AsyncSession,
    now: datetime,
    reason: str = "",
    cap_override: bool = False,
    override_reason: str = "",
) -> ClaimDecision:
    step = ClaimDecision(
        claim_id=claim.id,  # type: ignore[arg-type]
        action=action,
        organizer_id=organizer.id,
        actor_name=organizer.name,
        at=now,
        requested_cents=claim.requested_cents,
        approved_cents=claim.approved_cents,
        reason=reason,
        cap_override=cap_override,
        override_reason=override_reason,
        paid_on=claim.paid_on,
    )
    session.add(step)
    return step


async def _finish(
    claim: Claim,
    items: Sequence[ClaimItem],
    event: Event,
    *,
    session: AsyncSession,
    settings: Settings,
    reason: str,
) -> None:
    claim.revision += 1
    claim.updated_at = utcnow()
    session.add(claim)
    invitee, contact = await _participants(claim, session=session)
    messages.queue_claim_email(
        claim,
        items,
        invitee=invitee,
        contact=contact,
        event=event,
        session=session,
        settings=settings,
        reason=reason,
    )


def _check_decidable(claim: Claim) -> None:
    if claim.status == ClaimStatus.paid:
        raise DomainError(_("This claim is paid already: its decision cannot change any more."))
    if claim.status not in DECIDABLE_STATUSES:
        raise DomainError(_("This claim is not submitted, so there is nothing to decide yet."))


async def send_back(
    event: Event,
    claim_id: object,
    revision: object,
    note: str | None,
    *,
    organizer: Organizer,
    session: AsyncSession,
    settings: Settings,
) -> Claim:
    """Asks the invitee for changes (with a note saying which); they can edit and resubmit."""
    claim = await _locked(event, claim_id, revision, session=session)
    _check_decidable(claim)
    text = _reason(note, required=_("Tell the guest what to change."), field_name="note")
    now = utcnow()
    items = await items_of(claim, session=session)
    claim.status = ClaimStatus.needs_changes
    claim.approved_cents = None
    for item in items:
        item.approved_cents = None
        session.add(item)
    claim.decided_at = now
    claim.seen_at = None
    _record(claim, DecisionAction.needs_changes, organizer, session=session, now=now, reason=text)
    await _finish(claim, items, event, session=session, settings=settings, reason=text)
    return claim


async def reject(
    event: Event,
    claim_id: object,
    revision: object,
    reason: str | None,
    *,
    organizer: Organizer,
    session: AsyncSession,
    settings: Settings,
) -> Claim:
    claim = await _locked(event, claim_id, revision, session=session)
    _check_decidable(claim)
    text = _reason(
        reason, required=_("Tell the guest why the claim is rejected."), field_name="rejection"
    )
    now = utcnow()
    items = await items_of(claim, session=session)
    claim.status = ClaimStatus.rejected
    claim.approved_cents = 0
    for item in items:
        item.approved_cents = 0
        session.add(item)
    claim.decided_at = now
    _record(claim, DecisionAction.rejected, organizer, session=session, now=now, reason=text)
    await _finish(claim, items, event, session=session, settings=settings, reason=text)
    return claim


def parse_approved_amounts(
    items: Sequence[ClaimItem], data: Mapping[str, str], currency: str
) -> tuple[dict[int, int], dict[str, str]]:
    """The approved amount per item from fields `approved_<item id>` (empty: as claimed)."""
    amounts: dict[int, int] = {}
    errors: dict[str, str] = {}
    for item in items:
        name = f"approved_{item.id}"
        text = (data.get(name) or "").strip()
        if not text:
            amounts[item.id] = item.amount_cents  # type: ignore[index]
            continue
        if text in {"0", "0,00", "0.00", "0,0", "0.0"}:
            amounts[item.id] = 0  # type: ignore[index]
            continue
        try:
            cents = parse_amount(text)
        except ValueError as error:
            errors[name] = str(error)
            continue
        if cents > item.amount_cents:
            errors[name] = _(
                "At most the amount claimed, %(amount)s.",
                amount=format_money(item.amount_cents, currency),
            )
            continue
        amounts[item.id] = cents  # type: ignore[index]
    return amounts, errors


async def approve(
    event: Event,
    claim_id: object,
    revision: object,
    data: Mapping[str, str],
    *,
    organizer: Organizer,
    session: AsyncSession,
    settings: Settings,
) -> Claim:
    """Approves the claim, in full or in part: `approved_<item id>` fields give lower amounts
    (a reason is then required). A total above the cap needs `override` and `override_reason`."""
    claim = await _locked(event, claim_id, revision, session=session)
    _check_decidable(claim)
    items = await items_of(claim, session=session)
    amounts, errors = parse_approved_amounts(items, data, claim.currency)
    try:
        reason = clean_text(data.get("reason"), max_length=MAX_REASON, multiline=True)
    except ValueError as error:
        errors["reason"] = str(error)
        reason = ""
    try:
        override_reason = clean_text(data.get("override_reason"), max_length=1000, multiline=True)
    except ValueError as error:
        errors["override_reason"] = str(error)
        override_reason = ""
    if errors:
        raise ValidationFailed(errors)
    total = sum(amounts.values())
    partial = any(amounts[item.id] != item.amount_cents for item in items)  # type: ignore[index]
    if not items:
        raise DomainError(_("This claim has no costs to approve."))
    if total == 0:
        raise ValidationFailed(
            {"reason": _("To approve nothing, reject the claim and tell the guest why.")}
        )
    if partial and not reason:
        errors["reason"] = _("Tell the guest why you approve less than claimed.")
    over = over_cap_by(total, event.travel_cap_cents)
    override = (data.get("override") or "") in {"on", "true", "1", "yes"}
    if over:
        if not override:
            errors["override"] = _(
                "This is %(over)s above the cap of %(cap)s per person. Lower the amounts, or "
                "confirm the exception and say why.",
                over=format_money(over, claim.currency),
                cap=format_money(event.travel_cap_cents, claim.currency),
            )
        elif not override_reason:
            errors["override_reason"] = _("Say why this claim may go above the cap.")
    if errors:
        raise ValidationFailed(errors)
    now = utcnow()
    for item in items:
        item.approved_cents = amounts[item.id]  # type: ignore[index]
        session.add(item)
    claim.approved_cents = total
    claim.status = ClaimStatus.partly_approved if partial else ClaimStatus.approved
    claim.decided_at = now
    action = DecisionAction.partly_approved if partial else DecisionAction.approved
    _record(
        claim,
        action,
        organizer,
        session=session,
        now=now,
        reason=reason,
        cap_override=bool(over),
        override_reason=override_reason if over else "",
    )
    await _finish(claim, items, event, session=session, settings=settings, reason=reason)
    return claim


# --- Paying -----------------------------------------------------------------------------------


def parse_payment_date(text: str | None, *, today: date | None = None) -> date:
    today = today or utcnow().date()
    value = (text or "").strip()
    if not value:
        return today
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed({"paid_on": _("Please enter a date, e.g. 2026-05-14.")}) from None
    if day > today:
        raise ValidationFailed(
            {"paid_on": _("Mark a claim as paid once the bank has carried out the transfer.")}
        )
    if (today - day).days > 366:
        raise ValidationFailed({"paid_on": _("This date is more than a year ago.")})
    return day


@dataclass
class PaidOutcome:
    paid: list[Claim]
    skipped: int


async def mark_paid(
    event: Event | None,
    claim_ids: Sequence[object],
    paid_on_text: str | None,
    *,
    organizer: Organizer,
    session: AsyncSession,
    settings: Settings,
) -> PaidOutcome:
    """Marks approved claims as paid on the given date (one, or a batch from the queue), and
    tells each invitee. Claims not approved (or of another event) are skipped and counted."""
    paid_on = parse_payment_date(paid_on_text)
    numbers = sorted({n for n in (_revision(i) for i in claim_ids) if 1 <= n <= 2**31 - 1})
    if not numbers:
        raise DomainError(_("Choose the claims that were paid."))
    query = select(Claim).where(col(Claim.id).in_(numbers)).order_by(col(Claim.id))
    if event is not None:
        query = query.where(Claim.event_id == event.id)
    found = list((await session.exec(query.with_for_update())).all())
    now = utcnow()
    paid: list[Claim] = []
    events: dict[int, Event] = {}
    for claim in found:
        await session.refresh(claim)
        if claim.status not in PAYABLE_STATUSES or not claim.has_payee:
            continue
        claim_event = (
            event or events.get(claim.event_id) or await session.get(Event, claim.event_id)
        )
        if claim_event is None:
            continue
        events[claim.event_id] = claim_event
        claim.status = ClaimStatus.paid
        claim.paid_on = paid_on
        claim.paid_at = now
        _record(claim, DecisionAction.paid, organizer, session=session, now=now)
        items = await items_of(claim, session=session)
        await _finish(claim, items, claim_event, session=session, settings=settings, reason="")
        paid.append(claim)
    return PaidOutcome(paid=paid, skipped=len(numbers) - len(paid))
