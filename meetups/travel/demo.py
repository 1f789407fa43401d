"""Travel claims for the demo's past event: one in every status, with receipts (small PNGs and
PDFs made in code), valid IBANs, and the history of who decided what; plus the company's payout
account, so that the review queue and both exports can be tried at once.

Written once: an event that has claims already is left as it is. No e-mails are queued for this
history (it happened "before"); the claims' own pages show it.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.models import Organizer
from meetups.checkin.desk import attended_invitees
from meetups.contacts.models import Contact
from meetups.events.models import Event, TravelCategory
from meetups.travel import receipts, samples
from meetups.travel.models import (
    Claim,
    ClaimDecision,
    ClaimItem,
    ClaimStatus,
    DecisionAction,
    PayoutAccount,
)
from meetups.travel.money import mileage_cents
from meetups.travel.payout import ACCOUNT_ID

COMPANY_ACCOUNT = ("Beispiel Kommunikation GmbH", "DE02120300000000202051", "BYLADEM1001")


@dataclass(frozen=True)
class DemoItem:
    category: TravelCategory
    description: str
    cents: int = 0  # for a drive: computed from `km_tenths`
    km_tenths: int | None = None
    approved: int | None = None  # when approved in part: this item's approved amount
    receipt: str = "png"  # "png", "pdf" or "" (a drive needs none)


@dataclass(frozen=True)
class DemoClaim:
    status: ClaimStatus
    iban: str
    bic: str
    items: tuple[DemoItem, ...]
    reason: str = ""
    override_reason: str = ""


T, C, H, P, F = (
    TravelCategory.train,
    TravelCategory.car,
    TravelCategory.hotel,
    TravelCategory.public_transport,
    TravelCategory.flight,
)
CLAIMS = (
    DemoClaim(
        ClaimStatus.submitted,
        "DE62370400440532013001",
        "",
        (
            DemoItem(T, "ICE Berlin Hbf – Montabaur, hin und zurück", 18980, receipt="pdf"),
            DemoItem(H, "1 Nacht, Hotel am Bahnhof Montabaur", 8900),
        ),
    ),
    DemoClaim(
        ClaimStatus.submitted,
        "DE12500105170648489890",
        "",
        (DemoItem(T, "Flexpreis Hamburg – Montabaur", 6490, receipt="pdf"),),
    ),
    DemoClaim(
        ClaimStatus.approved,
        "DE19120300001001234567",
        "",
        (
            DemoItem(C, "München – Montabaur und zurück", km_tenths=9140, receipt=""),
            DemoItem(H, "1 Nacht, Hotel Schlemmer", 9500),
        ),
        override_reason="Weite Anreise mit dem Auto, wegen Rollstuhl abgesprochen.",
    ),
    DemoClaim(
        ClaimStatus.approved,
        "AT822011182221234567",
        "",
        (DemoItem(T, "RE Frankfurt – Montabaur", 3120), DemoItem(P, "RMV Tageskarte", 960)),
    ),
    DemoClaim(
        ClaimStatus.partly_approved,
        "CH9300762011623852957",
        "UBSWCHZH80A",
        (
            DemoItem(F, "Flug Zürich – Frankfurt", 21400, approved=12000, receipt="pdf"),
            DemoItem(T, "ICE Frankfurt Flughafen – Montabaur", 2990),
        ),
        reason="Flüge erstatten wir bis zur Höhe der Bahnfahrt 1. Klasse (120 €).",
    ),
    DemoClaim(
        ClaimStatus.needs_changes,
        "DE77100100100123456789",
        "",
        (DemoItem(T, "Bahnfahrt Koblenz – Montabaur", 1380, receipt=""),),
        reason="Bitte laden Sie die Fahrkarte als Beleg hoch.",
    ),
    DemoClaim(
        ClaimStatus.rejected,
        "DE65200411330987654321",
        "",
        (DemoItem(P, "Taxi vom Bahnhof zum Hotel", 2450),),
        reason="Taxifahrten sind in unserer Reisekostenregel nicht vorgesehen.",
    ),
    DemoClaim(
        ClaimStatus.paid,
        "DE20701500000012345678",
        "",
        (DemoItem(C, "Mainz – Montabaur und zurück", km_tenths=1620, receipt=""),),
    ),
    DemoClaim(
        ClaimStatus.draft,
        "",
        "",
        (DemoItem(T, "Regionalbahn Siegen – Montabaur", 2290),),
    ),
)


async def _ensure_account(organizer: Organizer, *, session: AsyncSession) -> None:
    if await session.get(PayoutAccount, ACCOUNT_ID) is None:
        name, iban, bic = COMPANY_ACCOUNT
        session.add(
            PayoutAccount(id=ACCOUNT_ID, name=name, iban=iban, bic=bic, updated_by_id=organizer.id)
        )


async def add_demo_claims(event: Event, organizer: Organizer, *, session: AsyncSession) -> int:
    """Adds the claims (once) and returns how many were added."""
    await _ensure_account(organizer, session=session)
    existing = (await session.exec(select(func.count()).where(Claim.event_id == event.id))).one()
    if existing or not event.travel_enabled:
        return 0
    attendees = [person for person in await attended_invitees(event, session=session) if person.id]
    added = 0
    for spec, invitee in zip(CLAIMS, attendees, strict=False):
        contact = await session.get(Contact, invitee.contact_id)
        if contact is None:
            continue
        await _add_claim(spec, event, invitee.id, contact, organizer, session=session)  # type: ignore[arg-type]
        added += 1
    return added


async def _add_claim(
    spec: DemoClaim,
    event: Event,
    invitee_id: int,
    contact: Contact,
    organizer: Organizer,
    *,
    session: AsyncSession,
) -> None:
    day: date = event.starts_at.date()
    submitted_at = event.ends_at + timedelta(days=1, hours=3)
    decided_at = submitted_at + timedelta(days=2)
    status = spec.status
    rate = event.travel_mileage_rate_cents
    amounts = [
        mileage_cents(item.km_tenths, rate) if item.km_tenths is not None else item.cents
        for item in spec.items
    ]
    requested = sum(amounts)
    decided = status in (
        ClaimStatus.approved,
        ClaimStatus.partly_approved,
        ClaimStatus.rejected,
        ClaimStatus.paid,
    )
    approved_items = [
        (0 if status == ClaimStatus.rejected else (item.approved or cents))
        for item, cents in zip(spec.items, amounts, strict=True)
    ]
    approved = sum(approved_items) if decided else None
    cap = event.travel_cap_cents
    claim = Claim(
        event_id=event.id,  # type: ignore[arg-type]
        invitee_id=invitee_id,
        status=status,
        currency=event.travel_currency,
        payee_name=contact.name[:70],
        iban=spec.iban,
        bic=spec.bic,
        requested_cents=requested,
        approved_cents=approved,
        over_cap=cap is not None and requested > cap,
        created_at=submitted_at - timedelta(hours=1),
        updated_at=decided_at if decided else submitted_at,
        submitted_at=None if status == ClaimStatus.draft else submitted_at,
        seen_at=decided_at if decided or status == ClaimStatus.needs_changes else None,
        decided_at=decided_at if decided else None,
        paid_on=(decided_at + timedelta(days=3)).date() if status == ClaimStatus.paid else None,
        paid_at=decided_at + timedelta(days=3) if status == ClaimStatus.paid else None,
    )
    session.add(claim)
    await session.flush()
    for position, (item, cents, approved_cents) in enumerate(
        zip(spec.items, amounts, approved_items, strict=True), start=1
    ):
        row = ClaimItem(
            claim_id=claim.id,  # type: ignore[arg-type]
            category=item.category,
            spent_on=day,
            description=item.description,
            distance_tenths_km=item.km_tenths,
            mileage_rate_cents=rate if item.km_tenths is not None else None,
            amount_cents=cents,
            approved_cents=approved_cents if decided else None,
        )
        session.add(row)
        await session.flush()
        if item.receipt:
            data = (
                samples.receipt_pdf([item.description, f"{cents / 100:.2f} EUR".replace(".", ",")])
                if item.receipt == "pdf"
                else samples.receipt_png()
            )
            await receipts.store_receipt(
                session=session,
                claim_id=claim.id,  # type: ignore[arg-type]
                item_id=row.id,  # type: ignore[arg-type]
                item_position=position,
                data=data,
                filename=f"beleg-{position}.{item.receipt}",
            )
    _history(claim, spec, contact, organizer, submitted_at, decided_at, session=session)


def _history(
    claim: Claim,
    spec: DemoClaim,
    contact: Contact,
    organizer: Organizer,
    submitted_at: datetime,
    decided_at: datetime,
    *,
    session: AsyncSession,
) -> None:
    status = spec.status
    if status == ClaimStatus.draft:
        return

    def step(action: DecisionAction, at: datetime, **fields: object) -> None:
        session.add(
            ClaimDecision(
                claim_id=claim.id,  # type: ignore[arg-type]
                action=action,
                at=at,
                requested_cents=claim.requested_cents,
                **fields,  # type: ignore[arg-type]
            )
        )

    step(DecisionAction.submitted, submitted_at, by_invitee=True, actor_name=contact.name)
    if status == ClaimStatus.submitted:
        return
    by = {"organizer_id": organizer.id, "actor_name": organizer.name}
    if status == ClaimStatus.needs_changes:
        step(DecisionAction.needs_changes, decided_at, reason=spec.reason, **by)
        return
    if status == ClaimStatus.rejected:
        step(DecisionAction.rejected, decided_at, reason=spec.reason, approved_cents=0, **by)
        return
    action = (
        DecisionAction.partly_approved
        if status == ClaimStatus.partly_approved
        else DecisionAction.approved
    )
    step(
        action,
        decided_at,
        reason=spec.reason,
        approved_cents=claim.approved_cents,
        cap_override=bool(spec.override_reason),
        override_reason=spec.override_reason,
        **by,
    )
    if status == ClaimStatus.paid:
        step(
            DecisionAction.paid,
            decided_at + timedelta(days=3),
            approved_cents=claim.approved_cents,
            paid_on=claim.paid_on,
            **by,
        )
