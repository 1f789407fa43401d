"""Reading calendar files back, with icalendar and with an independent parser (vobject), so that
a file is judged by more than the library that wrote it."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import icalendar
import vobject


@dataclass
class Parsed:
    """The same file as both parsers see it."""

    raw: bytes
    icalendar: icalendar.Calendar
    vobject: Any

    @property
    def events(self) -> list[icalendar.Event]:
        return list(self.icalendar.walk("VEVENT"))

    @property
    def event(self) -> icalendar.Event:
        (event,) = self.events
        return event

    @property
    def vevents(self) -> list[Any]:
        return list(self.vobject.vevent_list)


def parse_both(raw: bytes | str) -> Parsed:
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    check_wire_format(data)
    calendar = icalendar.Calendar.from_ical(data)
    independent = vobject.readOne(data.decode("utf-8"))
    return Parsed(data, calendar, independent)


def check_wire_format(data: bytes) -> None:
    """CRLF line ends only, every line at most 75 octets, folds never inside a UTF-8 character."""
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b""), "a bare LF"
    assert b"\r" not in data.replace(b"\r\n", b""), "a bare CR"
    for line in data.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")  # a fold in the middle of a character would not decode


def utc(value: Any) -> datetime:
    assert isinstance(value, datetime), value
    assert value.tzinfo is not None, value
    return value.astimezone(UTC)


def vtimezone_ids(parsed: Parsed) -> set[str]:
    return {str(zone["TZID"]) for zone in parsed.icalendar.walk("VTIMEZONE")}
