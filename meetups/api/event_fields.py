"""Events between the API's JSON and the event form: a body is turned into the strings the form
would send and checked by the very parser the browser's form uses (meetups.events.form), so the
API knows no rule of its own and forgets none."""

from collections.abc import Mapping
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from meetups.errors import ValidationFailed
from meetups.events.form import (
    EARLIEST_YEAR,
    FORM_DATETIME_FORMAT,
    LATEST_YEAR,
    EventFields,
    category_field,
    known_timezones,
    parse_event_form,
)
from meetups.events.models import Event, TravelCategory
from meetups.i18n import gettext as _

# The form's names of fields the API names after their unit.
API_NAMES = {
    "travel_cap": "travel_cap_cents",
    "travel_mileage_rate": "travel_mileage_rate_cents",
}
TIME_FIELDS = (
    "starts_at",
    "ends_at",
    "rsvp_deadline",
    "travel_claim_deadline",
    "feedback_closes_at",
)
# Fields an update may set to null: "no limit", "no deadline", or back to the default.
CLEARABLE = frozenset(
    {"capacity", "rsvp_deadline", "travel_cap_cents", "travel_claim_deadline", "feedback_closes_at"}
)
NOT_FIELDS = frozenset({"notify_guests"})


def event_values(event: Event) -> dict[str, Any]:
    """An event as the API's fields (what an update starts from): the fields of the event form,
    which the API names alike."""
    values = {field.name: getattr(event, field.name) for field in fields(EventFields)}
    values["travel_categories"] = event.travel_category_list  # stored comma-separated
    return values


def _zone(name: object) -> ZoneInfo | None:
    if not isinstance(name, str) or name not in known_timezones():
        return None  # the form reports the zone; times are not read without one
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _wall_clock(moment: datetime) -> str:
    # Written out by hand: strftime does not pad years before 1000 on every platform.
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}"
    )


def form_time(moment: datetime | None, zone: ZoneInfo | None) -> str:
    """A moment as the form's local date and time in the event's zone. A time without an offset
    is taken as local time already; a year the form refuses anyway is passed on unconverted, so
    that its message (not an overflow) answers it."""
    if moment is None:
        return ""
    if moment.tzinfo is None or zone is None or not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        return _wall_clock(moment)
    return moment.astimezone(zone).strftime(FORM_DATETIME_FORMAT)


def form_amount(cents: int | None) -> str:
    if cents is None:
        return ""
    if cents < 0:
        return "-1"  # the form's own message for negative amounts
    return f"{cents // 100}.{cents % 100:02d}"


def form_data(values: Mapping[str, Any]) -> dict[str, str]:
    """The strings the event form would send for these API values."""
    zone = _zone(values.get("timezone"))

    def text(name: str) -> str:
        value = values.get(name)
        return "" if value is None else str(value)

    def checkbox(name: str) -> str:
        return "on" if values.get(name) else ""

    data = {
        name: text(name)
        for name in (
            "title",
            "description",
            "venue",
            "address",
            "timezone",
            "language",
            "contact_name",
            "contact_email",
            "travel_currency",
        )
    }
    capacity = values.get("capacity")
    data["capacity"] = "" if capacity is None else str(capacity)
    data["travel_cap"] = form_amount(values.get("travel_cap_cents"))
    data["travel_mileage_rate"] = form_amount(values.get("travel_mileage_rate_cents"))
    for name in TIME_FIELDS:
        data[name] = form_time(values.get(name), zone)
    for name in ("plus_ones_allowed", "travel_enabled", "feedback_enabled", "feedback_anonymous"):
        data[name] = checkbox(name)
    chosen = {TravelCategory(c) for c in values.get("travel_categories") or ()}
    for category in TravelCategory:
        data[category_field(category)] = "on" if category in chosen else ""
    return data


def parse(
    values: Mapping[str, Any],
    *,
    default_timezone: str,
    contact_name: str,
    contact_email: str,
) -> EventFields:
    """Checks the values with the event form's parser; its messages come back under the API's
    field names."""
    try:
        return parse_event_form(
            form_data(values),
            default_timezone=default_timezone,
            default_contact_name=contact_name,
            default_contact_email=contact_email,
        )
    except ValidationFailed as error:
        raise ValidationFailed(
            {API_NAMES.get(name, name): message for name, message in error.errors.items()}
        ) from None


def updated_values(event: Event, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The event's values with the changes sent (only the fields that were sent)."""
    refused = {
        name: _("This field cannot be null.")
        for name, value in changes.items()
        if value is None and name not in CLEARABLE and name not in NOT_FIELDS
    }
    if refused:
        raise ValidationFailed(refused)
    values = event_values(event)
    values.update({name: value for name, value in changes.items() if name not in NOT_FIELDS})
    return values


def in_zone(moment: datetime | None, zone: str) -> datetime | None:
    """A stored UTC moment with the offset of the event's zone, for showing."""
    if moment is None:
        return None
    try:
        return moment.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return moment.astimezone(UTC)
