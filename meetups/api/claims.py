"""An event's travel-cost claims: the list and one claim with its items and history (reading
only; decisions are taken on the claim's page).

Reading a claim here does not count as an organizer looking at it: the guest can still change a
submitted claim until someone opens it in the browser. The bank account appears masked."""

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy import func
from sqlmodel import col, select

from meetups.api.auth import ApiViewer, AuthenticatedRoute
from meetups.api.errors import error_responses
from meetups.api.event_fields import in_zone
from meetups.api.pagination import Page, Paging, fetch_page
from meetups.api.schemas import (
    ClaimItemOut,
    ClaimOut,
    ClaimStep,
    ClaimSummary,
    GuestRef,
    ReceiptOut,
)
from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import MAX_ROW_ID
from meetups.deps import SessionDep, SettingsDep
from meetups.events.lookup import get_event_by_slug
from meetups.events.models import Event
from meetups.invitations.models import Invitee
from meetups.travel import review
from meetups.travel.banking import mask_iban
from meetups.travel.models import Claim, ClaimItem, ClaimStatus

router = APIRouter(route_class=AuthenticatedRoute, tags=["travel claims"])

ClaimId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="The claim's id.")]


class ClaimPage(Page[ClaimSummary]):
    pass


def _summary_fields(
    event: Event, claim: Claim, contact: Contact, items: int, settings: Settings
) -> dict[str, object]:
    zone = event.timezone
    return {
        "id": claim.id,
        "guest": GuestRef(id=claim.invitee_id, name=contact.name),
        "email": contact.email,
        "status": claim.status,
        "url": settings.absolute_url(f"/events/{event.slug}/travel/claims/{claim.id}"),
        "currency": claim.currency,
        "requested_cents": claim.requested_cents,
        "approved_cents": claim.approved_cents,
        "over_cap": claim.over_cap,
        "items": items,
        "submitted_at": in_zone(claim.submitted_at, zone),
        "decided_at": in_zone(claim.decided_at, zone),
        "paid_on": claim.paid_on,
    }


@router.get(
    "/events/{slug}/claims",
    summary="List an event's travel claims",
    responses=error_responses(401, 404, 422),
)
async def list_claims(
    slug: str,
    session: SessionDep,
    settings: SettingsDep,
    organizer: ApiViewer,
    paging: Paging,
    status: Annotated[ClaimStatus | None, Query(description="Only claims in this state.")] = None,
) -> ClaimPage:
    """The claims waiting longest first (drafts, not submitted yet, last)."""
    event = await get_event_by_slug(slug, session=session)
    query = (
        select(Claim, Contact)
        .join(Invitee, col(Invitee.id) == Claim.invitee_id)
        .join(Contact, col(Contact.id) == Invitee.contact_id)
        .where(Claim.event_id == event.id)
        .order_by(col(Claim.submitted_at).is_(None), col(Claim.submitted_at), col(Claim.id))
    )
    if status is not None:
        query = query.where(Claim.status == status)
    rows, total = await fetch_page(query, session=session, paging=paging)
    item_counts: dict[int, int] = {}
    if rows:
        counting = (
            select(ClaimItem.claim_id, func.count())
            .where(col(ClaimItem.claim_id).in_([claim.id for claim, _contact in rows]))
            .group_by(col(ClaimItem.claim_id))
        )
        item_counts = dict((await session.exec(counting)).all())  # type: ignore[arg-type]
    return ClaimPage.of(
        [
            ClaimSummary(
                **_summary_fields(  # type: ignore[arg-type]
                    event,
                    claim,
                    contact,
                    item_counts.get(claim.id, 0),
                    settings,  # type: ignore[arg-type]
                )
            )
            for claim, contact in rows
        ],
        total=total,
        paging=paging,
    )


@router.get(
    "/events/{slug}/claims/{claim_id}",
    summary="Read one travel claim",
    responses=error_responses(401, 404),
)
async def read_claim(
    slug: str, claim_id: ClaimId, session: SessionDep, settings: SettingsDep, organizer: ApiViewer
) -> ClaimOut:
    """A claim with its items (and what their receipts are) and the history of every step."""
    event = await get_event_by_slug(slug, session=session)
    detail = await review.claim_detail(event, claim_id, session=session)
    claim, zone = detail.claim, event.timezone
    return ClaimOut(
        **_summary_fields(event, claim, detail.contact, len(detail.items), settings),  # type: ignore[arg-type]
        payee_name=claim.payee_name,
        iban_masked=mask_iban(claim.iban) if claim.iban else "",
        bic=claim.bic,
        claim_items=[
            ClaimItemOut(
                id=item.id,  # type: ignore[arg-type]
                category=item.category,
                spent_on=item.spent_on,
                description=item.description,
                distance_tenths_km=item.distance_tenths_km,
                mileage_rate_cents=item.mileage_rate_cents,
                amount_cents=item.amount_cents,
                approved_cents=item.approved_cents,
                receipt=(
                    ReceiptOut(
                        content_type=receipt.content_type,
                        size=receipt.size,
                        original_name=receipt.original_name,
                    )
                    if (receipt := detail.receipts.get(item.id)) is not None  # type: ignore[arg-type]
                    else None
                ),
            )
            for item in detail.items
        ],
        history=[
            ClaimStep(
                action=step.action,
                at=in_zone(step.at, zone),  # type: ignore[arg-type]
                by_guest=step.by_invitee,
                organizer_name=(
                    None
                    if step.by_invitee
                    else detail.actors.get(step.organizer_id or 0) or step.actor_name or None
                ),
                requested_cents=step.requested_cents,
                approved_cents=step.approved_cents,
                reason=step.reason,
                cap_override=step.cap_override,
                override_reason=step.override_reason,
                paid_on=step.paid_on,
            )
            for step in detail.history
        ],
    )
