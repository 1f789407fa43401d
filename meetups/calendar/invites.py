"""A guest's copy of the event: the .ics file for their page, the calendar parts of their
e-mails, and links that open the event in Google Calendar and Outlook.com.

In an e-mail the invitation travels twice (STANDARDS.md, "Calendar files"): as
`text/calendar; method=REQUEST` beside the text and HTML (mail clients show Accept/Add buttons),
and as an `invite.ics` attachment for those that only offer attachments. The MIME `method`
always equals the METHOD inside, or Gmail ignores cancellations.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr
from urllib.parse import urlencode

from meetups.calendar import ics
from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import utcnow
from meetups.events.models import Event, EventStatus
from meetups.i18n import use_locale
from meetups.invitations.links import personal_url
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.mail.compose import Alternative, Attachment

# Web calendars take the details in the address; long descriptions make addresses that some
# browsers and proxies refuse.
MAX_WEB_DESCRIPTION = 1000
GOOGLE_TEMPLATE_URL = "https://calendar.google.com/calendar/render"
OUTLOOK_COMPOSE_URL = "https://outlook.live.com/calendar/0/action/compose"
# Who holds a place and gets the event (and its changes) into their calendar.
CALENDAR_HOLDERS = (InviteeStatus.accepted, InviteeStatus.maybe)


def fallback_organizer_email(settings: Settings) -> str:
    return parseaddr(settings.mail_from)[1] or f"meetups@{settings.site_domain}"


def invitee_ics(
    event: Event,
    invitee: Invitee,
    contact: Contact,
    *,
    settings: Settings,
    method: ics.Method | None = None,
    now: datetime | None = None,
) -> bytes:
    """The guest's copy, in their language, with their answer as PARTSTAT: REQUEST while the
    event is on, CANCEL once it is cancelled."""
    page = personal_url(invitee, settings) or settings.absolute_url("/")
    with use_locale(contact.language):
        return ics.invitation_ics(
            event,
            attendee=ics.Attendee(
                email=contact.email, name=contact.name, status=InviteeStatus(invitee.status)
            ),
            domain=settings.site_domain,
            url=page,
            stamp=(now or utcnow()).astimezone(UTC),
            organizer=ics.organizer_of(event, fallback_organizer_email(settings)),
            description=ics.invitee_description(event, page),
            alarm_text=ics.alarm_text(event),
            method=method,
        )


@dataclass(frozen=True)
class CalendarParts:
    """What an e-mail carries of the calendar: pass to queue_email(alternatives=, attachments=)."""

    alternatives: tuple[Alternative, ...]
    attachments: tuple[Attachment, ...]


def calendar_parts(
    event: Event,
    invitee: Invitee,
    contact: Contact,
    *,
    settings: Settings,
    method: ics.Method | None = None,
    now: datetime | None = None,
) -> CalendarParts:
    """The invitation (or cancellation) as an alternative part and as an attachment."""
    if method is None:
        method = ics.Method.cancel if event.status == EventStatus.cancelled else ics.Method.request
    content = invitee_ics(event, invitee, contact, settings=settings, method=method, now=now)
    return CalendarParts(
        alternatives=(
            Alternative(content.decode("utf-8"), "text/calendar", {"method": method.value}),
        ),
        attachments=(
            # As Google's own invitations do: the file is application/ics, so that clients that
            # act on text/calendar do not see the invitation twice.
            Attachment("invite.ics", content, "application/ics"),
        ),
    )


@dataclass(frozen=True)
class WebCalendarLinks:
    google: str
    outlook: str


def _utc_compact(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def web_calendar_links(event: Event) -> WebCalendarLinks:
    """Links that open a new entry in Google Calendar or Outlook.com with the event filled in.
    They carry the title, times, place and description, never the personal link: an address
    given to another site must not be a key to the guest's page."""
    details = ics.markdown_to_text(event.description)
    if len(details) > MAX_WEB_DESCRIPTION:
        details = details[: MAX_WEB_DESCRIPTION - 1].rstrip() + "…"
    title = " ".join(event.title.split())
    location = ics.location_of(event)
    google = {
        "action": "TEMPLATE",
        "text": title,
        "dates": f"{_utc_compact(event.starts_at)}/{_utc_compact(event.ends_at)}",
        "ctz": event.timezone,
        "details": details,
        "location": location,
    }
    outlook = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": title,
        "startdt": _utc_iso(event.starts_at),
        "enddt": _utc_iso(event.ends_at),
        "body": details,
        "location": location,
    }
    return WebCalendarLinks(
        google=f"{GOOGLE_TEMPLATE_URL}?{urlencode({k: v for k, v in google.items() if v})}",
        outlook=f"{OUTLOOK_COMPOSE_URL}?{urlencode({k: v for k, v in outlook.items() if v})}",
    )


def guest_page_context(event: Event, invitee: Invitee, settings: Settings) -> dict[str, object]:
    """What the guest's page needs for "Add to calendar" and the check-in QR code."""
    from meetups.checkin.codes import checkin_code

    holds_place = InviteeStatus(invitee.status) in CALENDAR_HOLDERS
    active = event.status == EventStatus.published and event.archived_at is None
    accepted = invitee.status == InviteeStatus.accepted and active and invitee.id is not None
    return {
        "add_to_calendar": web_calendar_links(event) if holds_place and active else None,
        "checkin_code": (
            checkin_code(event.id or 0, invitee.id or 0, settings.secret) if accepted else None
        ),
    }


@dataclass(frozen=True)
class GuestEmailParts:
    """What an e-mail to a guest carries beside its text: the calendar entry, the check-in QR
    code, and the template variables that mention them."""

    alternatives: tuple[Alternative, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    checkin_code: str | None = None
    calendar_method: str | None = None  # "REQUEST" or "CANCEL" when the entry is attached

    @property
    def context(self) -> dict[str, object]:
        return {
            "checkin_code": self.checkin_code,
            "calendar_attached": self.calendar_method is not None,
            "calendar_cancelled": self.calendar_method == ics.Method.cancel.value,
        }


def guest_email_parts(
    event: Event,
    invitee: Invitee,
    contact: Contact,
    *,
    settings: Settings,
    calendar: bool = False,
    checkin: bool = False,
    withdraw: bool = False,
    now: datetime | None = None,
) -> GuestEmailParts:
    """The parts for one e-mail. `calendar`: the entry (REQUEST, or CANCEL for a cancelled event)
    for guests who accepted or said maybe, who hold it in their calendar. `checkin`: the QR code
    as a PNG for guests who accepted, while the event is on."""
    from meetups.checkin.codes import checkin_code, checkin_url, qr_png

    alternatives: list[Alternative] = []
    attachments: list[Attachment] = []
    method: ics.Method | None = None
    status = InviteeStatus(invitee.status)
    if calendar and withdraw and event.status != EventStatus.draft:
        # They held the entry and no longer come: take it out of their calendar.
        method = ics.Method.cancel
        parts = calendar_parts(event, invitee, contact, settings=settings, method=method, now=now)
        alternatives.extend(parts.alternatives)
        attachments.extend(parts.attachments)
    elif calendar and status in CALENDAR_HOLDERS and event.status != EventStatus.draft:
        method = ics.Method.cancel if event.status == EventStatus.cancelled else ics.Method.request
        parts = calendar_parts(event, invitee, contact, settings=settings, method=method, now=now)
        alternatives.extend(parts.alternatives)
        attachments.extend(parts.attachments)
    code = None
    if (
        checkin
        and status == InviteeStatus.accepted
        and event.status == EventStatus.published
        and invitee.id is not None
    ):
        code = checkin_code(event.id or 0, invitee.id, settings.secret)
        attachments.append(
            Attachment("check-in-code.png", qr_png(checkin_url(code, settings)), "image/png")
        )
    return GuestEmailParts(
        alternatives=tuple(alternatives),
        attachments=tuple(attachments),
        checkin_code=code,
        calendar_method=method.value if method else None,
    )
