"""The e-mails about a travel claim: one at every change of its status, with the amounts, in the
invitee's language, queued in the caller's transaction (meetups.mail.outbox)."""

from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from meetups import i18n
from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.events.form import travel_category_labels
from meetups.events.models import Event
from meetups.i18n import format_date, format_money
from meetups.invitations.links import personal_url
from meetups.invitations.messages import RenderedEmail, render_email
from meetups.invitations.models import Invitee
from meetups.mail.models import OutboxMessage
from meetups.mail.outbox import queue_email
from meetups.travel.banking import mask_iban
from meetups.travel.models import Claim, ClaimItem, ClaimStatus
from meetups.travel.money import format_distance

# The outbox `kind` of each status e-mail (the Emails tab shows them with the event's e-mails).
KINDS = {
    ClaimStatus.submitted: "travel_submitted",
    ClaimStatus.needs_changes: "travel_needs_changes",
    ClaimStatus.approved: "travel_approved",
    ClaimStatus.partly_approved: "travel_partly_approved",
    ClaimStatus.rejected: "travel_rejected",
    ClaimStatus.paid: "travel_paid",
}


def kind_label(kind: str) -> str | None:
    """How organizers read the kind of a travel e-mail; None for other kinds."""
    labels = {
        KINDS[ClaimStatus.submitted]: i18n.gettext("Travel claim received"),
        KINDS[ClaimStatus.needs_changes]: i18n.gettext("Travel claim: changes needed"),
        KINDS[ClaimStatus.approved]: i18n.gettext("Travel claim approved"),
        KINDS[ClaimStatus.partly_approved]: i18n.gettext("Travel claim partly approved"),
        KINDS[ClaimStatus.rejected]: i18n.gettext("Travel claim rejected"),
        KINDS[ClaimStatus.paid]: i18n.gettext("Travel costs paid"),
    }
    return labels.get(kind)


def claim_url(invitee: Invitee, settings: Settings) -> str:
    url = personal_url(invitee, settings)
    if url is None:
        raise ValueError("this invitee has no personal link: claims are filed behind it")
    return f"{url}/travel"


def _item_rows(claim: Claim, items: Sequence[ClaimItem], event: Event) -> list[dict[str, Any]]:
    labels = travel_category_labels()
    rows = []
    for item in items:
        label = labels[item.category]
        if item.distance_tenths_km is not None:
            label = f"{label}, {format_distance(item.distance_tenths_km)} km"
        approved = item.approved_cents if item.approved_cents is not None else item.amount_cents
        rows.append(
            {
                "label": label,
                "date": format_date(item.spent_on),
                "description": item.description,
                "requested": format_money(item.amount_cents, claim.currency),
                "approved": format_money(approved, claim.currency),
                "reduced": approved != item.amount_cents,
            }
        )
    return rows


def render_claim_email(
    claim: Claim,
    items: Sequence[ClaimItem],
    *,
    event: Event,
    contact: Contact,
    link: str,
    reason: str = "",
    resubmitted: bool = False,
) -> RenderedEmail:
    """The e-mail for the claim's current status, in the contact's language."""
    status = ClaimStatus(claim.status)
    if status not in KINDS:
        raise ValueError(f"no e-mail for a claim that is {status.value}")
    with i18n.use_locale(contact.language):
        context = {
            "name": contact.name,
            "event": event,
            "organizer_name": event.contact_name.strip(),
            "link": link,
            "items": _item_rows(claim, items, event),
            "requested_total": format_money(claim.requested_cents, claim.currency),
            "approved_total": format_money(claim.approved_cents or 0, claim.currency),
            "over_cap": claim.over_cap,
            "cap": format_money(event.travel_cap_cents, claim.currency),
            "iban": mask_iban(claim.iban),
            "payee": claim.payee_name,
            "reason": reason.strip(),
            "resubmitted": resubmitted,
            "paid_on": format_date(claim.paid_on, style="long") if claim.paid_on else "",
        }
        return render_email(f"travel/claim_{status.value}", contact.language, context)


def queue_claim_email(
    claim: Claim,
    items: Sequence[ClaimItem],
    *,
    invitee: Invitee,
    contact: Contact,
    event: Event,
    session: AsyncSession,
    settings: Settings,
    reason: str = "",
    resubmitted: bool = False,
) -> OutboxMessage | None:
    """Queues the e-mail for the claim's new status; None for a contact whose data was erased
    (or whose guest-list entry was, by the retention purge: it has no personal link any more)."""
    if getattr(contact, "is_anonymized", False) or not contact.email or invitee.erased_at:
        return None
    rendered = render_claim_email(
        claim,
        items,
        event=event,
        contact=contact,
        link=claim_url(invitee, settings),
        reason=reason,
        resubmitted=resubmitted,
    )
    return queue_email(
        session=session,
        settings=settings,
        to=contact.email,
        to_name=contact.name,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        kind=KINDS[ClaimStatus(claim.status)],
        reply_to=event.contact_email.strip() or None,
        reply_to_name=event.contact_name,
        event_id=event.id,
        invitee_id=invitee.id,
    )
