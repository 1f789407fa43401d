from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, UniqueConstraint
from sqlmodel import Field, SQLModel

from meetups.db import UTCDateTime, utcnow


class InviteeStatus(StrEnum):
    """Where a guest stands; the invitations issue adds the sending and answering."""

    not_invited = "not_invited"
    invited = "invited"
    accepted = "accepted"
    declined = "declined"
    maybe = "maybe"
    waitlisted = "waitlisted"


class Invitee(SQLModel, table=True):
    """A contact on an event's guest list."""

    __table_args__ = (UniqueConstraint("event_id", "contact_id", name="uq_invitee_event_contact"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contact.id", index=True, ondelete="CASCADE")
    status: InviteeStatus = Field(default=InviteeStatus.not_invited, sa_type=String(20), index=True)
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    responded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
