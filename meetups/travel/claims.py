"""The invitee's claim: items with receipts, the payee, and submitting it.

Every function here acts for one invitee (found by their personal link) on their own claim only:
items and receipts are looked up through the invitee's claim, so no id from a form can reach
another person's. Each one changes the session; the caller commits once (the status e-mail goes
into the same transaction).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import MAX_ROW_ID, utcnow
from meetups.errors import DomainError, NotFound, ValidationFailed
from meetups.events.models import Event, TravelCategory
from meetups.i18n import format_date
from meetups.i18n import gettext as _
from meetups.invitations.models import Invitee
from meetups.travel import messages, policy, receipts
from meetups.travel.banking import bic_for, clean_bic, clean_iban, needs_bic
from meetups.travel.models import (
    Claim,
    ClaimDecision,
    ClaimItem,
    ClaimStatus,
    DecisionAction,
    Receipt,
)
from meetups.travel.money import (
    MAX_ITEM_CENTS,
    mileage_cents,
    over_cap_by,
    parse_amount,
    parse_distance,
)
from meetups.validation import FORMULA_PREFIXES, clean_name, clean_text

MAX_ITEMS = 30
# How far before the event a cost may lie (tickets are bought early).
EARLIEST_COST = timedelta(days=366)


@dataclass(frozen=True)
class Upload:
    """A file as the invitee sent it: its name on their device and its bytes."""

    filename: str
    data: bytes


class ClaimClosed(DomainError):
    """The claim cannot be filed or changed now; the message says why."""


@dataclass
class ClaimView:
    """Everything the invitee's claim page shows."""

    event: Event
    invitee: Invitee
    contact: Contact
    eligibility: policy.Eligibility
    claim: Claim | None
    items: list[ClaimItem] = field(default_factory=list)
    receipts: dict[int, Receipt] = field(default_factory=dict)
    history: list[ClaimDecision] = field(default_factory=list)

    @property
    def refusal_message(self) -> str:
        refusal = self.eligibility.refusal
        return policy.refusal_message(refusal, self.event) if refusal else ""

    @property
    def can_edit(self) -> bool:
        return self.claim_closed_reason() is None

    def claim_closed_reason(self) -> str | None:
        return closed_reason(self.claim, self.eligibility, self.event)

    @property
    def can_submit(self) -> bool:
        return self.can_edit and self.eligibility.can_submit_yet and bool(self.items)

    @property
    def total_cents(self) -> int:
        return sum(item.amount_cents for item in self.items)

    @property
    def over_cap_by(self) -> int:
        return over_cap_by(self.total_cents, self.event.travel_cap_cents)

    @property
    def missing(self) -> list[str]:
        """What is still needed before submitting."""
        return submit_problems(self.claim, self.items, self.receipts)

    @property
    def last_message(self) -> ClaimDecision | None:
        """The organizers' latest word (a note, a reason), for the invitee to read."""
        for step in reversed(self.history):
            if not step.by_invitee and step.reason.strip():
                return step
        return None


def closed_reason(claim: Claim | None, eligibility: policy.Eligibility, event: Event) -> str | None:
    """Why the invitee cannot change the claim now (a message), or None while they can."""
    if claim is not None and claim.status == ClaimStatus.needs_changes:
        # Sent back for changes: correctable even after the deadline, as long as the event
        # still reimburses and the person still counts as a guest who came.
        refusal = eligibility.refusal
        if refusal is not None and refusal != policy.Refusal.deadline:
            return policy.refusal_message(refusal, event)
        return None
    if eligibility.refusal is not None:
        return policy.refusal_message(eligibility.refusal, event)
    if claim is None or claim.status == ClaimStatus.draft:
        return None
    if claim.status == ClaimStatus.submitted and claim.seen_at is None:
        return None
    if claim.status == ClaimStatus.submitted:
        return _(
            "The organizers are looking at your claim, so it cannot be changed any more. "
            "If something is wrong, please write to them."
        )
    return _("Your claim has been decided on, so it cannot be changed any more.")


def submit_problems(
    claim: Claim | None, items: Sequence[ClaimItem], receipts_by_item: Mapping[int, Receipt]
) -> list[str]:
    problems = []
    if not items:
        problems.append(_("Add at least one cost."))
    without_receipt = [
        item
        for item in items
        if item.category != TravelCategory.car and item.id not in receipts_by_item
    ]
    if without_receipt:
        problems.append(_("Add a receipt to every cost (a drive by car needs none)."))
    if claim is None or not claim.has_payee:
        problems.append(_("Tell us the account holder and the IBAN to transfer the money to."))
    elif needs_bic(claim.iban) and not claim.bic:
        problems.append(_("Add the BIC of your bank (needed for accounts outside the EU)."))
    return problems


async def _context(invitee: Invitee, *, session: AsyncSession) -> tuple[Event, Contact]:
    event = await session.get(Event, invitee.event_id)
    contact = await session.get(Contact, invitee.contact_id)
    if event is None or contact is None:
        raise NotFound(_("This invitation no longer exists."))
    return event, contact


async def claim_of(invitee: Invitee, *, session: AsyncSession, lock: bool = False) -> Claim | None:
    query = select(Claim).where(Claim.invitee_id == invitee.id)
    if lock:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def items_of(claim: Claim, *, session: AsyncSession) -> list[ClaimItem]:
    query = (
        select(ClaimItem)
        .where(ClaimItem.claim_id == claim.id)
        .order_by(col(ClaimItem.spent_on), col(ClaimItem.id))
    )
    return list((await session.exec(query)).all())


async def history_of(claim: Claim, *, session: AsyncSession) -> list[ClaimDecision]:
    query = (
        select(ClaimDecision)
        .where(ClaimDecision.claim_id == claim.id)
        .order_by(col(ClaimDecision.at), col(ClaimDecision.id))
    )
    return list((await session.exec(query)).all())


async def claim_view(
    invitee: Invitee, *, session: AsyncSession, now: datetime | None = None
) -> ClaimView:
    event, contact = await _context(invitee, session=session)
    eligibility = await policy.eligibility(event, invitee, session=session, now=now)
    claim = await claim_of(invitee, session=session)
    view = ClaimView(
        event=event, invitee=invitee, contact=contact, eligibility=eligibility, claim=claim
    )
    if claim is not None:
        view.items = await items_of(claim, session=session)
        view.receipts = await receipts.receipts_by_item(claim.id, session=session)  # type: ignore[arg-type]
        view.history = await history_of(claim, session=session)
    return view


async def _editable_claim(
    invitee: Invitee, *, session: AsyncSession, create: bool
) -> tuple[Claim, ClaimView]:
    """The invitee's claim, locked, after checking that they may change it now; with `create`,
    a new draft when they have none. Raises ClaimClosed."""
    # One change at a time per invitee (two tabs, a double click): on PostgreSQL the invitee's
    # row is locked, so the second waits instead of opening a second claim; SQLite writers take
    # the database lock up front anyway.
    await session.exec(select(Invitee.id).where(Invitee.id == invitee.id).with_for_update())
    view = await claim_view(invitee, session=session)
    claim = await claim_of(invitee, session=session, lock=True)
    if claim is not None:
        view.claim = claim
    reason = view.claim_closed_reason()
    if reason is not None:
        raise ClaimClosed(reason)
    if claim is None:
        if not create:
            raise NotFound(_("You have no travel claim yet."))
        claim = Claim(
            event_id=view.event.id,  # type: ignore[arg-type]
            invitee_id=invitee.id,  # type: ignore[arg-type]
            currency=view.event.travel_currency,
            payee_name=_default_payee(view.contact),
        )
        session.add(claim)
        await session.flush()
        view.claim = claim
    return claim, view


def _default_payee(contact: Contact) -> str:
    name = " ".join(contact.name.split())[:70]
    return "" if name.startswith(FORMULA_PREFIXES) else name


async def _touch(claim: Claim, view: ClaimView, *, session: AsyncSession) -> None:
    """After any change: the total, the revision, and a line in the history when the claim was
    already submitted (organizers see what changed after submission)."""
    items = await items_of(claim, session=session)
    claim.requested_cents = sum(item.amount_cents for item in items)
    claim.revision += 1
    claim.updated_at = utcnow()
    if claim.status == ClaimStatus.submitted:
        claim.over_cap = over_cap_by(claim.requested_cents, view.event.travel_cap_cents) > 0
        session.add(
            ClaimDecision(
                claim_id=claim.id,  # type: ignore[arg-type]
                action=DecisionAction.changed,
                by_invitee=True,
                actor_name=view.contact.name,
                requested_cents=claim.requested_cents,
            )
        )
    session.add(claim)


# --- Items ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemFields:
    category: TravelCategory
    spent_on: date
    description: str
    amount_cents: int
    distance_tenths_km: int | None
    mileage_rate_cents: int | None


def _parse_date(text: str, event: Event) -> date:
    value = (text or "").strip()
    if not value:
        raise ValueError(_("When did you have this cost?"))
    try:
        day = date.fromisoformat(value)
    except ValueError:
        try:
            day_text, month_text, year_text = value.split(".")
            day = date(int(year_text), int(month_text), int(day_text))
        except ValueError:
            raise ValueError(_("Please enter a date, e.g. 2026-05-14.")) from None
    earliest = (event.starts_at - EARLIEST_COST).date()
    if day < earliest:
        raise ValueError(
            _(
                "This is long before the event. Costs from %(date)s on can be claimed.",
                date=format_date(earliest),
            )
        )
    if day > utcnow().date() + timedelta(days=1):
        raise ValueError(_("This date is in the future."))
    return day


def parse_item(data: Mapping[str, str], event: Event) -> ItemFields:
    """An item as typed; raises ValidationFailed with every problem at once."""
    errors: dict[str, str] = {}
    allowed = event.travel_category_list
    category: TravelCategory | None = None
    try:
        category = TravelCategory((data.get("category") or "").strip())
    except ValueError:
        errors["category"] = _("Please choose what kind of cost this is.")
    if category is not None and category not in allowed:
        errors["category"] = _("This kind of cost is not reimbursed for this event.")
        category = None
    spent_on = None
    try:
        spent_on = _parse_date(data.get("spent_on", ""), event)
    except ValueError as error:
        errors["spent_on"] = str(error)
    description = ""
    try:
        description = clean_text(data.get("description"), max_length=300)
    except ValueError as error:
        errors["description"] = str(error)
    if category in (TravelCategory.other, TravelCategory.hotel) and not description:
        errors["description"] = _("Please describe this cost in a few words.")
    amount = distance = rate = None
    if category == TravelCategory.car:
        try:
            distance = parse_distance(data.get("distance_km"))
            rate = event.travel_mileage_rate_cents
            amount = mileage_cents(distance, rate)
            if amount == 0:
                errors["distance_km"] = _("This distance comes to less than a cent.")
            elif amount > MAX_ITEM_CENTS:
                errors["distance_km"] = _("This is too far for one cost; please split it up.")
        except ValueError as error:
            errors["distance_km"] = str(error)
    else:
        try:
            amount = parse_amount(data.get("amount"))
        except ValueError as error:
            errors["amount"] = str(error)
    if errors or category is None or spent_on is None or amount is None:
        fallback = {"category": _("Please choose what kind of cost this is.")}
        raise ValidationFailed(errors or fallback)
    return ItemFields(
        category=category,
        spent_on=spent_on,
        description=description,
        amount_cents=amount,
        distance_tenths_km=distance,
        mileage_rate_cents=rate,
    )


def _check_receipt(upload: Upload | None, category: TravelCategory, *, required: bool) -> None:
    if upload is not None:
        try:
            receipts.check_upload(upload.data)
        except receipts.ReceiptRefused as error:
            raise ValidationFailed({"receipt": str(error)}) from None
    elif required and category != TravelCategory.car:
        raise ValidationFailed({"receipt": _("Please add the receipt (PDF, JPEG or PNG).")})


async def _position(claim: Claim, item: ClaimItem, *, session: AsyncSession) -> int:
    query = select(func.count()).where(ClaimItem.claim_id == claim.id, col(ClaimItem.id) <= item.id)
    return (await session.exec(query)).one()


async def add_item(
    invitee: Invitee, data: Mapping[str, str], upload: Upload | None, *, session: AsyncSession
) -> ClaimItem:
    """Adds a cost (and its receipt) to the invitee's claim, opening a draft if needed."""
    claim, view = await _editable_claim(invitee, session=session, create=True)
    fields = parse_item(data, view.event)
    _check_receipt(upload, fields.category, required=True)
    count = (await session.exec(select(func.count()).where(ClaimItem.claim_id == claim.id))).one()
    if count >= MAX_ITEMS:
        raise DomainError(_("A claim can have at most %(max)s costs.", max=MAX_ITEMS))
    item = ClaimItem(claim_id=claim.id, **vars(fields))  # type: ignore[arg-type]
    session.add(item)
    await session.flush()
    if upload is not None:
        await receipts.store_receipt(
            session=session,
            claim_id=claim.id,  # type: ignore[arg-type]
            item_id=item.id,  # type: ignore[arg-type]
            item_position=await _position(claim, item, session=session),
            data=upload.data,
            filename=upload.filename,
        )
    await _touch(claim, view, session=session)
    return item


async def _own_item(claim: Claim, item_id: object, *, session: AsyncSession) -> ClaimItem:
    """One of the claim's items; NotFound for any other id (another person's, or none)."""
    text = str(item_id).strip()
    number = int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else 0
    if not 1 <= number <= MAX_ROW_ID:
        raise NotFound(_("There is no such cost in your claim."))
    item = (
        await session.exec(
            select(ClaimItem).where(ClaimItem.id == number, ClaimItem.claim_id == claim.id)
        )
    ).first()
    if item is None:
        raise NotFound(_("There is no such cost in your claim."))
    return item


async def own_item(invitee: Invitee, item_id: object, *, session: AsyncSession) -> ClaimItem:
    claim = await claim_of(invitee, session=session)
    if claim is None:
        raise NotFound(_("There is no such cost in your claim."))
    return await _own_item(claim, item_id, session=session)


async def update_item(
    invitee: Invitee,
    item_id: object,
    data: Mapping[str, str],
    upload: Upload | None,
    *,
    session: AsyncSession,
) -> ClaimItem:
    """Changes a cost; a new file replaces its receipt."""
    claim, view = await _editable_claim(invitee, session=session, create=False)
    item = await _own_item(claim, item_id, session=session)
    fields = parse_item(data, view.event)
    has_receipt = item.id in view.receipts
    _check_receipt(upload, fields.category, required=not has_receipt)
    for name, value in vars(fields).items():
        setattr(item, name, value)
    session.add(item)
    if upload is not None:
        await receipts.store_receipt(
            session=session,
            claim_id=claim.id,  # type: ignore[arg-type]
            item_id=item.id,  # type: ignore[arg-type]
            item_position=await _position(claim, item, session=session),
            data=upload.data,
            filename=upload.filename,
        )
    await session.flush()
    await _touch(claim, view, session=session)
    return item


async def delete_item(invitee: Invitee, item_id: object, *, session: AsyncSession) -> None:
    claim, view = await _editable_claim(invitee, session=session, create=False)
    item = await _own_item(claim, item_id, session=session)
    await session.delete(item)
    await session.flush()
    await _touch(claim, view, session=session)


# --- Payee ------------------------------------------------------------------------------------


def parse_payee(data: Mapping[str, str], *, current_iban: str = "") -> dict[str, str]:
    """Account holder, IBAN and BIC as typed. An empty IBAN keeps the one saved (the form shows
    it masked). Raises ValidationFailed."""
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    try:
        values["payee_name"] = clean_name(data.get("payee_name"), max_length=70)
    except ValueError as error:
        errors["payee_name"] = str(error)
    typed_iban = (data.get("iban") or "").strip()
    if typed_iban or not current_iban:
        try:
            values["iban"] = clean_iban(typed_iban)
        except ValueError as error:
            errors["iban"] = str(error)
    else:
        values["iban"] = current_iban
    try:
        values["bic"] = clean_bic(data.get("bic"))
    except ValueError as error:
        errors["bic"] = str(error)
    iban = values.get("iban")
    if iban and "bic" in values and not values["bic"]:
        values["bic"] = bic_for(iban) if needs_bic(iban) else ""
        if needs_bic(iban) and not values["bic"]:
            errors["bic"] = _(
                "Please add the BIC of your bank (needed for accounts outside the EU)."
            )
    if errors:
        raise ValidationFailed(errors)
    return values


async def save_payee(invitee: Invitee, data: Mapping[str, str], *, session: AsyncSession) -> Claim:
    claim, view = await _editable_claim(invitee, session=session, create=True)
    values = parse_payee(data, current_iban=claim.iban)
    claim.payee_name = values["payee_name"]
    claim.iban = values["iban"]
    claim.bic = values["bic"]
    await _touch(claim, view, session=session)
    return claim


# --- Submitting -------------------------------------------------------------------------------


async def submit(invitee: Invitee, *, session: AsyncSession, settings: Settings) -> Claim:
    """Sends the claim to the organizers (again, after changes were asked for), and the
    invitee a confirmation with the amounts. Over the cap is allowed, and flagged."""
    claim, view = await _editable_claim(invitee, session=session, create=False)
    if claim.status == ClaimStatus.submitted:
        raise DomainError(_("Your claim is submitted already."))
    if not view.eligibility.can_submit_yet:
        raise DomainError(
            _("You can prepare your claim now and submit it once the event has begun.")
        )
    items = await items_of(claim, session=session)
    found = await receipts.receipts_by_item(claim.id, session=session)  # type: ignore[arg-type]
    problems = submit_problems(claim, items, found)
    if problems:
        raise DomainError(" ".join(problems))
    resubmitted = claim.status == ClaimStatus.needs_changes
    now = utcnow()
    claim.status = ClaimStatus.submitted
    claim.requested_cents = sum(item.amount_cents for item in items)
    claim.over_cap = over_cap_by(claim.requested_cents, view.event.travel_cap_cents) > 0
    claim.submitted_at = now
    claim.seen_at = None
    claim.approved_cents = None
    for item in items:
        item.approved_cents = None
        session.add(item)
    claim.revision += 1
    claim.updated_at = now
    session.add(claim)
    session.add(
        ClaimDecision(
            claim_id=claim.id,  # type: ignore[arg-type]
            action=DecisionAction.submitted,
            by_invitee=True,
            actor_name=view.contact.name,
            at=now,
            requested_cents=claim.requested_cents,
        )
    )
    messages.queue_claim_email(
        claim,
        items,
        invitee=invitee,
        contact=view.contact,
        event=view.event,
        session=session,
        settings=settings,
        resubmitted=resubmitted,
    )
    return claim


# --- The live total ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """What the form shows while typing: this item's amount, and the claim's total with it."""

    amount_cents: int | None
    distance_tenths_km: int | None
    rate_cents: int | None
    total_cents: int
    cap_cents: int | None
    error: str = ""

    @property
    def over_cap_by(self) -> int:
        return over_cap_by(self.total_cents, self.cap_cents)


def preview(data: Mapping[str, str], event: Event, *, other_items_cents: int) -> Preview:
    """The amount of the item being typed (computed from the km for a drive) and the total."""
    amount = distance = rate = None
    error = ""
    if (data.get("category") or "") == TravelCategory.car.value:
        rate = event.travel_mileage_rate_cents
        if (data.get("distance_km") or "").strip():
            try:
                distance = parse_distance(data.get("distance_km"))
                amount = mileage_cents(distance, rate)
            except ValueError as problem:
                error = str(problem)
    elif (data.get("amount") or "").strip():
        try:
            amount = parse_amount(data.get("amount"))
        except ValueError as problem:
            error = str(problem)
    return Preview(
        amount_cents=amount,
        distance_tenths_km=distance,
        rate_cents=rate,
        total_cents=other_items_cents + (amount or 0),
        cap_cents=event.travel_cap_cents,
        error=error,
    )
