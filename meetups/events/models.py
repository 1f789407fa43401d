from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from meetups.db import UTCDateTime, str_enum, utcnow


class EventStatus(StrEnum):
    draft = "draft"
    published = "published"
    cancelled = "cancelled"


class TravelCategory(StrEnum):
    train = "train"
    flight = "flight"
    car = "car"
    public_transport = "public_transport"
    hotel = "hotel"
    other = "other"


ALL_TRAVEL_CATEGORIES = ",".join(TravelCategory)


class Event(SQLModel, table=True):
    """A meetup. Times are stored in UTC and shown in `timezone`; money is in integer cents."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=20_000)
    venue: str = Field(default="", max_length=200)
    address: str = Field(default="", max_length=500)
    timezone: str = Field(default="Europe/Berlin", max_length=64)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    capacity: int | None = Field(default=None, ge=1)
    plus_ones_allowed: bool = False
    rsvp_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    language: str = Field(default="de", max_length=5)
    status: EventStatus = Field(
        default=EventStatus.draft, sa_type=str_enum(EventStatus), index=True
    )
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Accepted guests plus their plus-ones; raised only by a conditional UPDATE that checks the
    # capacity in the same statement (meetups.invitations), so it can never go past it.
    seats_taken: int = Field(default=0, ge=0)
    reminder_days_before_deadline: int = Field(default=3, ge=0)
    invitation_intro: str = Field(default="", max_length=5000)
    # The calendar entry's SEQUENCE (RFC 5545): 0 at first, raised by every change of time or
    # place of a published event and by its cancellation, so calendars replace their copy.
    sequence: int = Field(default=0, ge=0)
    contact_name: str = Field(default="", max_length=200)
    contact_email: str = Field(default="", max_length=254)

    travel_enabled: bool = False
    travel_currency: str = Field(default="EUR", max_length=3)
    travel_cap_cents: int | None = Field(default=None, ge=0)
    travel_mileage_rate_cents: int = Field(default=30, ge=0)
    travel_categories: str = Field(default=ALL_TRAVEL_CATEGORIES, max_length=200)
    travel_claim_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)

    feedback_enabled: bool = True
    feedback_anonymous: bool = False
    feedback_closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    created_by_id: int | None = Field(default=None, foreign_key="organizer.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When the retention purge erased its guests' personal data (privacy.retention).
    personal_data_purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def is_draft(self) -> bool:
        return self.status == EventStatus.draft

    @property
    def is_cancelled(self) -> bool:
        return self.status == EventStatus.cancelled

    # What may happen to an event next. Templates of every tab ask these (with the clock of the
    # moment); the domain functions in meetups.events.manage enforce the same rules.
    def has_ended(self, now: datetime | None = None) -> bool:
        return self.ends_at <= (now or utcnow())

    def can_edit(self) -> bool:
        return not self.is_archived

    def can_publish(self, now: datetime | None = None) -> bool:
        return self.is_draft and not self.is_archived and not self.has_ended(now)

    def can_cancel(self, now: datetime | None = None) -> bool:
        published = self.status == EventStatus.published
        return published and not self.is_archived and not self.has_ended(now)

    def can_archive(self, now: datetime | None = None) -> bool:
        """Drafts, cancelled and past events; an upcoming published event is cancelled first."""
        return not self.is_archived and not self.can_cancel(now)

    def can_unarchive(self) -> bool:
        return self.is_archived

    @property
    def travel_category_list(self) -> list[TravelCategory]:
        return [TravelCategory(c) for c in self.travel_categories.split(",") if c]
