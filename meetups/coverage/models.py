from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from meetups.db import UTCDateTime, str_enum, utcnow


class CoverageKind(StrEnum):
    blog_post = "blog_post"
    video = "video"
    social_post = "social_post"
    podcast = "podcast"
    article = "article"
    other = "other"


class CoverageLink(SQLModel, table=True):
    """A link to something published about an event. Title and site are typed in by whoever adds
    it: the app fetches nothing from other sites."""

    __tablename__ = "coverage_link"
    __table_args__ = (UniqueConstraint("event_id", "url", name="uq_coverage_event_url"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    url: str = Field(max_length=2000)
    title: str = Field(max_length=300)
    site: str = Field(default="", max_length=200)
    kind: CoverageKind = Field(sa_type=str_enum(CoverageKind))
    published_on: date | None = None
    # Whether the post says that the travel was paid (German law asks for that); None: not checked.
    discloses_paid_travel: bool | None = None
    # Whose post it is: the attendee who added it behind their link, or a name an organizer typed.
    invitee_id: int | None = Field(
        default=None, foreign_key="invitee.id", index=True, ondelete="SET NULL"
    )
    author_name: str = Field(default="", max_length=200)
    added_by_id: int | None = Field(default=None, foreign_key="organizer.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
