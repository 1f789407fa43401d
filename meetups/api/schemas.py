"""What the API takes and gives, as documented in its OpenAPI schema.

Times go out as ISO 8601 with the offset of the event's time zone; money is integer cents with
the currency beside it. Guests' personal links are never part of any answer: whoever holds a link
can answer, claim costs and give feedback in the guest's name, so it goes only to the guest.
"""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from meetups.accounts.models import Role
from meetups.db import MAX_ROW_ID
from meetups.events.models import EventStatus, TravelCategory
from meetups.feedback.models import QuestionKind
from meetups.invitations.models import InviteeStatus
from meetups.travel.models import ClaimStatus, DecisionAction

Language = Literal["de", "en"]
Id = int  # documented as a number; ranges are checked where ids come in


class Input(BaseModel):
    """A request body: unknown fields are refused, so a typo does not pass silently."""

    model_config = ConfigDict(extra="forbid")


# --- Who is calling -------------------------------------------------------------------------


class TokenInfo(BaseModel):
    name: str
    prefix: str = Field(description="The first characters of the token, to tell it apart.")
    created_at: datetime
    last_used_at: datetime | None


class Me(BaseModel):
    id: Id
    name: str
    email: str
    role: Role = Field(description="viewer: reads only; organizer and admin: read and write.")
    token: TokenInfo


# --- Events ---------------------------------------------------------------------------------


class GuestCountsOut(BaseModel):
    on_list: int
    not_invited: int
    invited: int = Field(description="Everyone who got an invitation, whatever they answered.")
    accepted: int
    declined: int
    maybe: int
    waitlisted: int
    free_places: int | None = Field(description="null when the event has no capacity limit.")


class EventOut(BaseModel):
    id: Id
    slug: str = Field(description="The event's address: /api/v1/events/{slug}.")
    url: str = Field(description="The event's page for organizers.")
    status: EventStatus
    archived_at: datetime | None
    title: str
    description: str = Field(description="Markdown.")
    venue: str
    address: str
    timezone: str = Field(description="IANA time zone, e.g. Europe/Berlin.")
    starts_at: datetime
    ends_at: datetime
    capacity: int | None
    plus_ones_allowed: bool
    rsvp_deadline: datetime | None
    language: str
    contact_name: str
    contact_email: str
    travel_enabled: bool
    travel_currency: str
    travel_cap_cents: int | None
    travel_mileage_rate_cents: int
    travel_categories: list[TravelCategory]
    travel_claim_deadline: datetime | None
    feedback_enabled: bool
    feedback_anonymous: bool
    feedback_closes_at: datetime | None
    created_at: datetime
    updated_at: datetime
    guests: GuestCountsOut


_TIME_HELP = (
    "ISO 8601. With an offset (Z, +02:00) it is that moment; without one it is read in the "
    "event's time zone. Minutes are the finest step: seconds are dropped."
)


class EventCreate(Input):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "title": "Bloggertreffen Köln",
                    "starts_at": "2031-05-14T14:00:00",
                    "ends_at": "2031-05-14T18:00:00",
                    "venue": "Firmenzentrale",
                    "address": "Am Bahnhof 1, 56410 Montabaur",
                    "capacity": 30,
                    "travel_enabled": True,
                    "travel_cap_cents": 15000,
                }
            ]
        },
    )

    title: str
    starts_at: datetime = Field(description=_TIME_HELP)
    ends_at: datetime = Field(description=_TIME_HELP)
    description: str = Field(default="", description="Markdown.")
    venue: str = ""
    address: str = ""
    timezone: str | None = Field(
        default=None, description="IANA time zone; the app's default time zone when left out."
    )
    capacity: int | None = Field(default=None, description="null: no limit.")
    plus_ones_allowed: bool = False
    rsvp_deadline: datetime | None = Field(default=None, description=_TIME_HELP)
    language: Language | None = Field(
        default=None, description="Of the invitations; the app's default language when left out."
    )
    contact_name: str = Field(default="", description="Empty: yours.")
    contact_email: str = Field(default="", description="Empty: yours.")
    travel_enabled: bool = False
    travel_currency: str = "EUR"
    travel_cap_cents: int | None = Field(default=None, description="Per person; null: no cap.")
    travel_mileage_rate_cents: int = Field(default=30, description="Per km by car.")
    travel_categories: list[TravelCategory] = Field(default_factory=lambda: list(TravelCategory))
    travel_claim_deadline: datetime | None = Field(
        default=None, description="null: 30 days after the end. " + _TIME_HELP
    )
    feedback_enabled: bool = True
    feedback_anonymous: bool = False
    feedback_closes_at: datetime | None = Field(
        default=None, description="null: 14 days after the end. " + _TIME_HELP
    )


class EventUpdate(Input):
    """Only the fields sent change. `null` clears capacity, rsvp_deadline and travel_cap_cents,
    and puts travel_claim_deadline and feedback_closes_at back to their defaults; it is refused
    for the other fields."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"capacity": 40, "venue": "Raum Westerwald", "notify_guests": False},
                {"rsvp_deadline": None, "plus_ones_allowed": True},
            ]
        },
    )

    title: str | None = None
    starts_at: datetime | None = Field(default=None, description=_TIME_HELP)
    ends_at: datetime | None = Field(default=None, description=_TIME_HELP)
    description: str | None = None
    venue: str | None = None
    address: str | None = None
    timezone: str | None = None
    capacity: int | None = None
    plus_ones_allowed: bool | None = None
    rsvp_deadline: datetime | None = Field(default=None, description=_TIME_HELP)
    language: Language | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    travel_enabled: bool | None = None
    travel_currency: str | None = None
    travel_cap_cents: int | None = None
    travel_mileage_rate_cents: int | None = None
    travel_categories: list[TravelCategory] | None = None
    travel_claim_deadline: datetime | None = Field(default=None, description=_TIME_HELP)
    feedback_enabled: bool | None = None
    feedback_anonymous: bool | None = None
    feedback_closes_at: datetime | None = Field(default=None, description=_TIME_HELP)
    notify_guests: bool = Field(
        default=True,
        description="When a published event changes its time or place: e-mail everyone who "
        "accepted or said maybe the new calendar entry. false: tell nobody (e.g. a typo).",
    )


class EventUpdated(BaseModel):
    event: EventOut
    guests_told: int = Field(description="How many guests are told about the change by e-mail.")


# --- Guests ---------------------------------------------------------------------------------


class GuestAnswers(BaseModel):
    plus_one_name: str
    dietary_needs: str
    accessibility_needs: str
    travelling_from: str
    needs_hotel: bool
    comment: str


class GuestOut(BaseModel):
    id: Id = Field(description="The guest's id on this event's guest list.")
    contact_id: Id
    name: str
    email: str
    language: str
    status: InviteeStatus
    url: str = Field(description="The guest's page for organizers.")
    added_at: datetime
    invited_at: datetime | None
    opened_at: datetime | None = Field(
        description="When the personal link was first opened (mail scanners open links too)."
    )
    responded_at: datetime | None
    seats: int = Field(description="Places held: 1, or 2 with a plus-one.")
    waitlist_position: int | None
    erased_at: datetime | None = Field(description="When the guest's personal data was erased.")
    answers: GuestAnswers


class GuestAdd(Input):
    """Either `contact_id` of someone in the address book, or a new person's `name` and
    `email` (someone already in the address book with that address is taken as they are)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Anna Müller", "email": "anna.mueller@example.com", "city": "Köln"},
                {"contact_id": 12},
            ]
        },
    )

    contact_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    name: str | None = None
    email: str | None = None
    language: Language | None = Field(default=None, description="The event's when left out.")
    blog_url: str | None = None
    city: str | None = None


class GuestRef(BaseModel):
    id: Id
    name: str


class GuestRemoved(BaseModel):
    guest: GuestRef
    places_freed: int
    promoted: list[GuestRef] = Field(
        description="Moved up from the waitlist into the freed places (told by e-mail)."
    )


# --- Invitations ----------------------------------------------------------------------------


class InvitationRequest(Input):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"guest_ids": [12, 13]}]}
    )

    guest_ids: list[Annotated[int, Field(ge=1, le=MAX_ROW_ID)]] | None = Field(
        default=None,
        min_length=1,
        max_length=5000,
        description="Invite only these guests (those not invited yet); left out: everyone on "
        "the guest list not invited yet.",
    )


class SuppressedGuest(BaseModel):
    guest: GuestRef
    reason: str


class InvitationReport(BaseModel):
    message: str
    invited: list[GuestRef] = Field(description="Their invitations are queued for sending.")
    suppressed: list[SuppressedGuest] = Field(
        description="Left out: they asked to get no invitations (e.g. unsubscribed)."
    )
    unusable: list[GuestRef] = Field(description="Left out: their address cannot be used.")
    already_invited: int = Field(description="Selected guests who had their invitation already.")


# --- Travel claims --------------------------------------------------------------------------


class ClaimSummary(BaseModel):
    id: Id
    guest: GuestRef
    email: str
    status: ClaimStatus
    url: str = Field(description="The claim's page for organizers.")
    currency: str
    requested_cents: int
    approved_cents: int | None
    over_cap: bool
    items: int
    submitted_at: datetime | None
    decided_at: datetime | None
    paid_on: date | None


class ReceiptOut(BaseModel):
    content_type: str
    size: int
    original_name: str


class ClaimItemOut(BaseModel):
    id: Id
    category: TravelCategory
    spent_on: date
    description: str
    distance_tenths_km: int | None = Field(description="For a drive by car.")
    mileage_rate_cents: int | None
    amount_cents: int
    approved_cents: int | None
    receipt: ReceiptOut | None


class ClaimStep(BaseModel):
    action: DecisionAction
    at: datetime
    by_guest: bool
    organizer_name: str | None
    requested_cents: int
    approved_cents: int | None
    reason: str
    cap_override: bool
    override_reason: str
    paid_on: date | None


class ClaimOut(ClaimSummary):
    payee_name: str
    iban_masked: str = Field(description="Enough to recognize the account, not to use it.")
    bic: str
    claim_items: list[ClaimItemOut]
    history: list[ClaimStep]


# --- Feedback -------------------------------------------------------------------------------


class ValueCount(BaseModel):
    value: int
    count: int
    share: float = Field(description="Of those who answered the question, 0 to 1.")


class OptionCount(BaseModel):
    id: Id
    label: str
    count: int
    share: float = Field(
        description="Of those who answered the question, 0 to 1 (for multiple choice the shares "
        "add up to more than 1)."
    )


class NpsOut(BaseModel):
    score: float | None = Field(description="-100 to 100; null without answers.")
    promoters: int
    passives: int
    detractors: int


class TextAnswerOut(BaseModel):
    text: str
    name: str | None = Field(description="Who wrote it; always null for anonymous feedback.")


class QuestionResultOut(BaseModel):
    id: Id
    position: int
    kind: QuestionKind
    label: str
    required: bool
    respondents: int
    average: float | None = Field(description="Ratings and NPS: the average; else null.")
    distribution: list[ValueCount] | None = Field(
        description="Ratings (1-5) and NPS (0-10): how many gave each value."
    )
    nps: NpsOut | None
    options: list[OptionCount] | None = Field(description="Single and multiple choice.")
    texts: list[TextAnswerOut] | None = Field(description="Text questions: the answers.")


class FeedbackResults(BaseModel):
    anonymous: bool
    responses: int
    asked: int = Field(description="Guests who were sent the feedback request.")
    answered: int = Field(description="Of those asked, how many answered.")
    response_rate: float | None = Field(description="answered / asked; null when nobody was asked.")
    reminded: int
    questions: list[QuestionResultOut]


AnswerValue = int | str | list[str] | None


class FeedbackResponseOut(BaseModel):
    number: int = Field(description="1, 2, ... in the order of the list.")
    guest_id: Id | None = Field(description="Always null for anonymous feedback.")
    name: str | None = Field(description="Always null for anonymous feedback.")
    email: str | None = Field(description="Always null for anonymous feedback.")
    submitted_at: datetime | None = Field(description="Always null for anonymous feedback.")
    updated_at: datetime | None = Field(description="Always null for anonymous feedback.")
    answers: dict[str, AnswerValue] = Field(
        description="By question id: a number (rating, NPS), the chosen option's label, the "
        "labels chosen (multiple choice), the text, or null when not answered."
    )
