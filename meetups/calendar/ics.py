"""The event as an iCalendar file (RFC 5545, with the scheduling methods of RFC 5546).

Pure functions over icalendar 7: they take the event and what else goes into the file, and
return bytes (UTF-8, CRLF line ends, lines folded at 75 octets). Nothing here reads the database
or the clock; the callers pass the time stamp.

One event has one UID for its whole life (`meetups-event-{id}@{site domain}`), and SEQUENCE is the
event's own counter, raised by every change of time or place and by its cancellation. So an
update replaces the entry in a calendar, and a cancellation removes it.

- REQUEST: the invitation for one guest (their ATTENDEE with PARTSTAT); mail clients show it with
  buttons. Their replies go to ORGANIZER, the event's contact e-mail, where a person reads them.
- CANCEL: the same entry, STATUS:CANCELLED, for a guest who has it in their calendar.
- PUBLISH: the organizers' subscription feed, many events and no attendees (RFC 5546 forbids
  them in PUBLISH, and the feed should not carry guests' addresses anyway).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import icalendar

from meetups.events.models import Event, EventStatus
from meetups.i18n import gettext as _
from meetups.invitations.models import InviteeStatus
from meetups.markdown import render_markdown

PRODID = "-//meetups//meetups event calendar 1.0//EN"
ALARM_BEFORE = timedelta(days=1)
# The VTIMEZONE covers this much around the events (icalendar writes each change of offset).
ZONE_MARGIN = timedelta(days=400)
FEED_REFRESH = timedelta(hours=1)


class Method(StrEnum):
    request = "REQUEST"
    cancel = "CANCEL"
    publish = "PUBLISH"


PARTSTATS: dict[InviteeStatus, str] = {
    InviteeStatus.accepted: "ACCEPTED",
    InviteeStatus.maybe: "TENTATIVE",
    InviteeStatus.declined: "DECLINED",
}


def partstat_for(status: InviteeStatus | str) -> str:
    """The invitee's answer as PARTSTAT; everyone who has not said yes, maybe or no (invited,
    waitlisted) NEEDS-ACTION."""
    try:
        return PARTSTATS.get(InviteeStatus(status), "NEEDS-ACTION")
    except ValueError:
        return "NEEDS-ACTION"


def event_uid(event_id: int, domain: str) -> str:
    return f"meetups-event-{event_id}@{domain}"


@dataclass(frozen=True)
class Attendee:
    """One guest as they appear in their copy of the invitation."""

    email: str
    name: str
    status: InviteeStatus

    @property
    def partstat(self) -> str:
        return partstat_for(self.status)

    @property
    def rsvp(self) -> bool:
        # Someone who answered on their page need not be asked again by their mail client (whose
        # replies would go to the organizer's mailbox, not to their invitation page).
        return self.partstat == "NEEDS-ACTION"


@dataclass(frozen=True)
class Organizer:
    """Who sends the invitation and receives calendar replies: the event's contact."""

    email: str
    name: str = ""


def organizer_of(event: Event, fallback_email: str) -> Organizer:
    """The event's contact, or `fallback_email` (the sender of our mail) where it has none."""
    email = event.contact_email.strip() or fallback_email
    return Organizer(email=email, name=event.contact_name.strip())


def location_of(event: Event) -> str:
    return ", ".join(part for part in (_one_line(event.venue), _one_line(event.address)) if part)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _param_text(text: str) -> str | None:
    """A name as a parameter value (CN=...). A parameter cannot hold a double quote; RFC 6868's
    escapes for it (^') are shown literally by many calendars, so it becomes an apostrophe."""
    cleaned = _one_line(text).replace('"', "'").replace("^", "'")
    return cleaned or None


def _mailto(email: str) -> str:
    return "mailto:" + email.strip()


def _zone(event: Event) -> ZoneInfo:
    try:
        return ZoneInfo(event.timezone)
    except (ValueError, KeyError):  # validated when saved; a broken row still gets a file
        return ZoneInfo("UTC")


def _unambiguous(moment: datetime, zone: ZoneInfo) -> bool:
    """Whether the local wall time names this moment alone. In the hour that repeats when the
    clocks go back (02:30 twice in Berlin), a local time means the first one (RFC 5545 3.3.5),
    so the second can only be written in UTC."""
    local = moment.astimezone(zone).replace(tzinfo=None)
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC) == moment.astimezone(UTC)


def _times(event: Event, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """DTSTART and DTEND: in the event's zone (with TZID, so calendars show the organizer's
    local time and follow the zone's rules), or both in UTC where a local time would be
    ambiguous."""
    start, end = event.starts_at, event.ends_at
    if _unambiguous(start, zone) and _unambiguous(end, zone):
        return start.astimezone(zone), end.astimezone(zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def event_component(
    event: Event,
    *,
    domain: str,
    url: str,
    stamp: datetime,
    organizer: Organizer,
    description: str,
    attendee: Attendee | None = None,
    alarm_text: str | None = None,
) -> icalendar.Event:
    """The VEVENT of `event`; `description` is plain text, `url` where the reader finds more."""
    start, end = _times(event, _zone(event))
    status = "CANCELLED" if event.status == EventStatus.cancelled else "CONFIRMED"
    component = icalendar.Event.new(
        uid=event_uid(event.id or 0, domain),
        stamp=stamp,
        start=start,
        end=end,
        summary=_one_line(event.title),
        description=description or None,
        location=location_of(event) or None,
        url=url,
        organizer=icalendar.vCalAddress.new(
            _mailto(organizer.email), cn=_param_text(organizer.name)
        ),
        attendees=(
            [
                icalendar.vCalAddress.new(
                    _mailto(attendee.email),
                    cn=_param_text(attendee.name),
                    cutype="INDIVIDUAL",
                    role="REQ-PARTICIPANT",
                    partstat=attendee.partstat,
                    rsvp=attendee.rsvp,
                )
            ]
            if attendee
            else None
        ),
        sequence=event.sequence,
        status=status,
        created=event.created_at,
        last_modified=event.updated_at,
    )
    component.add("TRANSP", "TRANSPARENT" if status == "CANCELLED" else "OPAQUE")
    if alarm_text and status != "CANCELLED":
        alarm = icalendar.Alarm.new(description=alarm_text)
        alarm.add("ACTION", "DISPLAY")
        alarm.add("TRIGGER", -ALARM_BEFORE)
        component.add_component(alarm)
    return component


def _calendar(
    components: list[icalendar.Event], *, method: Method, **properties: object
) -> icalendar.Calendar:
    calendar = icalendar.Calendar.new(
        prodid=PRODID, method=method.value, subcomponents=components, **properties
    )
    # Calendar.new() gives the calendar itself a random UID (RFC 7986); the file should be the
    # same every time it is made from the same event, so it goes again.
    calendar.pop("UID", None)
    if components:
        starts = [c.start for c in components if isinstance(c.start, datetime)]
        ends = [c.end for c in components if isinstance(c.end, datetime)]
        first = min(starts) - ZONE_MARGIN
        last = max(ends) + ZONE_MARGIN
        # Every TZID needs its VTIMEZONE, or Outlook shows the event an hour off (or refuses it).
        calendar.add_missing_timezones(first_date=first.date(), last_date=last.date())
    return calendar


def _to_bytes(calendar: icalendar.Calendar) -> bytes:
    return calendar.to_ical()


def invitation_ics(
    event: Event,
    *,
    attendee: Attendee,
    domain: str,
    url: str,
    stamp: datetime,
    organizer: Organizer,
    description: str,
    alarm_text: str,
    method: Method | None = None,
) -> bytes:
    """One guest's copy of the event: REQUEST, or CANCEL once the event is cancelled."""
    if method is None:
        method = Method.cancel if event.status == EventStatus.cancelled else Method.request
    if method == Method.publish:
        raise ValueError("an invitation is a REQUEST or a CANCEL; PUBLISH is for feeds")
    component = event_component(
        event,
        domain=domain,
        url=url,
        stamp=stamp,
        organizer=organizer,
        description=description,
        attendee=attendee,
        alarm_text=alarm_text,
    )
    if method == Method.cancel:
        component["STATUS"] = "CANCELLED"
    return _to_bytes(_calendar([component], method=method))


def feed_ics(
    events: Iterable[Event],
    *,
    domain: str,
    name: str,
    stamp: datetime,
    url_of: Callable[[Event], str],
    organizer_of: Callable[[Event], Organizer],
    description_of: Callable[[Event], str],
) -> bytes:
    """The subscription feed: every given event, PUBLISH, without attendees or alarms (whoever
    subscribes sets their own)."""
    components = [
        event_component(
            event,
            domain=domain,
            url=url_of(event),
            stamp=stamp,
            organizer=organizer_of(event),
            description=description_of(event),
        )
        for event in events
    ]
    calendar = _calendar(
        components,
        method=Method.publish,
        name=name,
        refresh_interval=FEED_REFRESH,
    )
    # REFRESH-INTERVAL's older name, which Outlook and Apple Calendar read.
    calendar.add("X-PUBLISHED-TTL", FEED_REFRESH)
    return _to_bytes(calendar)


def ics_filename(event: Event) -> str:
    """A plain file name for the download: the slug, which is ASCII by construction."""
    slug = event.slug or "event"
    stem = "".join(ch for ch in slug if ch.isascii() and (ch.isalnum() or ch in "-_"))
    return f"{stem or 'event'}.ics"


# Plain text from the organizers' Markdown: calendars show DESCRIPTION as text.


class _TextFromHtml(HTMLParser):
    BLOCKS = frozenset(
        {"p", "div", "ul", "ol", "blockquote", "pre", "table", "h1", "h2", "h3", "h4", "h5", "h6"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str | None] = []
        self.link_text: list[str] = []
        self.ordered: list[int | None] = []

    def _newlines(self, count: int) -> None:
        text = "".join(self.parts).rstrip(" ")
        trailing = len(text) - len(text.rstrip("\n"))
        self.parts = [text]
        if text and trailing < count:
            self.parts.append("\n" * (count - trailing))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self._newlines(2)
        if tag == "ol":
            self.ordered.append(int(dict(attrs).get("start") or 1))
        elif tag == "ul":
            self.ordered.append(None)
        elif tag == "li":
            self._newlines(1)
            number = self.ordered[-1] if self.ordered else None
            if number is None:
                self.parts.append("- ")
            else:
                self.parts.append(f"{number}. ")
                self.ordered[-1] = number + 1
        elif tag == "br":
            self._newlines(1)
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag == "tr":
            self._newlines(1)
        elif tag == "hr":
            self._newlines(2)
        elif tag == "a":
            self.links.append(dict(attrs).get("href"))
            self.link_text.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ol", "ul") and self.ordered:
            self.ordered.pop()
        if tag in self.BLOCKS:
            self._newlines(2)
        elif tag == "a" and self.links:
            href = self.links.pop()
            text = self.link_text.pop()
            if href and href.removeprefix("mailto:") != text.strip():
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if self.link_text:
            self.link_text[-1] += data
        self.parts.append(data)


def markdown_to_text(markdown: str) -> str:
    """The description as a person would read it without formatting: paragraphs, list items
    with "- ", links with their address in brackets."""
    parser = _TextFromHtml()
    parser.feed(str(render_markdown(markdown)))
    parser.close()
    lines = [line.rstrip() for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines).strip()
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text


def invitee_description(event: Event, page_url: str) -> str:
    """DESCRIPTION of a guest's copy: the description, and where their invitation page is."""
    parts = [markdown_to_text(event.description)]
    parts.append(_("Your invitation page (answer, details, directions): %(url)s", url=page_url))
    return "\n\n".join(part for part in parts if part)


def alarm_text(event: Event) -> str:
    return _("Tomorrow: %(title)s", title=_one_line(event.title))
