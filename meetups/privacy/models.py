from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from meetups.db import UTCDateTime, str_enum, utcnow


class PrivacyAction(StrEnum):
    exported = "exported"  # someone downloaded the data held about a person
    erased = "erased"  # a person's data was anonymized at their request or an organizer's
    purged = "purged"  # the retention purge anonymized an old event's guests


class PrivacyActor(StrEnum):
    invitee = "invitee"  # the person themselves, behind their personal link
    organizer = "organizer"
    retention = "retention"  # the scheduled purge or `meetups purge`


class PrivacyRecord(SQLModel, table=True):
    """Who exported or deleted what. It names people only by number, so that it may outlive the
    data it speaks of."""

    __tablename__ = "privacy_record"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    action: PrivacyAction = Field(sa_type=str_enum(PrivacyAction))
    actor: PrivacyActor = Field(sa_type=str_enum(PrivacyActor))
    organizer_id: int | None = Field(default=None, foreign_key="organizer.id", ondelete="SET NULL")
    event_id: int | None = Field(
        default=None, foreign_key="event.id", index=True, ondelete="SET NULL"
    )
    contact_id: int | None = Field(default=None, index=True)
    invitee_id: int | None = Field(default=None)
    # What was affected, in words without personal data: "guest #12 of event #3", counts, ...
    summary: str = Field(default="", max_length=1000)
