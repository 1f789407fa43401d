"""An event's travel policy as people read it, and who may claim under it until when.

Who may claim: the guests who attended (meetups.checkin.desk.attended_invitees: those checked in
once check-in has been used for the event, before that everyone who accepted). Claims can be
prepared from acceptance on and are submitted once the event has begun, until the claim deadline
(by default 30 days after the end). A claim sent back for changes can be corrected after the
deadline too: the organizers asked for it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.checkin.desk import attended_invitees, check_in_used
from meetups.db import utcnow
from meetups.events.form import travel_category_labels
from meetups.events.models import Event, EventStatus, TravelCategory
from meetups.i18n import format_money
from meetups.i18n import gettext as _
from meetups.invitations.models import Invitee

DEFAULT_DEADLINE_AFTER_END = timedelta(days=30)


def claim_deadline(event: Event) -> datetime:
    return event.travel_claim_deadline or event.ends_at + DEFAULT_DEADLINE_AFTER_END


def deadline_text(event: Event) -> str:
    """The claim deadline in the event's zone, as people write it."""
    # Imported here: the invitation e-mails (meetups.invitations.messages) use this module.
    from meetups.invitations.messages import moment_text

    return moment_text(claim_deadline(event), event.timezone)


def categories_text(event: Event) -> str:
    labels = travel_category_labels()
    names = [labels[category] for category in event.travel_category_list]
    if TravelCategory.car in event.travel_category_list:
        rate = format_money(event.travel_mileage_rate_cents, event.travel_currency)
        names[event.travel_category_list.index(TravelCategory.car)] = _(
            "Car at %(rate)s per km", rate=rate
        )
    return ", ".join(names)


def policy_text(event: Event) -> str:
    """The policy in plain words for the invitation and the invitee's page; "" when it is off."""
    if not event.travel_enabled:
        return ""
    kinds = categories_text(event)
    deadline = deadline_text(event)
    if event.travel_cap_cents is not None:
        return _(
            "We reimburse your travel costs up to %(cap)s per person (%(kinds)s). After the event "
            "you can claim them on your invitation page, with the receipts, until %(deadline)s.",
            cap=format_money(event.travel_cap_cents, event.travel_currency),
            kinds=kinds,
            deadline=deadline,
        )
    return _(
        "We reimburse your travel costs (%(kinds)s). After the event you can claim them on your "
        "invitation page, with the receipts, until %(deadline)s.",
        kinds=kinds,
        deadline=deadline,
    )


class Refusal(StrEnum):
    """Why an invitee cannot file or change a claim."""

    off = "off"
    cancelled = "cancelled"
    archived = "archived"
    not_attending = "not_attending"
    not_checked_in = "not_checked_in"
    deadline = "deadline"


def refusal_message(reason: Refusal, event: Event) -> str:
    if reason == Refusal.off:
        return _("This event does not reimburse travel costs.")
    if reason == Refusal.cancelled:
        return _(
            "This event was cancelled, so no travel costs can be claimed here. If you had "
            "costs anyway, please write to the organizers."
        )
    if reason == Refusal.archived:
        return _(
            "Travel claims for this event are closed. If you have a question about your costs, "
            "please write to the organizers."
        )
    if reason == Refusal.not_attending:
        return _("Travel costs can be claimed by guests who accepted the invitation and came.")
    if reason == Refusal.not_checked_in:
        return _(
            "Travel costs can be claimed by guests who came to the event, and we have no record "
            "of your arrival. If you were there, please write to the organizers."
        )
    return _(
        "The deadline for travel claims was %(deadline)s, so claims can no longer be filed or "
        "changed. If you have a question about your costs, please write to the organizers.",
        deadline=deadline_text(event),
    )


@dataclass(frozen=True)
class Eligibility:
    refusal: Refusal | None
    # Claims are submitted once the event has begun (before, they can be prepared).
    can_submit_yet: bool
    deadline_passed: bool

    @property
    def allowed(self) -> bool:
        return self.refusal is None


async def may_claim(event: Event, invitee: Invitee, *, session: AsyncSession) -> bool:
    """Whether the invitee counts as an attendee (ignoring dates)."""
    attendees = await attended_invitees(event, session=session)
    return any(person.id == invitee.id for person in attendees)


async def eligibility(
    event: Event, invitee: Invitee, *, session: AsyncSession, now: datetime | None = None
) -> Eligibility:
    now = now or utcnow()
    deadline_passed = claim_deadline(event) <= now
    started = event.starts_at <= now

    def result(refusal: Refusal | None) -> Eligibility:
        return Eligibility(refusal, can_submit_yet=started, deadline_passed=deadline_passed)

    if not event.travel_enabled:
        return result(Refusal.off)
    if event.status == EventStatus.cancelled:
        return result(Refusal.cancelled)
    if event.archived_at is not None:
        return result(Refusal.archived)
    if not await may_claim(event, invitee, session=session):
        used = await check_in_used(event, session=session)
        return result(Refusal.not_checked_in if used else Refusal.not_attending)
    if deadline_passed:
        return result(Refusal.deadline)
    return result(None)
