"""The event form: parsing what an organizer typed (strings) into checked values, and back.

Times are typed as local date and time in the event's zone (HTML `datetime-local`) and stored
in UTC; money is typed as "150", "150,00" or "150.00" and stored as integer cents.
"""

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, available_timezones

from babel import numbers as babel_numbers

from meetups import i18n
from meetups.errors import ValidationFailed
from meetups.events.models import Event, TravelCategory
from meetups.i18n import gettext as _
from meetups.validation import clean_name, clean_text, normalize_email

MAX_TITLE_LENGTH = 200
MAX_DESCRIPTION_LENGTH = 20_000
MAX_VENUE_LENGTH = 200
MAX_ADDRESS_LENGTH = 500
MAX_CAPACITY = 100_000
MAX_TRAVEL_CAP_CENTS = 100_000_00
MAX_MILEAGE_RATE_CENTS = 10_00
MAX_EVENT_LENGTH = timedelta(days=31)
EARLIEST_YEAR, LATEST_YEAR = 2000, 2099
CLAIM_DEADLINE_AFTER_END = timedelta(days=30)
FEEDBACK_CLOSES_AFTER_END = timedelta(days=14)
DEFAULT_MILEAGE_RATE_CENTS = 30
DEFAULT_CURRENCY = "EUR"
EVENT_LANGUAGES = ("de", "en")

# Zones that exist in the database but are not places: never offered, never accepted.
_NOT_PLACES = frozenset({"Factory", "localtime"})

_LOCAL_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?", re.ASCII
)
_LOCAL_GERMAN = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4}),? (\d{1,2})[:.](\d{2})", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_AMOUNT = re.compile(r"[0-9.,]+", re.ASCII)
_GROUPED = re.compile(r"[0-9]{1,3}(?:[0-9]{3})*", re.ASCII)
# Spaces people put between thousands, and currency signs they type out of habit.
_IGNORED_IN_AMOUNTS = str.maketrans("", "", " \u00a0\u202f\u2009'€$£")
FORM_DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
T = TypeVar("T")


@cache
def known_timezones() -> frozenset[str]:
    return frozenset(available_timezones() - _NOT_PLACES)


@cache
def _offered_timezones() -> dict[str, tuple[str, ...]]:
    groups: dict[str, list[str]] = {}
    for zone in sorted(known_timezones()):
        region, slash, _city = zone.partition("/")
        if slash and region not in {"Etc", "SystemV", "US", "Brazil", "Canada", "Chile", "Mexico"}:
            groups.setdefault(region, []).append(zone)
    groups.setdefault("Etc", []).append("UTC")
    return {region: tuple(zones) for region, zones in groups.items()}


def timezone_choices(current: str | None = None) -> dict[str, tuple[str, ...]]:
    """Zones to offer, grouped by region (Africa, America, ...); `current` is always among them."""
    groups = _offered_timezones()
    if current and current in known_timezones() and not any(current in z for z in groups.values()):
        return {**groups, "Etc": (*groups["Etc"], current)}
    return groups


def travel_category_labels() -> dict[TravelCategory, str]:
    return {
        TravelCategory.train: _("Train"),
        TravelCategory.flight: _("Flight"),
        TravelCategory.car: _("Car (per km)"),
        TravelCategory.public_transport: _("Local public transport"),
        TravelCategory.hotel: _("Hotel"),
        TravelCategory.other: _("Other"),
    }


def language_labels() -> dict[str, str]:
    return {"de": _("German"), "en": _("English")}


def category_field(category: TravelCategory) -> str:
    """The checkbox of one travel category in the form."""
    return f"travel_category_{category.value}"


# --- Single values ----------------------------------------------------------------------------


def parse_local_datetime(text: str, zone: ZoneInfo) -> datetime:
    """A local date and time in `zone` (as `datetime-local` sends it, or German "14.05.2027 14:00"),
    returned as an aware UTC datetime. Raises ValueError with a message for the organizer."""
    value = unicodedata.normalize("NFKC", text).strip()
    if len(value) > 40:
        raise ValueError(_("Please enter a date and time, e.g. 2027-05-14 14:00."))
    if match := _LOCAL_ISO.fullmatch(value):
        year, month, day, hour, minute = (int(g) for g in match.groups()[:5])
    elif match := _LOCAL_GERMAN.fullmatch(value):
        day, month, year, hour, minute = (int(g) for g in match.groups())
    else:
        raise ValueError(_("Please enter a date and time, e.g. 2027-05-14 14:00."))
    try:
        naive = datetime(year, month, day, hour, minute)  # tagged with the zone below
    except ValueError:
        raise ValueError(_("This date or time does not exist.")) from None
    if not EARLIEST_YEAR <= naive.year <= LATEST_YEAR:
        raise ValueError(
            _(
                "Please enter a date between %(first)s and %(last)s.",
                first=EARLIEST_YEAR,
                last=LATEST_YEAR,
            )
        )
    local = naive.replace(tzinfo=zone)
    in_utc = local.astimezone(UTC)
    # A time inside a DST gap comes back different after a round trip through UTC.
    if in_utc.astimezone(zone).replace(tzinfo=None) != naive:
        raise ValueError(
            _(
                "%(time)s does not exist in %(zone)s: the clocks jump forward at that moment. "
                "Please choose a time outside the gap, e.g. %(later)s.",
                time=naive.strftime("%H:%M"),
                zone=zone.key,
                later=in_utc.astimezone(zone).strftime("%H:%M"),
            )
        )
    return in_utc


def to_local_input(moment: datetime | None, zone: str) -> str:
    """The value of a `datetime-local` field for a stored UTC moment."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone)).strftime(FORM_DATETIME_FORMAT)


def parse_money_cents(text: str, *, maximum_cents: int) -> int | None:
    """Integer cents from "150", "150,00", "150.00", "1.500,50" or "1,500.50"; None when empty.

    Never goes through float. A single separator followed by exactly three digits groups
    thousands ("1.500" is 1500), since nobody writes money with three decimals."""
    value = unicodedata.normalize("NFKC", text).strip().translate(_IGNORED_IN_AMOUNTS)
    if value.upper().endswith(("EUR", "USD", "GBP", "CHF")):
        value = value[:-3].strip()
    if not value:
        return None
    if value.startswith("-"):
        raise ValueError(_("The amount cannot be negative."))
    if len(value) > 20 or not _AMOUNT.fullmatch(value):
        raise ValueError(_("Please enter an amount such as 150 or 150,00."))
    whole, fraction = _split_amount(value)
    if whole is None:
        raise ValueError(_("Please enter an amount such as 150 or 150,00."))
    if len(fraction) > 2:
        raise ValueError(_("At most two digits after the decimal point, please."))
    cents = int(Decimal(f"{whole or '0'}.{fraction or '0'}") * 100)
    if cents > maximum_cents:
        raise ValueError(_("At most %(max)s, please.", max=_format_amount(maximum_cents)))
    return cents


def _split_amount(value: str) -> tuple[str | None, str]:
    """(whole, decimal digits) of digits with "." and ","; (None, "") if it makes no sense."""
    commas, dots = value.count(","), value.count(".")
    if commas and dots:
        decimal_mark = "," if value.rfind(",") > value.rfind(".") else "."
    elif commas + dots == 1:
        mark = "," if commas else "."
        head, _mark, tail = value.partition(mark)
        # "1.500" groups thousands; "0,305" is a fraction with a digit too many.
        groups_thousands = len(tail) == 3 and head[:1] not in {"", "0"}
        decimal_mark = None if groups_thousands else mark
    else:
        decimal_mark = None  # no separator, or the same one several times: thousands only
    if decimal_mark is not None:
        if value.count(decimal_mark) != 1:
            return None, ""
        head, fraction = value.split(decimal_mark)
        if not fraction:
            return None, ""
    else:
        head, fraction = value, ""
    grouping = {",", "."} - {decimal_mark}
    if any(mark in head for mark in grouping):
        groups = re.split(r"[.,]", head)
        if not _GROUPED.fullmatch(groups[0]) or len(groups[0]) > 3:
            return None, ""
        if any(len(group) != 3 for group in groups[1:]):
            return None, ""
        head = "".join(groups)
    if head and not _DIGITS.fullmatch(head):
        return None, ""
    return head, fraction


def _format_amount(cents: int) -> str:
    return babel_numbers.format_decimal(
        Decimal(cents) / 100, format="#,##0.00", locale=i18n.current_locale()
    )


def format_amount_input(cents: int | None) -> str:
    """Cents as the organizer would type them in their language: "150,00" / "150.00"."""
    if cents is None:
        return ""
    return babel_numbers.format_decimal(
        Decimal(cents) / 100, format="0.00", locale=i18n.current_locale()
    )


def parse_capacity(text: str) -> int | None:
    value = unicodedata.normalize("NFKC", text).strip()
    if not value:
        return None
    if value.startswith("-") and _DIGITS.fullmatch(value[1:]):
        raise ValueError(_("At least 1, or leave it empty for no limit."))
    if len(value) > 12 or not _DIGITS.fullmatch(value):
        raise ValueError(_("Please enter a whole number such as 40, or leave it empty."))
    capacity = int(value)
    if capacity < 1:
        raise ValueError(_("At least 1, or leave it empty for no limit."))
    if capacity > MAX_CAPACITY:
        raise ValueError(_("At most %(max)s places, please.", max=i18n.format_number(MAX_CAPACITY)))
    return capacity


def parse_timezone(text: str) -> ZoneInfo:
    value = text.strip()
    if value not in known_timezones():
        raise ValueError(_("Please choose a time zone from the list."))
    return ZoneInfo(value)


@cache
def _currencies() -> frozenset[str]:
    return frozenset(babel_numbers.list_currencies())


def parse_currency(text: str) -> str:
    value = unicodedata.normalize("NFKC", text).strip().upper()
    if not value:
        return DEFAULT_CURRENCY
    if not re.fullmatch(r"[A-Z]{3}", value, re.ASCII) or value not in _currencies():
        raise ValueError(_("Please enter a three-letter currency code such as EUR."))
    return value


# --- The whole form ---------------------------------------------------------------------------


def is_checked(data: Mapping[str, str], key: str) -> bool:
    return data.get(key, "") in {"on", "true", "1", "yes"}


@dataclass(frozen=True)
class EventFields:
    """Everything an organizer sets on an event, checked and converted."""

    title: str
    description: str
    venue: str
    address: str
    timezone: str
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
    travel_categories: str
    travel_claim_deadline: datetime
    feedback_enabled: bool
    feedback_anonymous: bool
    feedback_closes_at: datetime

    def apply_to(self, event: Event) -> None:
        for name, value in asdict(self).items():
            setattr(event, name, value)


class _Checker:
    """Runs one parser per field over the submitted strings, keeping the first message of each."""

    def __init__(self, data: Mapping[str, str]) -> None:
        # Anything but a string (a test client, a crafted request) counts as empty.
        self.data = {key: value for key, value in data.items() if isinstance(value, str)}
        self.errors: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def text(self, field: str) -> str:
        return self.data.get(field, "")

    def checked(self, field: str) -> bool:
        return is_checked(self.data, field)

    def parse(
        self, field: str, parser: Callable[..., Any], *args: Any, text: str | None = None
    ) -> Any:
        try:
            value = parser(self.text(field) if text is None else text, *args)
        except ValueError as error:
            self.errors.setdefault(field, str(error))
            value = None
        self.values[field] = value
        return value

    def fail(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)


def _title(text: str) -> str:
    title = " ".join(clean_text(text, max_length=MAX_TITLE_LENGTH).split())
    if not title:
        raise ValueError(_("Please give the event a title."))
    return title


def _limited_text(max_length: int, *, multiline: bool = False) -> Callable[[str], str]:
    return lambda text: clean_text(text, max_length=max_length, multiline=multiline)


def _language(text: str) -> str:
    if text not in EVENT_LANGUAGES:
        raise ValueError(_("Please choose German or English."))
    return text


def _moment(required_message: str | None = None) -> Callable[[str, ZoneInfo], datetime | None]:
    """A parser for a local date and time; empty is None, or an error when `required_message`."""

    def parse(text: str, zone: ZoneInfo) -> datetime | None:
        if not text.strip():
            if required_message:
                raise ValueError(required_message)
            return None
        return parse_local_datetime(text, zone)

    return parse


def _money(maximum_cents: int, default: int | None = None) -> Callable[[str], int | None]:
    def parse(text: str) -> int | None:
        cents = parse_money_cents(text, maximum_cents=maximum_cents)
        return default if cents is None else cents

    return parse


def parse_event_form(
    data: Mapping[str, str],
    *,
    default_timezone: str,
    default_contact_name: str,
    default_contact_email: str,
) -> EventFields:
    """Checks every field at once; raises ValidationFailed with one message per wrong field.

    Empty contact fields fall back to the organizer who saves the form; empty claim and
    feedback deadlines fall back to 30 and 14 days after the end."""
    form = _Checker(data)
    form.parse("title", _title)
    form.parse("description", _limited_text(MAX_DESCRIPTION_LENGTH, multiline=True))
    form.parse("venue", _limited_text(MAX_VENUE_LENGTH))
    form.parse("address", _limited_text(MAX_ADDRESS_LENGTH))
    form.parse("language", _language)
    contact_name = form.text("contact_name").strip() or default_contact_name
    form.parse("contact_name", clean_name, text=contact_name)
    contact_email = form.text("contact_email").strip() or default_contact_email
    form.parse("contact_email", normalize_email, text=contact_email)
    form.parse("capacity", parse_capacity)
    form.parse("travel_currency", parse_currency)
    form.parse("travel_cap", _money(MAX_TRAVEL_CAP_CENTS))
    form.parse("travel_mileage_rate", _money(MAX_MILEAGE_RATE_CENTS, DEFAULT_MILEAGE_RATE_CENTS))
    zone = form.parse("timezone", parse_timezone, text=form.text("timezone") or default_timezone)
    if zone is not None:
        form.parse("starts_at", _moment(_("When does the event start?")), zone)
        form.parse("ends_at", _moment(_("When does the event end?")), zone)
        for field in ("rsvp_deadline", "travel_claim_deadline", "feedback_closes_at"):
            form.parse(field, _moment(), zone)
    categories = [c.value for c in TravelCategory if form.checked(category_field(c))]
    _check_together(form, categories)
    if form.errors:
        raise ValidationFailed(form.errors)

    values = form.values
    ends_at: datetime = values["ends_at"]
    return EventFields(
        title=values["title"],
        description=values["description"],
        venue=values["venue"],
        address=values["address"],
        timezone=zone.key,
        starts_at=values["starts_at"],
        ends_at=ends_at,
        capacity=values["capacity"],
        plus_ones_allowed=form.checked("plus_ones_allowed"),
        rsvp_deadline=values["rsvp_deadline"],
        language=values["language"],
        contact_name=values["contact_name"],
        contact_email=values["contact_email"],
        travel_enabled=form.checked("travel_enabled"),
        travel_currency=values["travel_currency"],
        travel_cap_cents=values["travel_cap"],
        travel_mileage_rate_cents=values["travel_mileage_rate"],
        travel_categories=",".join(categories),
        travel_claim_deadline=values["travel_claim_deadline"] or ends_at + CLAIM_DEADLINE_AFTER_END,
        feedback_enabled=form.checked("feedback_enabled"),
        feedback_anonymous=form.checked("feedback_anonymous"),
        feedback_closes_at=values["feedback_closes_at"] or ends_at + FEEDBACK_CLOSES_AFTER_END,
    )


def _check_together(form: _Checker, categories: list[str]) -> None:
    """The rules that involve several fields; each only once its fields are valid on their own."""
    values = form.values
    starts_at, ends_at = values.get("starts_at"), values.get("ends_at")
    if starts_at and ends_at:
        if ends_at <= starts_at:
            form.fail("ends_at", _("The end must be after the start."))
        elif ends_at - starts_at > MAX_EVENT_LENGTH:
            limit = _("An event can last at most %(days)s days.", days=MAX_EVENT_LENGTH.days)
            form.fail("ends_at", limit)
    rsvp_deadline = values.get("rsvp_deadline")
    if starts_at and rsvp_deadline and rsvp_deadline >= starts_at:
        form.fail("rsvp_deadline", _("The deadline for answers must be before the start."))
    claim_deadline = values.get("travel_claim_deadline")
    if ends_at and claim_deadline and claim_deadline <= ends_at:
        form.fail(
            "travel_claim_deadline",
            _("Costs are claimed after the event: choose a time after the end."),
        )
    feedback_closes = values.get("feedback_closes_at")
    if ends_at and feedback_closes and feedback_closes <= ends_at:
        form.fail(
            "feedback_closes_at",
            _("Feedback is given after the event: choose a time after the end."),
        )
    if form.checked("travel_enabled"):
        if not categories:
            form.fail("travel_categories", _("Choose at least one kind of cost you reimburse."))
        if values.get("travel_cap") == 0:
            form.fail(
                "travel_cap",
                _("A cap of 0 pays nothing: leave it empty for no cap, or turn travel costs off."),
            )


def blank_form_values(
    *, default_timezone: str, language: str, contact_name: str, contact_email: str
) -> dict[str, str]:
    """What the form for a new event starts with."""
    values = {
        "timezone": default_timezone,
        "language": language if language in EVENT_LANGUAGES else "de",
        "contact_name": contact_name,
        "contact_email": contact_email,
        "travel_currency": DEFAULT_CURRENCY,
        "travel_mileage_rate": format_amount_input(DEFAULT_MILEAGE_RATE_CENTS),
        "feedback_enabled": "on",
    }
    values.update({category_field(category): "on" for category in TravelCategory})
    return values


def form_values(event: Event) -> dict[str, str]:
    """The form of an existing event, filled in as the organizer would type it."""
    zone = event.timezone

    def checkbox(on: bool) -> str:
        return "on" if on else ""

    def moment(value: datetime | None) -> str:
        return to_local_input(value, zone)

    chosen = set(event.travel_categories.split(","))
    return {
        "title": event.title,
        "description": event.description,
        "venue": event.venue,
        "address": event.address,
        "timezone": zone,
        "language": event.language,
        "starts_at": moment(event.starts_at),
        "ends_at": moment(event.ends_at),
        "capacity": "" if event.capacity is None else str(event.capacity),
        "plus_ones_allowed": checkbox(event.plus_ones_allowed),
        "rsvp_deadline": moment(event.rsvp_deadline),
        "contact_name": event.contact_name,
        "contact_email": event.contact_email,
        "travel_enabled": checkbox(event.travel_enabled),
        "travel_currency": event.travel_currency,
        "travel_cap": format_amount_input(event.travel_cap_cents),
        "travel_mileage_rate": format_amount_input(event.travel_mileage_rate_cents),
        "travel_claim_deadline": moment(event.travel_claim_deadline),
        "feedback_enabled": checkbox(event.feedback_enabled),
        "feedback_anonymous": checkbox(event.feedback_anonymous),
        "feedback_closes_at": moment(event.feedback_closes_at),
        **{category_field(c): checkbox(c.value in chosen) for c in TravelCategory},
    }
