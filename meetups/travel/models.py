"""Travel-cost claims: one claim per attendee and event, its items with their receipts, the history
of every decision on it, and the company's payout account. Money is integer cents throughout."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from meetups.db import UTCDateTime, str_enum, utcnow
from meetups.events.models import TravelCategory


class ClaimStatus(StrEnum):
    """Where a claim stands. The invitee moves it from draft to submitted (and back from
    needs_changes to submitted); organizers decide the rest."""

    draft = "draft"
    submitted = "submitted"
    needs_changes = "needs_changes"
    approved = "approved"
    partly_approved = "partly_approved"
    rejected = "rejected"
    paid = "paid"


# Claims the invitee may still change (submitted only until an organizer has looked at it).
EDITABLE_STATUSES = (ClaimStatus.draft, ClaimStatus.needs_changes, ClaimStatus.submitted)
# Claims waiting for money: approved in full or in part, and not yet paid.
PAYABLE_STATUSES = (ClaimStatus.approved, ClaimStatus.partly_approved)
# Claims an organizer may decide on (a decision already taken can be corrected until paid).
DECIDABLE_STATUSES = (
    ClaimStatus.submitted,
    ClaimStatus.approved,
    ClaimStatus.partly_approved,
    ClaimStatus.rejected,
)


class Claim(SQLModel, table=True):
    """An attendee's travel costs for one event."""

    __table_args__ = (Index("ix_claim_event_status", "event_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    # An invitee belongs to one event, so this is also "one claim per person and event".
    invitee_id: int = Field(foreign_key="invitee.id", unique=True, ondelete="CASCADE")
    status: ClaimStatus = Field(
        default=ClaimStatus.draft, sa_type=str_enum(ClaimStatus), index=True
    )
    # The event's currency when the claim was opened: the policy may change, a claim does not.
    currency: str = Field(default="EUR", max_length=3)
    payee_name: str = Field(default="", max_length=70)
    iban: str = Field(default="", max_length=34)  # compact, upper case, validated
    bic: str = Field(default="", max_length=11)
    # The sum of the items as the invitee claimed them, kept up to date with the items.
    requested_cents: int = Field(default=0, ge=0)
    # The sum an organizer approved (None before any approval); what the transfer pays.
    approved_cents: int | None = Field(default=None, ge=0)
    # Over the event's cap when submitted: shown to organizers, who need an override to approve
    # more than the cap.
    over_cap: bool = False
    # Raised by every change, so a decision made on a page that shows an older state is refused.
    revision: int = Field(default=1, ge=1)
    # The first time an organizer who may decide opened the submitted claim: from then on the
    # invitee cannot change it any more (until it is sent back for changes).
    seen_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paid_on: date | None = None
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def is_payable(self) -> bool:
        return self.status in PAYABLE_STATUSES

    @property
    def has_payee(self) -> bool:
        return bool(self.payee_name and self.iban)


class ClaimItem(SQLModel, table=True):
    """One cost: a train ticket, a drive by car, a night in a hotel."""

    __tablename__ = "claim_item"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True, ondelete="CASCADE")
    category: TravelCategory = Field(sa_type=str_enum(TravelCategory))
    spent_on: date
    description: str = Field(default="", max_length=300)
    # For a drive by car: the distance in tenths of a km; the amount is then computed from it
    # and the event's mileage rate (meetups.travel.money.mileage_cents).
    distance_tenths_km: int | None = Field(default=None, ge=0)
    mileage_rate_cents: int | None = Field(default=None, ge=0)
    amount_cents: int = Field(ge=0)
    approved_cents: int | None = Field(default=None, ge=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Receipt(SQLModel, table=True):
    """A receipt of one item: its description here, its bytes in ReceiptContent (so that lists of
    receipts never load the files)."""

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="claim_item.id", unique=True, ondelete="CASCADE")
    # Recognized from the content (never from the name or the browser's word).
    content_type: str = Field(max_length=40)
    size: int = Field(ge=0)
    sha256: str = Field(max_length=64)
    # The name the file had on the invitee's device, cleaned (shown, never used as a path).
    original_name: str = Field(default="", max_length=120)
    # The name we serve it under: generated, with the extension of its real type.
    stored_name: str = Field(max_length=80)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReceiptContent(SQLModel, table=True):
    """The bytes of a receipt, in the database: every app server sees them, with no file store
    to share or back up separately."""

    __tablename__ = "receipt_content"

    receipt_id: int = Field(foreign_key="receipt.id", primary_key=True, ondelete="CASCADE")
    data: bytes = Field(sa_type=LargeBinary)


class DecisionAction(StrEnum):
    submitted = "submitted"
    changed = "changed"  # edited by the invitee after submitting, before anyone looked
    needs_changes = "needs_changes"
    approved = "approved"
    partly_approved = "partly_approved"
    rejected = "rejected"
    paid = "paid"


class ClaimDecision(SQLModel, table=True):
    """One step in a claim's history: who, when, what, why. Never changed afterwards."""

    __tablename__ = "claim_decision"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="claim.id", index=True, ondelete="CASCADE")
    action: DecisionAction = Field(sa_type=str_enum(DecisionAction))
    # An organizer's decision; None when the invitee acted (or the organizer was deleted since:
    # `actor_name` keeps who it was).
    organizer_id: int | None = Field(default=None, foreign_key="organizer.id", ondelete="SET NULL")
    by_invitee: bool = False
    actor_name: str = Field(default="", max_length=200)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # The amounts at that step: the requested and the approved total.
    requested_cents: int = Field(default=0, ge=0)
    approved_cents: int | None = Field(default=None, ge=0)
    reason: str = Field(default="", sa_type=Text)
    # An approval above the event's cap: allowed only with this set and a reason.
    cap_override: bool = False
    override_reason: str = Field(default="", max_length=1000)
    paid_on: date | None = None


class PayoutAccount(SQLModel, table=True):
    """The company's own bank account that pays the claims (the debtor of the SEPA file).
    There is one: the row with id 1."""

    __tablename__ = "payout_account"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=70)
    iban: str = Field(max_length=34)
    bic: str = Field(max_length=11)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_by_id: int | None = Field(default=None, foreign_key="organizer.id", ondelete="SET NULL")


class TravelBudget(SQLModel, table=True):
    """What an event may spend on travel costs in all, set on its Travel tab (optional)."""

    __tablename__ = "travel_budget"
    __table_args__ = (UniqueConstraint("event_id", name="uq_travel_budget_event"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", ondelete="CASCADE")
    amount_cents: int = Field(ge=0)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
