from datetime import datetime

from sqlmodel import Field, SQLModel

from meetups.db import UTCDateTime, utcnow


class CalendarFeed(SQLModel, table=True):
    """An organizer's secret subscription address for the calendar of all published events.

    Like the invitees' links, the address is derived from `nonce` with the app secret; the table
    holds only the nonce and a SHA-256 of the token to find the feed by. Deleting the row (or a
    new nonce) revokes the address at once."""

    __tablename__ = "calendar_feed"

    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id", unique=True, ondelete="CASCADE")
    nonce: str = Field(max_length=64)
    lookup: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_fetched_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
