from datetime import datetime

from sqlmodel import Field, SQLModel

from meetups.db import UTCDateTime, utcnow


class CheckIn(SQLModel, table=True):
    """A guest who arrived. One row per invitee at most: the unique key makes a second check-in
    (two phones at the door tapping at the same moment) fail instead of counting twice."""

    __tablename__ = "check_in"

    id: int | None = Field(default=None, primary_key=True)
    invitee_id: int = Field(foreign_key="invitee.id", unique=True, ondelete="CASCADE")
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    checked_in_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    checked_in_by_id: int | None = Field(
        default=None, foreign_key="organizer.id", ondelete="SET NULL"
    )
    # Whether the guest's plus-one came along (only meaningful when they have one).
    plus_one_arrived: bool = False
    # Added at the door rather than invited beforehand.
    walk_in: bool = False
