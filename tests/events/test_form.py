"""Parsing the event form: money, local times across DST changes, and every validation rule."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from meetups.errors import ValidationFailed
from meetups.events.form import (
    EventFields,
    form_values,
    parse_capacity,
    parse_currency,
    parse_event_form,
    parse_local_datetime,
    parse_money_cents,
    timezone_choices,
    to_local_input,
)
from meetups.events.models import Event
from meetups.i18n import use_locale

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
DEFAULTS = {
    "default_timezone": "Europe/Berlin",
    "default_contact_name": "Olga Organizer",
    "default_contact_email": "Olga@Example.com",
}


def valid(**overrides: str) -> dict[str, str]:
    values = {
        "title": "Bloggertreffen Montabaur",
        "description": "Ein Nachmittag mit **Feedback**.",
        "venue": "Firmenzentrale",
        "address": "Elgendorfer Straße 57, 56410 Montabaur",
        "timezone": "Europe/Berlin",
        "starts_at": "2027-05-14T14:00",
        "ends_at": "2027-05-14T18:00",
        "capacity": "40",
        "rsvp_deadline": "2027-05-07T23:59",
        "language": "de",
        "travel_enabled": "on",
        "travel_currency": "EUR",
        "travel_cap": "150,00",
        "travel_mileage_rate": "0,30",
        "travel_category_train": "on",
        "travel_category_car": "on",
        "feedback_enabled": "on",
    }
    values.update(overrides)
    return values


def parse(data: dict[str, str]) -> EventFields:
    return parse_event_form(data, **DEFAULTS)


def errors_of(data: dict[str, str]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse(data)
    return caught.value.errors


# --- Money ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("150", 15000),
        ("150,00", 15000),
        ("150.00", 15000),
        ("150,5", 15050),
        ("0,30", 30),
        ("0.30", 30),
        (",5", 50),
        ("1.500", 150000),
        ("1,500", 150000),
        ("1.500,50", 150050),
        ("1,500.50", 150050),
        ("1.000.000", 100000000),
        ("1 500,00", 150000),
        ("1\u00a0500,00", 150000),
        ("€ 150", 15000),
        ("150 EUR", 15000),
        ("１５０", 15000),  # full-width digits from a Japanese keyboard
        ("  42  ", 4200),
        ("", None),
        ("   ", None),
    ],
)
def test_money_is_parsed_into_integer_cents(text: str, cents: int | None) -> None:
    result = parse_money_cents(text, maximum_cents=10**12)
    assert result == cents
    assert result is None or type(result) is int


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-1", "negative"),
        ("-150,00", "negative"),
        ("abc", "amount such as"),
        ("1e9", "amount such as"),
        ("NaN", "amount such as"),
        ("Infinity", "amount such as"),
        ("150.", "amount such as"),
        ("1.50.0", "amount such as"),
        ("1,2,3", "amount such as"),
        ("12,3456", "two digits"),
        ("0,305", "two digits"),
        ("0x10", "amount such as"),
        ("9" * 40, "amount such as"),
    ],
)
def test_bad_money_gets_a_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_money_cents(text, maximum_cents=10**12)


def test_money_has_an_upper_limit() -> None:
    assert parse_money_cents("10,00", maximum_cents=1000) == 1000
    with pytest.raises(ValueError, match=r"At most 10\.00"):
        parse_money_cents("10,01", maximum_cents=1000)


def test_money_never_goes_through_float() -> None:
    # 0.29 * 100 is 28.999999999999996 in floating point.
    assert parse_money_cents("0.29", maximum_cents=10**6) == 29
    assert parse_money_cents("1.15", maximum_cents=10**6) == 115


# --- Local times ------------------------------------------------------------------------------


def test_local_time_is_stored_in_utc() -> None:
    summer = parse_local_datetime("2027-05-14T14:00", BERLIN)
    assert summer == datetime(2027, 5, 14, 12, 0, tzinfo=UTC)
    assert summer.tzinfo is UTC
    winter = parse_local_datetime("2027-12-01T14:00", BERLIN)
    assert winter == datetime(2027, 12, 1, 13, 0, tzinfo=UTC)


def test_new_york_times_are_converted_with_their_own_offset() -> None:
    assert parse_local_datetime("2027-07-04T18:00", NEW_YORK) == datetime(
        2027, 7, 4, 22, 0, tzinfo=UTC
    )
    assert parse_local_datetime("2027-01-15T09:30", NEW_YORK) == datetime(
        2027, 1, 15, 14, 30, tzinfo=UTC
    )


def test_a_time_in_the_berlin_dst_gap_is_refused_with_a_clear_message() -> None:
    # On 2027-03-28 the clocks in Berlin jump from 02:00 to 03:00.
    with pytest.raises(ValueError, match=r"02:30 does not exist in Europe/Berlin.*03:30") as caught:
        parse_local_datetime("2027-03-28T02:30", BERLIN)
    assert "clocks jump forward" in str(caught.value)
    assert parse_local_datetime("2027-03-28T01:59", BERLIN) == datetime(
        2027, 3, 28, 0, 59, tzinfo=UTC
    )
    assert parse_local_datetime("2027-03-28T03:00", BERLIN) == datetime(
        2027, 3, 28, 1, 0, tzinfo=UTC
    )


def test_a_time_in_the_new_york_dst_gap_is_refused() -> None:
    # On 2027-03-14 the clocks in New York jump from 02:00 to 03:00.
    with pytest.raises(ValueError, match="does not exist in America/New_York"):
        parse_local_datetime("2027-03-14T02:15", NEW_YORK)
    # The same wall time in Berlin exists: its change comes two weeks later.
    assert parse_local_datetime("2027-03-14T02:15", BERLIN) == datetime(
        2027, 3, 14, 1, 15, tzinfo=UTC
    )


def test_a_repeated_hour_in_autumn_means_its_first_occurrence() -> None:
    # 02:30 happens twice on 2027-10-31 in Berlin; we take the first one, still in summer time.
    assert parse_local_datetime("2027-10-31T02:30", BERLIN) == datetime(
        2027, 10, 31, 0, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "text",
    [
        "2027-05-14T14:00",
        "2027-05-14 14:00",
        "2027-05-14T14:00:00",
        "2027-05-14T14:00:00.000",
        "14.05.2027 14:00",
        "14.05.2027, 14:00",
        "14.5.2027 14.00",
        "２０２７-０５-１４T１４:００",
    ],
)
def test_local_time_formats(text: str) -> None:
    assert parse_local_datetime(text, BERLIN) == datetime(2027, 5, 14, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2027-02-30T10:00", "does not exist"),
        ("2027-13-01T10:00", "does not exist"),
        ("2027-05-14T25:00", "does not exist"),
        ("2027-05-14T14:60", "does not exist"),
        ("0001-01-01T00:00", "between 2000 and 2099"),
        ("9999-12-31T23:59", "between 2000 and 2099"),
        ("1999-12-31T23:59", "between 2000 and 2099"),
        ("tomorrow", "Please enter a date and time"),
        ("2027-05-14", "Please enter a date and time"),
        ("14:00", "Please enter a date and time"),
        ("2027-05-14T14:00Z", "Please enter a date and time"),
        ("2027-05-14T14:00+02:00", "Please enter a date and time"),
        ("٢٠٢٧-٠٥-١٤T١٤:٠٠", "Please enter a date and time"),  # Arabic-Indic digits
        ("2027-05-14T14:00" + "0" * 10_000, "Please enter a date and time"),
        ("'; DROP TABLE event; --", "Please enter a date and time"),
    ],
)
def test_bad_local_times_get_a_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_local_datetime(text, BERLIN)


def test_to_local_input_shows_the_stored_moment_in_the_events_zone() -> None:
    moment = datetime(2027, 5, 14, 12, 0, tzinfo=UTC)
    assert to_local_input(moment, "Europe/Berlin") == "2027-05-14T14:00"
    assert to_local_input(moment, "America/New_York") == "2027-05-14T08:00"
    assert to_local_input(None, "Europe/Berlin") == ""


# --- Small fields -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "capacity"),
    [("", None), (" ", None), ("1", 1), ("40", 40), (" 40 ", 40), ("４０", 40)],
)
def test_capacity(text: str, capacity: int | None) -> None:
    assert parse_capacity(text) == capacity


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "At least 1"),
        ("-1", "At least 1"),
        ("00", "At least 1"),
        ("abc", "whole number"),
        ("1e9", "whole number"),
        ("1.5", "whole number"),
        ("1000000", "At most"),
        ("999999999999999999999999", "whole number"),
        ("٤٠", "whole number"),
    ],
)
def test_bad_capacity(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_capacity(text)


def test_currency() -> None:
    assert parse_currency("") == "EUR"
    assert parse_currency(" chf ") == "CHF"
    for bad in ("EURO", "XYZ", "€", "E1R", "ЕUR"):  # the last one starts with a Cyrillic Е
        with pytest.raises(ValueError, match="three-letter currency code"):
            parse_currency(bad)


def test_every_place_is_offered_and_the_default_is_among_them() -> None:
    choices = timezone_choices()
    offered = {zone for zones in choices.values() for zone in zones}
    assert {"Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC"} <= offered
    assert "Factory" not in offered
    assert "localtime" not in offered
    assert list(choices) == sorted(choices, key=lambda region: (region == "Etc", region))
    # An event stored with an old alias keeps it in the list.
    assert "US/Eastern" in {z for zones in timezone_choices("US/Eastern").values() for z in zones}


# --- The whole form ---------------------------------------------------------------------------


def test_a_valid_form() -> None:
    fields = parse(valid())
    assert fields.title == "Bloggertreffen Montabaur"
    assert fields.timezone == "Europe/Berlin"
    assert fields.starts_at == datetime(2027, 5, 14, 12, 0, tzinfo=UTC)
    assert fields.ends_at == datetime(2027, 5, 14, 16, 0, tzinfo=UTC)
    assert fields.rsvp_deadline == datetime(2027, 5, 7, 21, 59, tzinfo=UTC)
    assert fields.capacity == 40
    assert fields.plus_ones_allowed is False
    assert fields.language == "de"
    assert fields.travel_enabled is True
    assert fields.travel_cap_cents == 15000
    assert fields.travel_mileage_rate_cents == 30
    assert fields.travel_categories == "train,car"
    assert fields.feedback_enabled is True
    assert fields.feedback_anonymous is False


def test_defaults_fill_what_was_left_empty() -> None:
    fields = parse(
        valid(
            contact_name="",
            contact_email="",
            timezone="",
            travel_currency="",
            travel_mileage_rate="",
            travel_claim_deadline="",
            feedback_closes_at="",
            capacity="",
            rsvp_deadline="",
            travel_cap="",
        )
    )
    assert fields.contact_name == "Olga Organizer"
    assert fields.contact_email == "olga@example.com"
    assert fields.timezone == "Europe/Berlin"
    assert fields.travel_currency == "EUR"
    assert fields.travel_mileage_rate_cents == 30
    assert fields.travel_cap_cents is None
    assert fields.capacity is None
    assert fields.rsvp_deadline is None
    assert fields.travel_claim_deadline == fields.ends_at + timedelta(days=30)
    assert fields.feedback_closes_at == fields.ends_at + timedelta(days=14)


def test_the_zone_decides_how_local_times_are_read() -> None:
    fields = parse(valid(timezone="America/New_York", rsvp_deadline=""))
    assert fields.starts_at == datetime(2027, 5, 14, 18, 0, tzinfo=UTC)
    assert fields.timezone == "America/New_York"


def test_checkboxes_are_off_unless_sent() -> None:
    data = valid()
    for key in (
        "travel_enabled",
        "feedback_enabled",
        "travel_category_train",
        "travel_category_car",
    ):
        del data[key]
    fields = parse(data)
    assert (fields.travel_enabled, fields.feedback_enabled, fields.travel_categories) == (
        False,
        False,
        "",
    )
    fields = parse(
        valid(plus_ones_allowed="on", feedback_anonymous="on", travel_category_hotel="on")
    )
    assert fields.plus_ones_allowed
    assert fields.feedback_anonymous
    assert fields.travel_categories == "train,car,hotel"


def test_an_empty_form_names_every_required_field() -> None:
    errors = errors_of({})
    assert set(errors) == {"title", "language", "starts_at", "ends_at"}
    assert errors["title"] == "Please give the event a title."
    assert errors["starts_at"] == "When does the event start?"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": "   "}, "title", "Please give the event a title."),
        ({"title": "x" * 201}, "title", "At most 200 characters"),
        ({"description": "x" * 20_001}, "description", "At most 20000 characters"),
        ({"venue": "x" * 201}, "venue", "At most 200 characters"),
        ({"address": "x" * 501}, "address", "At most 500 characters"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "Please choose a time zone from the list."),
        ({"timezone": "../../etc/passwd"}, "timezone", "Please choose a time zone from the list."),
        ({"timezone": "localtime"}, "timezone", "Please choose a time zone from the list."),
        ({"starts_at": ""}, "starts_at", "When does the event start?"),
        ({"ends_at": ""}, "ends_at", "When does the event end?"),
        (
            {"starts_at": "2027-03-28T02:30", "ends_at": "2027-03-28T05:00", "rsvp_deadline": ""},
            "starts_at",
            "does not exist in Europe/Berlin",
        ),
        ({"ends_at": "2027-05-14T13:00"}, "ends_at", "The end must be after the start."),
        ({"ends_at": "2027-05-14T14:00"}, "ends_at", "The end must be after the start."),
        ({"ends_at": "2027-06-20T14:00"}, "ends_at", "at most 31 days"),
        ({"rsvp_deadline": "2027-05-14T14:00"}, "rsvp_deadline", "before the start"),
        ({"rsvp_deadline": "2027-05-20T10:00"}, "rsvp_deadline", "before the start"),
        ({"rsvp_deadline": "soon"}, "rsvp_deadline", "Please enter a date and time"),
        ({"capacity": "0"}, "capacity", "At least 1"),
        ({"capacity": "-1"}, "capacity", "At least 1"),
        ({"capacity": "abc"}, "capacity", "whole number"),
        ({"capacity": "1e9"}, "capacity", "whole number"),
        ({"language": "fr"}, "language", "German or English"),
        ({"language": ""}, "language", "German or English"),
        ({"contact_name": "=HYPERLINK(1)"}, "contact_name", "cannot start with ="),
        ({"contact_email": "not-an-address"}, "contact_email", "not a valid e-mail address"),
        ({"travel_currency": "EURO"}, "travel_currency", "three-letter currency code"),
        ({"travel_cap": "-5"}, "travel_cap", "negative"),
        ({"travel_cap": "lots"}, "travel_cap", "amount such as"),
        ({"travel_cap": "0"}, "travel_cap", "A cap of 0 pays nothing"),
        ({"travel_cap": "100001"}, "travel_cap", "At most"),
        ({"travel_mileage_rate": "0,305"}, "travel_mileage_rate", "two digits"),
        ({"travel_mileage_rate": "11"}, "travel_mileage_rate", "At most"),
        (
            {"travel_category_train": "", "travel_category_car": ""},
            "travel_categories",
            "at least one",
        ),
        ({"travel_claim_deadline": "2027-05-14T17:00"}, "travel_claim_deadline", "after the end"),
        ({"travel_claim_deadline": "2027-02-30T10:00"}, "travel_claim_deadline", "does not exist"),
        ({"feedback_closes_at": "2027-05-14T18:00"}, "feedback_closes_at", "after the end"),
    ],
)
def test_each_rule_names_its_field(overrides: dict[str, str], field: str, message: str) -> None:
    errors = errors_of(valid(**overrides))
    assert field in errors, errors
    assert message in errors[field]
    assert set(errors) == {field}


def test_travel_settings_are_not_checked_for_sense_while_travel_is_off() -> None:
    data = valid(travel_cap="0", travel_category_train="", travel_category_car="")
    del data["travel_enabled"]
    fields = parse(data)
    assert fields.travel_enabled is False
    assert fields.travel_cap_cents == 0


def test_several_errors_come_back_together() -> None:
    errors = errors_of(valid(title="", capacity="many", ends_at="2027-05-14T10:00", language="xx"))
    assert set(errors) == {"title", "capacity", "ends_at", "language"}


def test_cross_field_rules_wait_for_valid_fields() -> None:
    # A broken start must not add a confusing "end must be after the start".
    errors = errors_of(valid(starts_at="nonsense", rsvp_deadline="2027-05-20T10:00"))
    assert set(errors) == {"starts_at"}
    errors = errors_of(valid(timezone="Nowhere/Land"))
    assert set(errors) == {"timezone"}


def test_text_is_cleaned() -> None:
    fields = parse(
        valid(
            title="  Blogger\u0000treffen \n  Montabaur\u200b ",
            description="Zeile 1\r\nZeile 2\x07",
            venue="Zentrale\u202e",
        )
    )
    assert fields.title == "Bloggertreffen Montabaur"
    assert fields.description == "Zeile 1\nZeile 2"
    assert fields.venue == "Zentrale"


HOSTILE = [
    "",
    " ",
    "x" * 10_000,
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'; DROP TABLE event; --",
    "\u0000\u0001\u0002",
    "\ud800",  # a lone surrogate
    "\u202e\u200b\ufeff",
    "Z̸̢̧̛̛a̶̡̛l̷̨̛g̸̢̛o̵̡",
    "🎉" * 300,
    "-1",
    "1e9",
    "NaN",
    "9" * 400,
    "2027-02-30T25:61",
    "../../etc/passwd",
    "on",
]
FIELDS = [
    "title",
    "description",
    "venue",
    "address",
    "timezone",
    "starts_at",
    "ends_at",
    "capacity",
    "plus_ones_allowed",
    "rsvp_deadline",
    "language",
    "contact_name",
    "contact_email",
    "travel_enabled",
    "travel_currency",
    "travel_cap",
    "travel_mileage_rate",
    "travel_category_car",
    "travel_claim_deadline",
    "feedback_enabled",
    "feedback_anonymous",
    "feedback_closes_at",
]


@pytest.mark.parametrize("field", FIELDS)
def test_hostile_input_gives_messages_never_exceptions(field: str) -> None:
    for value in HOSTILE:
        outcome: EventFields | ValidationFailed
        try:
            outcome = parse(valid(**{field: value}))
        except ValidationFailed as failed:
            outcome = failed
        if isinstance(outcome, ValidationFailed):
            assert outcome.errors, (field, value)
            assert all(isinstance(m, str) and m for m in outcome.errors.values())
        else:
            assert len(outcome.title) <= 200
            assert len(outcome.venue) <= 200


def test_values_that_are_not_strings_count_as_empty() -> None:
    data: dict = valid()
    data["capacity"] = 40
    data["title"] = ["a", "b"]
    errors = errors_of(data)
    assert set(errors) == {"title"}


@pytest.mark.parametrize("language", ["de", "en"])
def test_form_values_round_trip(language: str) -> None:
    """What the edit form shows is read back as the same event, in either language."""
    with use_locale(language):
        fields = parse(
            valid(plus_ones_allowed="on", feedback_anonymous="on", travel_cap="1.234,56")
        )
        event = Event(slug="x", title="", starts_at=fields.starts_at, ends_at=fields.ends_at)
        fields.apply_to(event)
        values = form_values(event)
        assert values["starts_at"] == "2027-05-14T14:00"
        assert values["travel_cap"] == ("1234,56" if language == "de" else "1234.56")
        assert parse(values) == fields
