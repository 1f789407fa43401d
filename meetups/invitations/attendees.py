"""The attendee list for catering and the door: who comes, whom they bring, what they need.

As a printable page and as CSV. The CSV is UTF-8 with a byte order mark (so that Excel reads the
umlauts), and any cell that a spreadsheet would take for a formula gets a leading apostrophe.
"""

import csv
import io
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.contacts.models import Contact
from meetups.events.models import Event
from meetups.i18n import gettext as _
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.validation import FORMULA_PREFIXES


@dataclass(frozen=True)
class Attendee:
    invitee: Invitee
    contact: Contact

    @property
    def name(self) -> str:
        return self.contact.name

    @property
    def plus_one(self) -> str:
        """The name of whom they bring ("" for nobody). A plus-one without a name still counts."""
        if self.invitee.seats > 1:
            return self.invitee.plus_one_name or _("(no name given)")
        return ""

    @property
    def people(self) -> int:
        return max(self.invitee.seats, 1)


@dataclass(frozen=True)
class AttendeeList:
    attendees: list[Attendee]

    @property
    def people(self) -> int:
        """Everyone expected, plus-ones included."""
        return sum(attendee.people for attendee in self.attendees)

    @property
    def plus_ones(self) -> int:
        return self.people - len(self.attendees)

    @property
    def with_dietary_needs(self) -> int:
        return sum(1 for attendee in self.attendees if attendee.invitee.dietary_needs.strip())

    @property
    def with_accessibility_needs(self) -> int:
        return sum(1 for attendee in self.attendees if attendee.invitee.accessibility_needs.strip())

    @property
    def needing_hotel(self) -> int:
        return sum(1 for attendee in self.attendees if attendee.invitee.needs_hotel)


async def attendee_list(event: Event, *, session: AsyncSession) -> AttendeeList:
    """Everyone who accepted, by name."""
    query = (
        select(Invitee, Contact)
        .join(Contact, col(Contact.id) == Invitee.contact_id)
        .where(Invitee.event_id == event.id, Invitee.status == InviteeStatus.accepted)
        .order_by(col(Contact.search_key), col(Invitee.id))
    )
    rows = (await session.exec(query)).all()
    return AttendeeList([Attendee(invitee, contact) for invitee, contact in rows])


def neutralize(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula (OWASP CSV injection)."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def _one_line(value: str) -> str:
    return " ".join(value.split())


def attendee_csv(attendees: AttendeeList) -> bytes:
    """The list as CSV, one row per attendee, in the organizer's language."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(
        [
            _("Name"),
            _("E-mail address"),
            _("Plus-one"),
            _("People"),
            _("Dietary needs"),
            _("Accessibility needs"),
            _("Travelling from"),
            _("Needs a hotel"),
            _("Comment"),
        ]
    )
    for attendee in attendees.attendees:
        invitee = attendee.invitee
        cells = [
            attendee.name,
            attendee.contact.email,
            attendee.plus_one,
            str(attendee.people),
            _one_line(invitee.dietary_needs),
            _one_line(invitee.accessibility_needs),
            _one_line(invitee.travelling_from),
            _("yes") if invitee.needs_hotel else _("no"),
            _one_line(invitee.comment),
        ]
        writer.writerow([neutralize(cell) for cell in cells])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def csv_filename(event: Event) -> str:
    return f"attendees-{event.slug}.csv"
