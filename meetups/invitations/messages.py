"""The e-mails an invitee receives: rendered from `emails/` in the invitee's language and queued
in the caller's transaction (meetups.mail.outbox). Each kind has three templates:
`<kind>.subject.txt`, `<kind>.txt` (plain text) and `<kind>.html`; the wording is English source
text in `_()`, translated through the same catalog as the pages.

Every message carries the personal link (but the notice of being taken off the guest list, whose
link stops working), Reply-To the event's contact, and no tracking of any kind. Invitations and
no-answer reminders carry List-Unsubscribe with one-click POST (RFC 8058).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote_plus
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups import EMAILS_DIR, i18n
from meetups.calendar.invites import CALENDAR_HOLDERS, guest_email_parts
from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import utcnow
from meetups.events.models import Event
from meetups.i18n import gettext as _
from meetups.invitations.links import personal_url
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.invitations.unsubscribe import unsubscribe_url
from meetups.mail.compose import Alternative, Attachment, one_line
from meetups.mail.models import OutboxMessage
from meetups.mail.outbox import queue_email
from meetups.markdown import render_markdown

ReminderKind = Literal["no_answer", "day_before"]

# The `kind` of each outbox row, and how organizers read it (the Emails tab, the guest list).
KIND_INVITATION = "invitation"
KIND_REMINDER_NO_ANSWER = "reminder_no_answer"
KIND_REMINDER_DAY_BEFORE = "reminder_day_before"
KIND_CONFIRMATION = {
    InviteeStatus.accepted: "confirmation_accepted",
    InviteeStatus.declined: "confirmation_declined",
    InviteeStatus.maybe: "confirmation_maybe",
    InviteeStatus.waitlisted: "confirmation_waitlisted",
}
KIND_PROMOTION = "promotion"
KIND_EVENT_UPDATE = "event_update"
KIND_CANCELLATION = "cancellation"
KIND_REMOVAL = "removal"
# Shown in the preview instead of a real personal link (the person may have none yet).
PREVIEW_LINK_PATH = "/i/personal-link-of-the-guest"
PREVIEW_UNSUBSCRIBE_PATH = "/unsubscribe/personal-link-of-the-guest"


def kind_label(kind: str) -> str:
    """The kind of an outbox row as organizers read it."""
    labels = {
        KIND_INVITATION: _("Invitation"),
        KIND_REMINDER_NO_ANSWER: _("Reminder to answer"),
        KIND_REMINDER_DAY_BEFORE: _("Reminder the day before"),
        KIND_CONFIRMATION[InviteeStatus.accepted]: _("Confirmation: accepted"),
        KIND_CONFIRMATION[InviteeStatus.declined]: _("Confirmation: declined"),
        KIND_CONFIRMATION[InviteeStatus.maybe]: _("Confirmation: maybe"),
        KIND_CONFIRMATION[InviteeStatus.waitlisted]: _("Confirmation: waitlist"),
        KIND_PROMOTION: _("Moved up from the waitlist"),
        KIND_EVENT_UPDATE: _("Event update"),
        KIND_CANCELLATION: _("Cancellation"),
        KIND_REMOVAL: _("Taken off the guest list"),
        # Sent by meetups.feedback.requests.
        "feedback_request": _("Feedback request"),
        "feedback_reminder": _("Feedback reminder"),
    }
    if kind in labels:
        return labels[kind]
    # Imported here: the travel e-mails build on this module.
    from meetups.travel.messages import kind_label as travel_kind_label

    return travel_kind_label(kind) or kind


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


_env = Environment(
    loader=FileSystemLoader(str(EMAILS_DIR)),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_env.install_gettext_callables(  # type: ignore[attr-defined]
    lambda message, **kw: i18n.gettext(message, **kw),
    lambda singular, plural, n, **kw: i18n.ngettext(singular, plural, n, **kw),
    newstyle=True,
)
_env.filters.update(
    markdown=render_markdown,
    datetime=i18n.format_datetime,
    date=i18n.format_date,
    time=i18n.format_time,
)
_env.globals.update(event_span=i18n.format_event_span)


def map_url(event: Event) -> str | None:
    """An OpenStreetMap search for the place: a plain link, nothing loaded from elsewhere."""
    query = ", ".join(part for part in (event.venue.strip(), event.address.strip()) if part)
    if not event.address.strip():
        return None
    return "https://www.openstreetmap.org/search?query=" + quote_plus(" ".join(query.split()))


def moment_text(moment: datetime, zone: str) -> str:
    """A moment in the event's zone as people write it: "30. April 2026, 14:00 MESZ"."""
    local = moment.astimezone(ZoneInfo(zone))
    locale = i18n.current_locale()
    day = babel_dates.format_date(local, "long", locale=locale)
    hours = babel_dates.format_skeleton("Hm", local, locale=locale)
    return f"{day}, {hours} {i18n.zone_abbreviation(moment, zone)}"


def answers_close_at(event: Event) -> str:
    """The RSVP deadline in the event's zone, or '' without one."""
    if event.rsvp_deadline is None:
        return ""
    return moment_text(event.rsvp_deadline, event.timezone)


def answers_open(event: Event) -> bool:
    # Imported here: rsvp queues these messages, so it imports this module.
    from meetups.invitations.rsvp import closed_reason

    return closed_reason(event, utcnow()) is None


def _travel_policy(event: Event) -> str:
    """The event's travel policy in plain words ("" when it pays no travel costs)."""
    # Imported here: the travel policy asks check-in who came, which uses this module.
    from meetups.travel.policy import policy_text

    return policy_text(event)


def render_email(kind: str, language: str, context: Mapping[str, Any]) -> RenderedEmail:
    """Renders `emails/<kind>.*` in `language`."""
    with i18n.use_locale(language):
        values = {"language": i18n.current_locale(), **context}
        if isinstance(context.get("event"), Event):
            # Dates are words: they must be written in the letter's language, not the caller's.
            values["deadline"] = answers_close_at(context["event"])
            values["travel_policy"] = _travel_policy(context["event"])
        subject = one_line(_env.get_template(f"{kind}.subject.txt").render(values))
        values["subject"] = subject
        text = _env.get_template(f"{kind}.txt").render(values)
        html = _env.get_template(f"{kind}.html").render(values)
    return RenderedEmail(subject=subject, text=_tidy_text(text), html=html)


def _tidy_text(text: str) -> str:
    """No trailing spaces (but the signature separator's), at most one empty line in a row."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    lines = ["-- " if line == "--" else line for line in lines]
    tidy: list[str] = []
    for line in lines:
        if line or (tidy and tidy[-1]):
            tidy.append(line)
    return "\n".join(tidy) + "\n"


def _context(
    event: Event,
    contact: Contact,
    *,
    link: str,
    invitee: Invitee | None = None,
    unsubscribe_url: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    places = [part for part in (event.venue.strip(), event.address.strip()) if part]
    return {
        "name": contact.name,
        "event": event,
        "places": places,
        "map_url": map_url(event),
        "link": link,
        "unsubscribe_url": unsubscribe_url,
        "deadline": answers_close_at(event),
        "can_change": answers_open(event),
        "plus_one": (invitee.plus_one_name if invitee and event.plus_ones_allowed else ""),
        "intro": event.invitation_intro.strip(),
        "organizer_name": event.contact_name.strip(),
        "organizer_email": event.contact_email.strip(),
        **extra,
    }


def _link(invitee: Invitee, settings: Settings) -> str:
    url = personal_url(invitee, settings)
    if url is None:
        raise ValueError("this invitee has no personal link yet: issue one first (issue_link)")
    return url


def _queue(
    kind: str,
    template: str,
    invitee: Invitee,
    contact: Contact,
    event: Event,
    *,
    session: AsyncSession,
    settings: Settings,
    unsubscribe: bool = False,
    calendar: bool = False,
    checkin: bool = False,
    withdraw_calendar: bool = False,
    **extra: Any,
) -> OutboxMessage:
    unsubscribe_link = unsubscribe_url(contact, settings) if unsubscribe else None
    # The calendar entry (REQUEST, or CANCEL) and the check-in QR code, where they apply.
    parts = guest_email_parts(
        event,
        invitee,
        contact,
        settings=settings,
        calendar=calendar,
        checkin=checkin,
        withdraw=withdraw_calendar,
    )
    context = _context(
        event,
        contact,
        link=_link(invitee, settings),
        invitee=invitee,
        unsubscribe_url=unsubscribe_link,
        **parts.context,
        **extra,
    )
    return _queue_rendered(
        kind,
        render_email(template, contact.language, context),
        contact,
        event,
        invitee_id=invitee.id,
        session=session,
        settings=settings,
        unsubscribe_url=unsubscribe_link,
        alternatives=parts.alternatives,
        attachments=parts.attachments,
    )


def _queue_rendered(
    kind: str,
    rendered: RenderedEmail,
    contact: Contact,
    event: Event,
    *,
    invitee_id: int | None,
    session: AsyncSession,
    settings: Settings,
    unsubscribe_url: str | None = None,
    alternatives: Sequence[Alternative] = (),
    attachments: Sequence[Attachment] = (),
) -> OutboxMessage:
    """The outbox row of a rendered e-mail to a guest: Reply-To the event's contact."""
    return queue_email(
        session=session,
        settings=settings,
        to=contact.email,
        to_name=contact.name,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        kind=kind,
        reply_to=event.contact_email.strip() or None,
        reply_to_name=event.contact_name,
        event_id=event.id,
        invitee_id=invitee_id,
        unsubscribe_url=unsubscribe_url,
        alternatives=alternatives,
        attachments=attachments,
    )


def queue_invitation(
    invitee: Invitee, contact: Contact, event: Event, *, session: AsyncSession, settings: Settings
) -> OutboxMessage:
    """The invitation with the personal link (issue the link first), with List-Unsubscribe."""
    return _queue(
        KIND_INVITATION,
        "invitation",
        invitee,
        contact,
        event,
        session=session,
        settings=settings,
        unsubscribe=True,
    )


def queue_reminder(
    invitee: Invitee,
    contact: Contact,
    event: Event,
    kind: ReminderKind,
    *,
    session: AsyncSession,
    settings: Settings,
) -> OutboxMessage:
    """`no_answer`: please reply; `day_before`: see you tomorrow, with directions. Both carry
    List-Unsubscribe, as invitations do. Record the SentReminder in the same transaction."""
    if kind == "no_answer":
        return _queue(
            KIND_REMINDER_NO_ANSWER,
            "reminder_no_answer",
            invitee,
            contact,
            event,
            session=session,
            settings=settings,
            unsubscribe=True,
        )
    if kind == "day_before":
        return _queue(
            KIND_REMINDER_DAY_BEFORE,
            "reminder_day_before",
            invitee,
            contact,
            event,
            session=session,
            settings=settings,
            unsubscribe=True,
            checkin=True,
        )
    raise ValueError(f"no such reminder: {kind!r}")


def queue_answer_confirmation(
    invitee: Invitee,
    contact: Contact,
    event: Event,
    *,
    session: AsyncSession,
    settings: Settings,
    position: int | None = None,
    withdraw_calendar: bool = False,
) -> OutboxMessage:
    """Confirms the invitee's current answer (accepted, declined, maybe or waitlisted, with the
    waitlist `position` when known). `withdraw_calendar`: they held the calendar entry (accepted
    or maybe before) and now decline, so the message carries a CANCEL that removes it."""
    status = InviteeStatus(invitee.status)
    if status not in KIND_CONFIRMATION:
        raise ValueError(f"no confirmation for an invitee who is {status.value}")
    return _queue(
        KIND_CONFIRMATION[status],
        f"confirmation_{status.value}",
        invitee,
        contact,
        event,
        session=session,
        settings=settings,
        position=position if status == InviteeStatus.waitlisted else None,
        calendar=True,  # accepted and maybe: the entry for their calendar
        checkin=True,  # accepted: the check-in QR code
        withdraw_calendar=withdraw_calendar and status == InviteeStatus.declined,
    )


def queue_promotion(
    invitee: Invitee, contact: Contact, event: Event, *, session: AsyncSession, settings: Settings
) -> OutboxMessage:
    """A place became free and is now theirs."""
    return _queue(
        KIND_PROMOTION,
        "promotion",
        invitee,
        contact,
        event,
        session=session,
        settings=settings,
        calendar=True,
        checkin=True,
    )


def queue_event_update(
    invitee: Invitee, contact: Contact, event: Event, *, session: AsyncSession, settings: Settings
) -> OutboxMessage:
    """The event changed (time, place): the current details, and the updated calendar entry
    (same UID, higher SEQUENCE) that moves the one in their calendar."""
    return _queue(
        KIND_EVENT_UPDATE,
        "event_update",
        invitee,
        contact,
        event,
        session=session,
        settings=settings,
        calendar=True,
    )


def queue_cancellation(
    invitee: Invitee, contact: Contact, event: Event, *, session: AsyncSession, settings: Settings
) -> OutboxMessage:
    """The event is cancelled. Those who accepted or said maybe get METHOD:CANCEL with it, which
    removes the entry from their calendar; the others a plain notice."""
    return _queue(
        KIND_CANCELLATION,
        "cancellation",
        invitee,
        contact,
        event,
        session=session,
        settings=settings,
        calendar=True,
    )


# Who expected to come, or to be told about a place: the notice mentions their plus-one.
_EXPECTED_TO_COME = (InviteeStatus.accepted, InviteeStatus.maybe, InviteeStatus.waitlisted)


def queue_removal(
    invitee: Invitee,
    contact: Contact,
    event: Event,
    *,
    note: str,
    session: AsyncSession,
    settings: Settings,
) -> OutboxMessage:
    """Tells someone that they are no longer on the guest list, with the organizer's `note`
    (plain text, may be empty). Call before deleting `invitee`: its status says what to mention.

    The outbox row points at the event but not at the invitee, whose row is deleted in the same
    transaction (the foreign key would be set to NULL anyway); the Emails tab names the recipient
    from the row itself. No personal link and no calendar file: both would carry the link, which
    stops working."""
    status = InviteeStatus(invitee.status)
    expected = status in _EXPECTED_TO_COME
    context = {
        "name": contact.name,
        "event": event,
        "note": note,
        "plus_one": invitee.plus_one_name if expected and event.plus_ones_allowed else "",
        "held_calendar_entry": status in CALENDAR_HOLDERS,
        "organizer_name": event.contact_name.strip(),
    }
    return _queue_rendered(
        KIND_REMOVAL,
        render_email("removal", contact.language, context),
        contact,
        event,
        invitee_id=None,
        session=session,
        settings=settings,
    )


def render_invitation_preview(
    event: Event, contact: Contact, *, settings: Settings
) -> RenderedEmail:
    """The invitation exactly as `contact` would get it, with a stand-in for their personal link
    (it is made when the invitation is sent)."""
    context = _context(
        event,
        contact,
        link=settings.absolute_url(PREVIEW_LINK_PATH),
        unsubscribe_url=settings.absolute_url(PREVIEW_UNSUBSCRIBE_PATH),
    )
    return render_email("invitation", contact.language, context)
