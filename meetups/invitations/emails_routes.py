"""An event's e-mails for organizers: the Emails tab (every message and its fate), one message as
it was sent, and the invitation's personal note with a preview of the exact e-mail."""

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import col, select

from meetups.contacts import book
from meetups.contacts.models import Contact
from meetups.contacts.routes import page_number
from meetups.db import utcnow
from meetups.deps import Editor, RowId, SessionDep, SettingsDep, Viewer
from meetups.errors import NotFound, ValidationFailed
from meetups.events.lookup import get_event_by_slug
from meetups.events.models import Event
from meetups.forms import form_data
from meetups.htmx import is_htmx, redirect, render
from meetups.i18n import gettext as _
from meetups.invitations import guest_list, messages, reminders, tracking
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.mail.models import OutboxStatus
from meetups.mail.reading import read_mail, sanitize_html
from meetups.validation import clean_text

router = APIRouter()

MAX_INTRO_LENGTH = 5000
MAX_REMINDER_DAYS = 60
PREVIEW_CHOICES = 200
SAMPLE_PREFIX = "sample-"


def _emails_url(event: Event, **params: str | int) -> str:
    query = {key: str(value) for key, value in params.items() if value and value != 1}
    return f"/events/{event.slug}/emails" + (f"?{urlencode(query)}" if query else "")


@router.get("/events/{slug}/emails")
async def emails(
    request: Request,
    slug: str,
    session: SessionDep,
    organizer: Viewer,
    status: str = "",
    kind: str = "",
    page: str = "1",
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    chosen = tracking.parse_delivery_status(status)
    kind = kind.strip()[:40]
    result = await tracking.event_emails(
        event, session=session, status=chosen, kind=kind, page=page_number(page)
    )
    kind = kind if kind in result.kinds else ""
    filters = {"status": chosen.value if chosen else "", "kind": kind}
    counts = await tracking.delivery_progress(event, session=session)
    context = {
        "event": event,
        "active_tab": "emails",
        "result": result,
        "progress": counts,
        "statuses": list(OutboxStatus),
        "status": filters["status"],
        "kind": kind,
        "status_url": lambda value: _emails_url(event, status=value, kind=kind),
        "list_url": _emails_url(event, **filters, page=result.page),
        "previous_url": _emails_url(event, **filters, page=result.page - 1),
        "next_url": _emails_url(event, **filters, page=result.page + 1),
        "kind_label": messages.kind_label,
        "status_name": _status_name,
        "delivery_label": tracking.delivery_label,
        "delivery_badge": tracking.delivery_badge,
    }
    return render(request, "invitations/emails.html", context, block="emails")


def _status_name(status: OutboxStatus) -> str:
    return {
        OutboxStatus.queued: _("Queued"),
        OutboxStatus.sending: _("Being sent"),
        OutboxStatus.sent: _("Sent"),
        OutboxStatus.failed: _("Failed"),
    }[status]


@router.get("/events/{slug}/emails/{message_id}")
async def email(
    request: Request, slug: str, message_id: RowId, session: SessionDep, organizer: Viewer
) -> Response:
    """One e-mail as it was sent (the stored message: every attempt sends these bytes)."""
    event = await get_event_by_slug(slug, session=session)
    found = await tracking.event_email(event, message_id, session=session)
    if found is None:
        raise NotFound(_("This e-mail does not belong to this event."))
    message, contact = found
    context = {
        "event": event,
        "active_tab": "emails",
        "message": message,
        "contact": contact,
        "readable": read_mail(message.raw),
        "kind_label": messages.kind_label,
        "delivery_label": tracking.delivery_label,
        "delivery_badge": tracking.delivery_badge,
    }
    return render(request, "invitations/email.html", context)


# The invitation: the personal note, the reminder setting, and the exact e-mail as a preview.


def _sample_contact(language: str) -> Contact:
    names = {"de": "Alex Beispiel", "en": "Alex Example"}
    return Contact(
        name=names.get(language, names["en"]), email="alex@example.com", language=language
    )


async def _preview_choices(event: Event, *, session: SessionDep) -> list[tuple[str, str]]:
    """Whom the preview can be shown for: a sample guest in each language, then the guests
    (those not invited yet first)."""
    choices = [
        (
            f"{SAMPLE_PREFIX}{code}",
            _("Sample guest (%(language)s)", language=book.language_label(code)),
        )
        for code in ("de", "en")
    ]
    query = (
        select(Invitee, Contact)
        .join(Contact, col(Contact.id) == Invitee.contact_id)
        .where(Invitee.event_id == event.id, col(Contact.anonymized_at).is_(None))
        .order_by(
            (Invitee.status != InviteeStatus.not_invited),  # type: ignore[arg-type]
            col(Contact.search_key),
        )
        .limit(PREVIEW_CHOICES)
    )
    for invitee, contact in (await session.exec(query)).all():
        label = f"{contact.name} ({book.language_label(contact.language)})"
        choices.append((str(invitee.id), label))
    return choices


async def _preview_contact(
    event: Event, choice: str, *, session: SessionDep
) -> tuple[str, Contact]:
    if choice.startswith(SAMPLE_PREFIX) and choice[len(SAMPLE_PREFIX) :] in ("de", "en"):
        return choice, _sample_contact(choice[len(SAMPLE_PREFIX) :])
    if (number := book.parse_id(choice)) is not None:
        invitee = await session.get(Invitee, number)
        if invitee is not None and invitee.event_id == event.id:
            contact = await session.get(Contact, invitee.contact_id)
            if contact is not None and not contact.is_anonymized:
                return str(invitee.id), contact
    language = event.language if event.language in ("de", "en") else "de"
    return f"{SAMPLE_PREFIX}{language}", _sample_contact(language)


def _parse_settings(data: dict[str, str]) -> tuple[str, int]:
    errors: dict[str, str] = {}
    intro = ""
    try:
        intro = clean_text(data.get("intro"), max_length=MAX_INTRO_LENGTH, multiline=True)
    except ValueError as error:
        errors["intro"] = str(error)
    days_text = (data.get("reminder_days") or "").strip()
    days = 0
    if not days_text:
        days = 0
    elif days_text.isascii() and days_text.isdigit() and len(days_text) <= 3:
        days = int(days_text)
        if days > MAX_REMINDER_DAYS:
            errors["reminder_days"] = _("At most %(max)s days, please.", max=MAX_REMINDER_DAYS)
    else:
        errors["reminder_days"] = _("Please enter a whole number of days (0 for no reminder).")
    if errors:
        raise ValidationFailed(errors)
    return intro, days


async def _invitation_page(
    request: Request,
    event: Event,
    session: SessionDep,
    settings: SettingsDep,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    intro: str | None = None,
    choice: str = "",
    block: str = "invitation",
    status_code: int = 200,
) -> Response:
    chosen, contact = await _preview_contact(event, choice, session=session)
    shown_intro = event.invitation_intro if intro is None else intro
    saved_intro = event.invitation_intro
    # The preview renders the event as it would be with the note being written; the change is
    # only in memory and never committed from here.
    event.invitation_intro = shown_intro
    try:
        preview = messages.render_invitation_preview(event, contact, settings=settings)
    finally:
        event.invitation_intro = saved_intro
    context = {
        "event": event,
        "active_tab": "guests",
        "values": values
        or {
            "intro": event.invitation_intro,
            "reminder_days": str(event.reminder_days_before_deadline),
        },
        "errors": errors or {},
        "preview": preview,
        # Made safe to show inside our page, as the mail pages show e-mails.
        "preview_html": sanitize_html(preview.html),
        "choices": await _preview_choices(event, session=session),
        "choice": chosen,
        "contact": contact,
        "problem": _settings_problem(event),
        "no_answer_due": reminders.no_answer_due_at(event),
    }
    return render(
        request, "invitations/invitation.html", context, block=block, status_code=status_code
    )


def _settings_problem(event: Event) -> str | None:
    if guest_list.is_closed(event):
        return _("This event is closed, so its invitation cannot be changed any more.")
    return None


@router.get("/events/{slug}/invitation")
async def invitation(
    request: Request,
    slug: str,
    session: SessionDep,
    settings: SettingsDep,
    _editor: Editor,
    guest: str = "",
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    block = "preview" if request.headers.get("hx-target") == "preview" else "invitation"
    return await _invitation_page(request, event, session, settings, choice=guest[:20], block=block)


@router.post("/events/{slug}/invitation")
async def save_invitation(
    request: Request, slug: str, session: SessionDep, settings: SettingsDep, _editor: Editor
) -> Response:
    """Saves the personal note and the reminder setting, or (action=preview) only shows the
    e-mail as it would be with them."""
    event = await get_event_by_slug(slug, session=session)
    data = await form_data(request)
    choice = data.get("guest", "")[:20]
    values = {key: data.get(key, "")[: MAX_INTRO_LENGTH * 2] for key in ("intro", "reminder_days")}
    try:
        intro, days = _parse_settings(data)
    except ValidationFailed as error:
        block = "preview" if is_htmx(request) and data.get("action") == "preview" else "invitation"
        return await _invitation_page(
            request,
            event,
            session,
            settings,
            values=values,
            errors=error.errors,
            choice=choice,
            block=block,
            status_code=422,
        )
    if data.get("action") == "preview":
        block = "preview" if is_htmx(request) else "invitation"
        return await _invitation_page(
            request,
            event,
            session,
            settings,
            values=values,
            intro=intro,
            choice=choice,
            block=block,
        )
    if problem := _settings_problem(event):
        return await _invitation_page(
            request,
            event,
            session,
            settings,
            values=values,
            errors={"_form": problem},
            intro=intro,
            choice=choice,
            status_code=422,
        )
    event.invitation_intro = intro
    event.reminder_days_before_deadline = days
    event.updated_at = utcnow()
    session.add(event)
    await session.commit()
    target = f"/events/{event.slug}/invitation" + (
        f"?{urlencode({'guest': choice})}" if choice else ""
    )
    return redirect(request, target, flash=_("The invitation is saved."))
