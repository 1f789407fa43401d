"""The calendar file itself: every file parsed by icalendar and by vobject, times checked in UTC
around daylight-saving changes, non-ASCII text round-tripped, the wire format checked."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from meetups.calendar import ics
from meetups.events.models import Event, EventStatus
from meetups.invitations.models import InviteeStatus
from tests.calendar.parsing import parse_both, utc, vtimezone_ids

GOLDEN = Path(__file__).parent / "golden"
STAMP = datetime(2026, 2, 1, 9, 30, tzinfo=UTC)
PAGE = "https://meetups.example.com/i/personal-token"


def make_event(**fields: Any) -> Event:
    values: dict[str, Any] = {
        "id": 42,
        "slug": "bloggertreffen-montabaur",
        "title": "Bloggertreffen Montabaur",
        "description": "Ein Nachmittag mit **ehrlichem Feedback**.\n\n- Führung\n- Kaffee",
        "venue": "Firmenzentrale",
        "address": "Elgendorfer Straße 57, 56410 Montabaur",
        "timezone": "Europe/Berlin",
        "starts_at": datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
        "ends_at": datetime(2026, 7, 1, 16, 0, tzinfo=UTC),
        "status": EventStatus.published,
        "contact_name": "Olga Organizer",
        "contact_email": "org@example.com",
        "created_at": datetime(2026, 1, 10, 8, 0, tzinfo=UTC),
        "updated_at": datetime(2026, 1, 20, 8, 0, tzinfo=UTC),
        **fields,
    }
    return Event(**values)


def invitation(
    event: Event,
    *,
    name: str = "Anna Müller",
    email: str = "anna@example.com",
    status: InviteeStatus = InviteeStatus.accepted,
    method: ics.Method | None = None,
) -> bytes:
    return ics.invitation_ics(
        event,
        attendee=ics.Attendee(email=email, name=name, status=status),
        domain="meetups.example.com",
        url=PAGE,
        stamp=STAMP,
        organizer=ics.organizer_of(event, "team@meetups.example.com"),
        description=ics.invitee_description(event, PAGE),
        alarm_text=ics.alarm_text(event),
        method=method,
    )


def test_an_invitation_has_everything_calendars_need() -> None:
    parsed = parse_both(invitation(make_event()))
    calendar, event = parsed.icalendar, parsed.event

    assert calendar["VERSION"] == "2.0"
    assert calendar["PRODID"] == ics.PRODID
    assert calendar["METHOD"] == "REQUEST"
    assert str(event["UID"]) == "meetups-event-42@meetups.example.com"
    assert event["SEQUENCE"] == 0
    assert utc(event["DTSTAMP"].dt) == STAMP
    assert str(event["SUMMARY"]) == "Bloggertreffen Montabaur"
    assert str(event["LOCATION"]) == "Firmenzentrale, Elgendorfer Straße 57, 56410 Montabaur"
    assert str(event["URL"]) == PAGE
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "DURATION" not in event  # DTEND, never both
    # The description is plain text: no Markdown marks, the list as a list, the page at the end.
    description = str(event["DESCRIPTION"])
    assert description.startswith("Ein Nachmittag mit ehrlichem Feedback.\n\n- Führung\n- Kaffee")
    assert "**" not in description
    assert description.endswith(PAGE)
    # Replies go to the event's contact, a person who reads them.
    assert str(event["ORGANIZER"]) == "mailto:org@example.com"
    assert event["ORGANIZER"].params["CN"] == "Olga Organizer"
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:anna@example.com"
    assert attendee.params["PARTSTAT"] == "ACCEPTED"
    assert attendee.params["ROLE"] == "REQ-PARTICIPANT"
    assert attendee.params["RSVP"] == "FALSE"
    # A reminder a day before.
    (alarm,) = event.walk("VALARM")
    assert alarm["ACTION"] == "DISPLAY"
    assert alarm["TRIGGER"].dt == timedelta(days=-1)
    assert "Bloggertreffen Montabaur" in str(alarm["DESCRIPTION"])
    # The zone the times are written in comes along.
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert vtimezone_ids(parsed) == {"Europe/Berlin"}

    # The independent parser reads the same.
    other = parsed.vobject
    assert other.method.value == "REQUEST"
    vevent = other.vevent
    assert vevent.uid.value == "meetups-event-42@meetups.example.com"
    assert int(vevent.sequence.value) == 0
    assert utc(vevent.dtstart.value) == datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert utc(vevent.dtend.value) == datetime(2026, 7, 1, 16, 0, tzinfo=UTC)
    assert vevent.attendee.params["PARTSTAT"] == ["ACCEPTED"]
    assert vevent.organizer.value == "mailto:org@example.com"
    assert vevent.valarm.trigger.value == timedelta(days=-1)


@pytest.mark.parametrize(
    ("status", "partstat", "rsvp"),
    [
        (InviteeStatus.accepted, "ACCEPTED", "FALSE"),
        (InviteeStatus.maybe, "TENTATIVE", "FALSE"),
        (InviteeStatus.declined, "DECLINED", "FALSE"),
        (InviteeStatus.invited, "NEEDS-ACTION", "TRUE"),
        (InviteeStatus.waitlisted, "NEEDS-ACTION", "TRUE"),
    ],
)
def test_the_attendee_carries_their_answer(status: InviteeStatus, partstat: str, rsvp: str) -> None:
    parsed = parse_both(invitation(make_event(), status=status))
    assert parsed.event["ATTENDEE"].params["PARTSTAT"] == partstat
    assert parsed.event["ATTENDEE"].params["RSVP"] == rsvp
    assert parsed.vobject.vevent.attendee.params["PARTSTAT"] == [partstat]


def test_a_cancellation_removes_the_entry() -> None:
    event = make_event(status=EventStatus.cancelled, sequence=3)
    parsed = parse_both(invitation(event))  # a cancelled event is a CANCEL by itself
    assert parsed.icalendar["METHOD"] == "CANCEL"
    assert str(parsed.event["UID"]) == "meetups-event-42@meetups.example.com"
    assert parsed.event["SEQUENCE"] == 3
    assert str(parsed.event["STATUS"]) == "CANCELLED"
    assert str(parsed.event["TRANSP"]) == "TRANSPARENT"
    assert not list(parsed.event.walk("VALARM"))  # no reminder of what will not happen
    assert parsed.vobject.method.value == "CANCEL"
    assert parsed.vobject.vevent.status.value == "CANCELLED"


def test_publish_is_not_for_one_guest() -> None:
    with pytest.raises(ValueError, match="PUBLISH"):
        invitation(make_event(), method=ics.Method.publish)


def test_the_night_the_clocks_go_forward_in_berlin() -> None:
    # 29 March 2026: at 02:00 CET the clocks jump to 03:00 CEST. 00:30 UTC is 01:30 CET, the
    # end at 01:30 UTC is 03:30 CEST: one hour, though the wall clock says two.
    start = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    end = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    parsed = parse_both(invitation(make_event(starts_at=start, ends_at=end)))
    event = parsed.event
    assert event["DTSTART"].to_ical() == b"20260329T013000"
    assert event["DTEND"].to_ical() == b"20260329T033000"
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert (utc(event["DTSTART"].dt), utc(event["DTEND"].dt)) == (start, end)
    vevent = parsed.vobject.vevent
    assert (utc(vevent.dtstart.value), utc(vevent.dtend.value)) == (start, end)
    # The VTIMEZONE knows both offsets of that night.
    (zone,) = parsed.icalendar.walk("VTIMEZONE")
    offsets = {str(part["TZNAME"]) for part in zone.subcomponents}
    assert offsets == {"CET", "CEST"}


@pytest.mark.parametrize("first_or_second", [0, 1])
def test_the_night_the_clocks_go_back_in_berlin(first_or_second: int) -> None:
    # 25 October 2026: 02:00–03:00 happens twice. The first 02:30 (CEST) is 00:30 UTC, the second
    # (CET) 01:30 UTC. A local time means the first (RFC 5545), so the second goes out in UTC.
    start = datetime(2026, 10, 25, 0, 30, tzinfo=UTC) + timedelta(hours=first_or_second)
    end = start + timedelta(hours=2)
    parsed = parse_both(invitation(make_event(starts_at=start, ends_at=end)))
    assert (utc(parsed.event["DTSTART"].dt), utc(parsed.event["DTEND"].dt)) == (start, end)
    vevent = parsed.vobject.vevent
    assert (utc(vevent.dtstart.value), utc(vevent.dtend.value)) == (start, end)
    if first_or_second:
        assert parsed.event["DTSTART"].to_ical() == b"20261025T013000Z"
        assert "TZID" not in parsed.event["DTSTART"].params


def test_an_event_in_new_york() -> None:
    # 8 March 2026, 18:00 EDT (the first evening of daylight saving time there) = 22:00 UTC.
    start = datetime(2026, 3, 8, 22, 0, tzinfo=UTC)
    event = make_event(
        timezone="America/New_York", starts_at=start, ends_at=start + timedelta(hours=3)
    )
    parsed = parse_both(invitation(event))
    assert parsed.event["DTSTART"].params["TZID"] == "America/New_York"
    assert parsed.event["DTSTART"].to_ical() == b"20260308T180000"
    assert utc(parsed.event["DTSTART"].dt) == start
    assert utc(parsed.vobject.vevent.dtstart.value) == start
    assert utc(parsed.vobject.vevent.dtend.value) == start + timedelta(hours=3)
    assert vtimezone_ids(parsed) == {"America/New_York"}


def test_an_event_in_utc_needs_no_vtimezone() -> None:
    start = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    parsed = parse_both(
        invitation(make_event(timezone="UTC", starts_at=start, ends_at=start + timedelta(hours=1)))
    )
    assert parsed.event["DTSTART"].to_ical() == b"20260501T090000Z"
    assert vtimezone_ids(parsed) == set()
    assert utc(parsed.vobject.vevent.dtstart.value) == start


NAMES = ["Jürgen Grünewald", "D’Avis", 'Zoë "Zo" Ørsted; Ltd., Inc.', "Łukasz Żółć 日本語"]


@pytest.mark.parametrize("name", NAMES)
def test_non_ascii_text_comes_back_intact(name: str) -> None:
    long_title = f"Treffen mit {name} – " + "Übersicht " * 12
    event = make_event(
        title=long_title,
        venue=f"Café {name}",
        address="Straße des 17. Juni 135, 10623 Berlin",
        description=f"Gäste: {name}, bitte *pünktlich*.\nZweite Zeile; mit Komma, und C:\\Daten",
        contact_name=name,
    )
    parsed = parse_both(invitation(event, name=name))
    summary = " ".join(long_title.split())
    assert str(parsed.event["SUMMARY"]) == summary
    assert parsed.vobject.vevent.summary.value == summary
    # A parameter cannot hold a double quote: it becomes an apostrophe (RFC 6868's escapes
    # show literally in many calendars).
    as_parameter = name.replace('"', "'")
    assert parsed.event["ATTENDEE"].params["CN"] == as_parameter
    assert parsed.vobject.vevent.attendee.params["CN"] == [as_parameter]
    assert parsed.event["ORGANIZER"].params["CN"] == as_parameter
    assert parsed.vobject.vevent.organizer.params["CN"] == [as_parameter]
    assert str(parsed.event["LOCATION"]).startswith(f"Café {name}, Straße des 17. Juni")
    assert parsed.vobject.vevent.location.value.startswith(f"Café {name}, Straße")
    description = parsed.vobject.vevent.description.value
    assert f"Gäste: {name}, bitte pünktlich." in description
    assert "Zweite Zeile; mit Komma, und C:\\Daten" in description
    # Long lines were folded (and unfolded again by both parsers).
    assert any(line.startswith(b" ") for line in parsed.raw.split(b"\r\n"))


def test_lines_fold_at_75_octets_between_characters() -> None:
    # Two-byte and three-byte characters across every fold position.
    for shift in range(4):
        title = "x" * shift + "äöü’€" * 40
        parsed = parse_both(invitation(make_event(title=title)))  # checks every line's length
        assert str(parsed.event["SUMMARY"]) == title
        assert parsed.vobject.vevent.summary.value == title


def test_without_contact_the_organizer_is_our_sender() -> None:
    parsed = parse_both(invitation(make_event(contact_email="", contact_name="")))
    assert str(parsed.event["ORGANIZER"]) == "mailto:team@meetups.example.com"


def test_the_same_event_gives_the_same_file() -> None:
    assert invitation(make_event()) == invitation(make_event())


def test_golden_file() -> None:
    """The whole file for one event, byte for byte: any change to it is a deliberate one
    (regenerate with MEETUPS_REGENERATE_GOLDEN=1)."""
    import os

    event = make_event(
        title="Bloggertreffen Jürgen Grünewald & D’Avis",
        starts_at=datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
        ends_at=datetime(2026, 3, 29, 4, 0, tzinfo=UTC),
        sequence=2,
    )
    content = invitation(event, name="Jürgen Grünewald", email="juergen@example.com")
    path = GOLDEN / "invitation.ics"
    if os.environ.get("MEETUPS_REGENERATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(content)
    assert content == path.read_bytes()
    parse_both(content)


def test_the_feed_publishes_events_without_guests() -> None:
    berlin = make_event()
    new_york = make_event(
        id=43,
        slug="blogger-meetup-new-york",
        title="Blogger meetup New York",
        timezone="America/New_York",
        starts_at=datetime(2026, 11, 2, 14, 0, tzinfo=UTC),
        ends_at=datetime(2026, 11, 2, 17, 0, tzinfo=UTC),
        sequence=4,
    )
    content = ics.feed_ics(
        [berlin, new_york],
        domain="meetups.example.com",
        name="meetups: events",
        stamp=STAMP,
        url_of=lambda event: f"https://meetups.example.com/events/{event.slug}",
        organizer_of=lambda event: ics.organizer_of(event, "team@meetups.example.com"),
        description_of=lambda event: ics.markdown_to_text(event.description),
    )
    parsed = parse_both(content)
    assert parsed.icalendar["METHOD"] == "PUBLISH"
    assert str(parsed.icalendar["NAME"]) == "meetups: events"
    assert str(parsed.icalendar["X-WR-CALNAME"]) == "meetups: events"
    assert parsed.vobject.contents["x-wr-calname"][0].value == "meetups: events"
    assert [str(event["UID"]) for event in parsed.events] == [
        "meetups-event-42@meetups.example.com",
        "meetups-event-43@meetups.example.com",
    ]
    assert [event["SEQUENCE"] for event in parsed.events] == [0, 4]
    assert all("ATTENDEE" not in event for event in parsed.events)
    assert all(not list(event.walk("VALARM")) for event in parsed.events)
    assert vtimezone_ids(parsed) == {"Europe/Berlin", "America/New_York"}
    assert [utc(vevent.dtstart.value) for vevent in parsed.vevents] == [
        datetime(2026, 7, 1, 12, 0, tzinfo=UTC),
        datetime(2026, 11, 2, 14, 0, tzinfo=UTC),
    ]


def test_an_empty_feed_is_still_a_calendar() -> None:
    content = ics.feed_ics(
        [],
        domain="d.example",
        name="meetups: events",
        stamp=STAMP,
        url_of=str,
        organizer_of=lambda event: ics.Organizer("a@example.com"),
        description_of=str,
    )
    parsed = parse_both(content)
    assert parsed.icalendar["METHOD"] == "PUBLISH"
    assert parsed.events == []


@pytest.mark.parametrize(
    ("markdown", "text"),
    [
        ("**fett** und *kursiv*", "fett und kursiv"),
        ("[Anfahrt](https://example.com/weg)", "Anfahrt (https://example.com/weg)"),
        ("<https://example.com>", "https://example.com"),
        ("1. eins\n2. zwei", "1. eins\n2. zwei"),
        ("# Titel\n\nAbsatz", "Titel\n\nAbsatz"),
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),  # text stays text
        ("", ""),
    ],
)
def test_markdown_becomes_plain_text(markdown: str, text: str) -> None:
    assert ics.markdown_to_text(markdown) == text


def test_the_download_file_name_is_plain() -> None:
    assert ics.ics_filename(make_event()) == "bloggertreffen-montabaur.ics"
    assert ics.ics_filename(make_event(slug="")) == "event.ics"
