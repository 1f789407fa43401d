"""What an organizer should do next with an event, shown on its overview."""

from dataclasses import dataclass
from datetime import datetime

from meetups.db import utcnow
from meetups.events.listing import GuestCounts
from meetups.events.models import Event
from meetups.i18n import gettext as _
from meetups.i18n import ngettext


@dataclass(frozen=True)
class NextStep:
    """One hint. `key` lets the page add a button where a link is not enough (publishing posts)."""

    key: str
    message: str
    link: str | None = None
    link_label: str | None = None
    editors_only: bool = False


def next_steps(event: Event, counts: GuestCounts, *, now: datetime | None = None) -> list[NextStep]:
    now = now or utcnow()
    base = f"/events/{event.slug}"
    guests = f"{base}/guests"
    if event.is_archived:
        return [
            NextStep(
                "archived", _("This event is archived. Take it out of the archive to change it.")
            )
        ]
    if event.is_cancelled:
        return [
            NextStep(
                "cancelled", _("This event is cancelled. Archive it when you no longer need it.")
            )
        ]

    steps: list[NextStep] = []
    ended = event.has_ended(now)
    if event.is_draft and ended:
        steps.append(
            NextStep(
                "draft_over",
                _("This draft lies in the past. Change its dates, or archive it."),
                f"{base}/edit",
                _("Edit"),
                editors_only=True,
            )
        )
    elif event.is_draft:
        steps.append(
            NextStep(
                "publish",
                _(
                    "This event is a draft: nobody can be invited yet. "
                    "Publish it when the details are right."
                ),
                editors_only=True,
            )
        )
    if not event.description.strip() and not ended:
        steps.append(
            NextStep(
                "describe",
                _("Add a description: guests read it in their invitation."),
                f"{base}/edit",
                _("Edit"),
                editors_only=True,
            )
        )
    if ended:
        if not event.is_draft:
            steps.append(
                NextStep(
                    "over",
                    _("The event is over. Archive it once travel claims and feedback are done."),
                )
            )
        return steps
    if counts.on_list == 0:
        steps.append(
            NextStep(
                "add_guests",
                _(
                    "Nobody is on the guest list yet. "
                    "Add people from the address book or import a CSV file."
                ),
                guests,
                _("Add guests"),
                editors_only=True,
            )
        )
    elif counts.not_invited and not event.is_draft:
        steps.append(
            NextStep(
                "invite",
                ngettext(
                    "%(num)s person on the guest list is not invited yet.",
                    "%(num)s people on the guest list are not invited yet.",
                    counts.not_invited,
                ),
                guests,
                _("Go to the guest list"),
            )
        )
    if event.capacity is not None and counts.accepted >= event.capacity:
        steps.append(
            NextStep(
                "full",
                _("The event is full: further acceptances go to the waitlist."),
                guests,
                _("See the guest list"),
            )
        )
    return steps
