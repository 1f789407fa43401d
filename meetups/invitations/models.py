from datetime import datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from meetups.db import UTCDateTime, str_enum, utcnow


class InviteeStatus(StrEnum):
    """Where a guest stands: on the list, invited, and then their answer."""

    not_invited = "not_invited"
    invited = "invited"
    accepted = "accepted"
    declined = "declined"
    maybe = "maybe"
    waitlisted = "waitlisted"


class Invitee(SQLModel, table=True):
    """A contact on an event's guest list, with their invitation and their answer."""

    __table_args__ = (UniqueConstraint("event_id", "contact_id", name="uq_invitee_event_contact"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contact.id", index=True, ondelete="CASCADE")
    status: InviteeStatus = Field(
        default=InviteeStatus.not_invited, sa_type=str_enum(InviteeStatus), index=True
    )
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    # The personal link is derived from `link_nonce` with the app secret (invitations.links);
    # the database holds only the nonce and a hash to find the invitee by, so it cannot forge or
    # reveal a link. A new nonce revokes the old link.
    link_nonce: str | None = Field(default=None, max_length=64)
    link_lookup: str | None = Field(default=None, max_length=64, unique=True, index=True)
    invited_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    plus_one_name: str = Field(default="", max_length=200)
    dietary_needs: str = Field(default="", max_length=1000)
    accessibility_needs: str = Field(default="", max_length=1000)
    travelling_from: str = Field(default="", max_length=200)
    needs_hotel: bool = False
    comment: str = Field(default="", max_length=2000)
    # Places held while accepted (1, or 2 with a plus-one); summed into Event.seats_taken.
    seats: int = Field(default=0, ge=0)
    waitlisted_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    # Set when their answers, claim details and link were erased (their request, or the
    # retention purge); the row stays so that the event's numbers stay right.
    erased_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SentReminder(SQLModel, table=True):
    """One reminder of one kind to one invitee: the unique key makes 'never twice' hold even
    when two workers look at the same moment."""

    __tablename__ = "sent_reminder"
    __table_args__ = (UniqueConstraint("invitee_id", "kind", name="uq_sent_reminder_invitee_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    invitee_id: int = Field(foreign_key="invitee.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=40)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Suppression(SQLModel, table=True):
    """An address that asked not to get invitations or reminders any more (e.g. unsubscribed)."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    reason: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
