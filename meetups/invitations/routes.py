"""An event's guest list: the list with its filters, adding people (picked, by tag, a new
person, a CSV import) and taking them off."""

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups.contacts import book
from meetups.contacts.csv_import import (
    CsvFileError,
    ImportResult,
    apply_import,
    pack_upload,
    plan_import,
)
from meetups.contacts.models import Contact
from meetups.contacts.routes import (
    can_edit,
    import_page_context,
    import_summary,
    language_options,
    page_number,
    read_confirmation,
    read_upload,
)
from meetups.deps import Editor, SessionDep, SettingsDep, Viewer
from meetups.errors import DomainError, ValidationFailed
from meetups.events.lookup import get_event_by_slug
from meetups.events.models import Event
from meetups.forms import form_data, form_list, is_checked
from meetups.htmx import is_htmx, redirect, render
from meetups.i18n import gettext as _
from meetups.i18n import ngettext
from meetups.invitations import (
    attendee_routes,
    emails_routes,
    guest_list,
    messages,
    reminders,
    sending,
    tracking,
    waitlist,
)
from meetups.invitations.unsubscribe import reason_label
from meetups.mail.background import wake_worker

router = APIRouter()
PICKER_SIZE = 50


def _guests_url(event: Event, **params: str | int) -> str:
    query = {key: str(value) for key, value in params.items() if value and value != 1}
    return f"/events/{event.slug}/guests" + (f"?{urlencode(query)}" if query else "")


def _guest_url(event: Event, invitee_id: int | None) -> str:
    return f"/events/{event.slug}/guests/{invitee_id}"


# htmx asks for one block of the guest list page by naming the element it swaps.
_BLOCKS_BY_TARGET = {
    "picker-results": "picker",
    "guest-stats": "stats",
    "guests": "guests",
}


async def _guests_page(
    request: Request,
    event: Event,
    session: SessionDep,
    organizer: Any,
    *,
    q: str = "",
    status: str = "",
    page: str = "1",
    pick: str = "",
    new_values: dict[str, str] | None = None,
    new_errors: dict[str, str] | None = None,
    tag_error: str | None = None,
    pick_error: str | None = None,
    action_error: str | None = None,
    block: str = "guests",
    status_code: int = 200,
) -> Response:
    chosen = tracking.parse_filter(status)
    query = book.clean_query(q)
    result = await guest_list.list_guests(
        event, session=session, status=chosen, query=query, page=page_number(page)
    )
    counts = await tracking.guest_list_counts(event, session=session)
    progress = await tracking.delivery_progress(event, session=session)
    page_ids = [guest.invitee.id for guest in result.guests if guest.invitee.id]
    pick_query = book.clean_query(pick)
    candidates = await book.search_contacts(
        session=session,
        query=pick_query,
        not_on_event=event.id,
        page_size=PICKER_SIZE,
    )
    filters = {"q": query, "status": chosen.value if chosen else ""}
    editable = can_edit(organizer)
    context = {
        "event": event,
        "active_tab": "guests",
        "result": result,
        "counts": counts,
        "guest_filters": list(tracking.GuestFilter),
        "status": chosen.value if chosen else "",
        "query": query,
        "status_url": lambda value: _guests_url(event, q=query, status=value),
        "list_url": _guests_url(event, **filters, page=result.page),
        "previous_url": _guests_url(event, **filters, page=result.page - 1),
        "next_url": _guests_url(event, **filters, page=result.page + 1),
        "status_label": guest_list.status_label,
        "status_badge": guest_list.status_badge,
        "language_label": book.language_label,
        "latest": await tracking.latest_messages(page_ids, session=session),
        "suppressed": await sending.suppressions_for(
            [guest.contact.email for guest in result.guests], session=session
        ),
        "positions": await _waitlist_positions(event, session=session),
        "progress": progress,
        "kind_label": messages.kind_label,
        "delivery_label": tracking.delivery_label,
        "delivery_badge": tracking.delivery_badge,
        "reason_label": reason_label,
        "invite_problem": sending.invitation_problem(event),
        "remind_problem": reminders.reminder_problem(event),
        "invitable": await tracking.invitable_count(event, session=session) if editable else 0,
        "remindable": await tracking.remindable_count(event, session=session) if editable else 0,
        "no_answer_due": reminders.no_answer_due_at(event),
        "day_before_due": reminders.day_before_due_at(event),
        "action_error": action_error,
        "can_edit": editable,
        "closed": guest_list.is_closed(event),
        "candidates": candidates,
        "address_book_size": await book.contact_count(session=session),
        "pick": pick_query,
        "tags": await book.tag_counts(session=session),
        "language_options": language_options(),
        "new_values": new_values or {"language": event.language},
        "new_errors": new_errors or {},
        "tag_error": tag_error,
        "pick_error": pick_error,
    }
    return render(request, "invitations/guests.html", context, block=block, status_code=status_code)


async def _waitlist_positions(event: Event, *, session: SessionDep) -> dict[int, int]:
    return {
        invitee.id: position
        for position, invitee in enumerate(await waitlist.waitlisted(event, session=session), 1)
        if invitee.id is not None
    }


@router.get("/events/{slug}/guests")
async def guests(
    request: Request,
    slug: str,
    session: SessionDep,
    organizer: Viewer,
    q: str = "",
    status: str = "",
    page: str = "1",
    pick: str = "",
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    block = _BLOCKS_BY_TARGET.get(request.headers.get("hx-target", ""), "guests")
    return await _guests_page(
        request, event, session, organizer, q=q, status=status, page=page, pick=pick, block=block
    )


@router.get("/events/{slug}/delivery")
async def delivery(request: Request, slug: str, session: SessionDep, organizer: Viewer) -> Response:
    """The progress of the event's e-mails; polled by the guest list while anything waits."""
    event = await get_event_by_slug(slug, session=session)
    if not is_htmx(request):
        return redirect(request, _guests_url(event) + "#delivery")
    # Polled every few seconds: only what the fragment shows is read.
    progress = await tracking.delivery_progress(event, session=session)
    context = {
        "event": event,
        "progress": progress,
        "kind_label": messages.kind_label,
        "delivery_label": tracking.delivery_label,
        "delivery_badge": tracking.delivery_badge,
    }
    response = render(request, "invitations/guests.html", context, block="delivery")
    if not progress.in_progress:
        # The last poll: the list and its numbers catch up with what was delivered.
        response.headers["HX-Trigger"] = "mail-settled"
    return response


def _added_message(result: guest_list.AddResult) -> str:
    parts = []
    if result.added:
        if len(result.added) == 1:
            parts.append(_("%(name)s is on the guest list now.", name=result.added[0].name))
        else:
            parts.append(
                ngettext(
                    "%(num)s person added to the guest list.",
                    "%(num)s people added to the guest list.",
                    len(result.added),
                )
            )
    if result.already:
        if len(result.already) == 1:
            parts.append(_("%(name)s was on the guest list already.", name=result.already[0].name))
        else:
            parts.append(
                ngettext(
                    "%(num)s person was on it already.",
                    "%(num)s people were on it already.",
                    len(result.already),
                )
            )
    return " ".join(parts)


@router.post("/events/{slug}/guests/add")
async def add_picked(
    request: Request, slug: str, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    try:
        result = await guest_list.add_guests(
            event, await form_list(request, "contact_id"), session=session
        )
    except DomainError as error:
        return await _guests_page(
            request,
            event,
            session,
            organizer,
            pick_error=error.message,
            block="add_picked",
            status_code=422,
        )
    await session.commit()
    return redirect(request, _guests_url(event), flash=_added_message(result))


@router.post("/events/{slug}/guests/add-tag")
async def add_by_tag(
    request: Request, slug: str, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    data = await form_data(request)
    try:
        result = await guest_list.add_tag(event, data.get("tag", ""), session=session)
    except DomainError as error:
        return await _guests_page(
            request,
            event,
            session,
            organizer,
            tag_error=error.message,
            block="add_tag",
            status_code=422,
        )
    await session.commit()
    return redirect(request, _guests_url(event), flash=_added_message(result))


@router.post("/events/{slug}/guests/new")
async def add_new_person(
    request: Request, slug: str, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    data = await form_data(request)
    try:
        guest = await guest_list.add_new_guest(event, data, session=session)
    except ValidationFailed as error:
        return await _guests_page(
            request,
            event,
            session,
            organizer,
            new_values=data,
            new_errors=error.errors,
            block="add_new",
            status_code=422,
        )
    except DomainError as error:
        return await _guests_page(
            request,
            event,
            session,
            organizer,
            new_values=data,
            new_errors={"_form": error.message},
            block="add_new",
            status_code=422,
        )
    await session.commit()
    name = guest.contact.name
    if guest.created:
        message = _("%(name)s was added to the address book and to the guest list.", name=name)
    elif guest.added:
        message = _(
            "%(name)s was in the address book already and is on the guest list now.", name=name
        )
    else:
        message = _("%(name)s was on the guest list already.", name=name)
    return redirect(request, _guests_url(event), flash=message)


# Importing a CSV file onto the guest list (and into the address book).


def _import_urls(event: Event) -> dict[str, str]:
    base = f"/events/{event.slug}/guests"
    return {
        "action": f"{base}/import",
        "confirm_action": f"{base}/import/confirm",
        "back_url": base,
    }


def _event_import_context(event: Event, **values: Any) -> dict[str, Any]:
    return {
        **import_page_context(event=event, **_import_urls(event), **values),
        "active_tab": "guests",
        "closed": guest_list.is_closed(event),
    }


@router.get("/events/{slug}/guests/import")
async def import_form(
    request: Request, slug: str, session: SessionDep, _editor: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    error = None
    try:
        guest_list.ensure_open(event)
    except DomainError as refused:
        error = refused.message
    return render(
        request,
        "invitations/guest_import.html",
        _event_import_context(event, error=error),
        block="import",
    )


@router.post("/events/{slug}/guests/import")
async def import_preview(
    request: Request, slug: str, session: SessionDep, settings: SettingsDep, _editor: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    try:
        guest_list.ensure_open(event)
        data, filename = await read_upload(request)
        plan = await plan_import(data, session=session, event=event)
    except DomainError as error:
        context = _event_import_context(event, error=error.message)
        return render(
            request, "invitations/guest_import.html", context, block="import", status_code=422
        )
    context = _event_import_context(
        event, plan=plan, token=pack_upload(data, settings.secret), filename=filename
    )
    return render(request, "invitations/guest_import.html", context, block="import")


def _guest_import_summary(result: ImportResult) -> str:
    return " ".join(
        [
            import_summary(result),
            _(
                "%(added)s added to the guest list, %(already)s were on it already.",
                added=result.added_to_guest_list,
                already=result.already_on_guest_list,
            ),
        ]
    )


@router.post("/events/{slug}/guests/import/confirm")
async def import_confirm(
    request: Request, slug: str, session: SessionDep, settings: SettingsDep, _editor: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    try:
        data, _filename = await read_confirmation(request, settings.secret)
        result = await apply_import(
            data, session=session, default_language=event.language, event=event
        )
    except (DomainError, CsvFileError) as error:
        context = _event_import_context(event, error=error.message)
        return render(
            request, "invitations/guest_import.html", context, block="import", status_code=422
        )
    await session.commit()
    return redirect(request, _guests_url(event), flash=_guest_import_summary(result))


# Sending invitations and reminders.


def _names(contacts: list[Contact], limit: int = 3) -> str:
    names = [contact.name for contact in contacts[:limit]]
    return ", ".join(names) + (" …" if len(contacts) > limit else "")


def _sent_message(report: sending.SendReport) -> str:
    parts = []
    if report.sent:
        parts.append(
            ngettext(
                "%(num)s invitation is on its way.",
                "%(num)s invitations are on their way.",
                len(report.sent),
            )
        )
    else:
        parts.append(_("Nobody was invited."))
    if report.suppressed:
        people = [contact for contact, _entry in report.suppressed]
        parts.append(
            ngettext(
                "%(num)s person was left out because they asked not to get invitations "
                "(%(names)s).",
                "%(num)s people were left out because they asked not to get invitations "
                "(%(names)s).",
                len(people),
                names=_names(people),
            )
        )
    if report.unusable:
        parts.append(
            ngettext(
                "%(num)s person could not be invited: their address cannot be used (%(names)s).",
                "%(num)s people could not be invited: their addresses cannot be used (%(names)s).",
                len(report.unusable),
                names=_names(report.unusable),
            )
        )
    if report.already_invited:
        parts.append(
            ngettext(
                "%(num)s had their invitation already.",
                "%(num)s had their invitations already.",
                report.already_invited,
            )
        )
    return " ".join(parts)


def _reminded_message(report: reminders.RemindReport) -> str:
    parts = []
    if report.sent:
        parts.append(
            ngettext(
                "%(num)s reminder is on its way.",
                "%(num)s reminders are on their way.",
                len(report.sent),
            )
        )
    else:
        parts.append(_("Nobody was reminded."))
    if report.already:
        parts.append(
            ngettext(
                "%(num)s person had this reminder already (nobody gets it twice).",
                "%(num)s people had this reminder already (nobody gets it twice).",
                len(report.already),
            )
        )
    if report.suppressed:
        people = [contact for contact, _entry in report.suppressed]
        parts.append(
            ngettext(
                "%(num)s person was left out because they asked not to get reminders (%(names)s).",
                "%(num)s people were left out because they asked not to get reminders (%(names)s).",
                len(people),
                names=_names(people),
            )
        )
    if report.answered:
        parts.append(
            ngettext(
                "%(num)s selected person has answered already or is not invited yet.",
                "%(num)s selected people have answered already or are not invited yet.",
                report.answered,
            )
        )
    return " ".join(parts)


async def _refused(
    request: Request, event: Event, session: SessionDep, organizer: Any, message: str
) -> Response:
    return await _guests_page(
        request,
        event,
        session,
        organizer,
        action_error=message,
        block="actions",
        status_code=422,
    )


@router.post("/events/{slug}/guests/invite")
async def invite_everyone(
    request: Request, slug: str, session: SessionDep, settings: SettingsDep, organizer: Editor
) -> Response:
    """Invitations to everyone on the guest list who is not invited yet."""
    event = await get_event_by_slug(slug, session=session)
    try:
        report = await sending.send_invitations(event, session=session, settings=settings)
    except DomainError as error:
        return await _refused(request, event, session, organizer, error.message)
    await session.commit()
    wake_worker(request.app.state)
    return redirect(request, _guests_url(event), flash=_sent_message(report))


@router.post("/events/{slug}/guests/remind")
async def remind_everyone(
    request: Request, slug: str, session: SessionDep, settings: SettingsDep, organizer: Editor
) -> Response:
    """A reminder to everyone invited who has not answered (and has not had one)."""
    event = await get_event_by_slug(slug, session=session)
    try:
        report = await reminders.remind_now(event, session=session, settings=settings)
    except DomainError as error:
        return await _refused(request, event, session, organizer, error.message)
    await session.commit()
    wake_worker(request.app.state)
    return redirect(request, _guests_url(event), flash=_reminded_message(report))


@router.post("/events/{slug}/guests/selected")
async def act_on_selected(
    request: Request, slug: str, session: SessionDep, settings: SettingsDep, organizer: Editor
) -> Response:
    """Invite or remind the people ticked in the list."""
    event = await get_event_by_slug(slug, session=session)
    data = await form_data(request)
    selected = await form_list(request, "invitee_id")
    action = data.get("action", "")
    try:
        if action == "invite":
            sent = await sending.send_invitations(
                event, session=session, settings=settings, selected=selected
            )
            message = _sent_message(sent)
        elif action == "remind":
            reminded = await reminders.remind_now(
                event, session=session, settings=settings, selected=selected
            )
            message = _reminded_message(reminded)
        else:
            raise DomainError(_("Please choose what to do with the selected people."))
    except DomainError as error:
        return await _refused(request, event, session, organizer, error.message)
    await session.commit()
    wake_worker(request.app.state)
    return redirect(request, _guests_url(event), flash=message)


# One guest: their answers, their e-mails, and what can be done for them. Registered after
# /guests/import and the other fixed addresses, which the {invitee_id} pattern would also match.


async def _guest_page(
    request: Request,
    event: Event,
    session: SessionDep,
    organizer: Any,
    guest: guest_list.Guest,
    *,
    action_error: str | None = None,
    status_code: int = 200,
) -> Response:
    invitee, contact = guest.invitee, guest.contact
    context = {
        "event": event,
        "active_tab": "guests",
        "guest": guest,
        "invitee": invitee,
        "contact": contact,
        "history": await tracking.email_history(invitee, session=session),
        "reminders": await tracking.sent_reminders(invitee, session=session),
        "suppression": await sending.suppression_of(contact, session=session),
        "position": await waitlist.waitlist_position(invitee, session=session),
        "status_label": guest_list.status_label,
        "status_badge": guest_list.status_badge,
        "language_label": book.language_label,
        "kind_label": messages.kind_label,
        "delivery_label": tracking.delivery_label,
        "delivery_badge": tracking.delivery_badge,
        "reason_label": reason_label,
        "reminder_label": _reminder_label,
        "invite_problem": sending.invitation_problem(event),
        "remind_problem": reminders.reminder_problem(event),
        "needs_confirmation": guest_list.needs_confirmation(invitee),
        "can_replace_link": not event.has_ended(),
        "can_edit": can_edit(organizer),
        "closed": guest_list.is_closed(event),
        "action_error": action_error,
    }
    return render(
        request, "invitations/guest.html", context, block="guest_actions", status_code=status_code
    )


def _reminder_label(kind: str) -> str:
    return {
        reminders.NO_ANSWER: _("Reminder to answer"),
        reminders.DAY_BEFORE: _("Reminder the day before"),
    }.get(kind, kind)


@router.get("/events/{slug}/guests/{invitee_id}")
async def guest_detail(
    request: Request, slug: str, invitee_id: str, session: SessionDep, organizer: Viewer
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    guest = await guest_list.get_guest(event, invitee_id, session=session)
    return await _guest_page(request, event, session, organizer, guest)


GuestAction = Callable[[Event, str], Awaitable[str]]


async def _guest_action(
    request: Request,
    slug: str,
    invitee_id: str,
    session: SessionDep,
    organizer: Any,
    action: GuestAction,
) -> Response:
    """Runs one action for one guest: a flash and back to their page, or the refusal shown in
    place (nothing changed)."""
    event = await get_event_by_slug(slug, session=session)
    guest = await guest_list.get_guest(event, invitee_id, session=session)
    try:
        message = await action(event, invitee_id)
    except DomainError as error:
        return await _guest_page(
            request, event, session, organizer, guest, action_error=error.message, status_code=422
        )
    await session.commit()
    wake_worker(request.app.state)
    return redirect(request, _guest_url(event, guest.invitee.id), flash=message)


@router.post("/events/{slug}/guests/{invitee_id}/invite")
async def invite_one(
    request: Request,
    slug: str,
    invitee_id: str,
    session: SessionDep,
    settings: SettingsDep,
    organizer: Editor,
) -> Response:
    async def action(event: Event, invitee_id: str) -> str:
        report = await sending.send_invitations(
            event, session=session, settings=settings, selected=[invitee_id]
        )
        if report.sent:
            return _("The invitation to %(name)s is on its way.", name=report.sent[0].name)
        raise DomainError(_sent_message(report))

    return await _guest_action(request, slug, invitee_id, session, organizer, action)


@router.post("/events/{slug}/guests/{invitee_id}/resend")
async def resend(
    request: Request,
    slug: str,
    invitee_id: str,
    session: SessionDep,
    settings: SettingsDep,
    organizer: Editor,
) -> Response:
    async def action(event: Event, invitee_id: str) -> str:
        contact = await sending.resend_invitation(
            event, invitee_id, session=session, settings=settings
        )
        return _("The invitation to %(name)s is on its way again.", name=contact.name)

    return await _guest_action(request, slug, invitee_id, session, organizer, action)


@router.post("/events/{slug}/guests/{invitee_id}/new-link")
async def new_link(
    request: Request,
    slug: str,
    invitee_id: str,
    session: SessionDep,
    settings: SettingsDep,
    organizer: Editor,
) -> Response:
    async def action(event: Event, invitee_id: str) -> str:
        result = await sending.replace_link(event, invitee_id, session=session, settings=settings)
        name = result.contact.name
        if result.mailed:
            return _(
                "The old link of %(name)s no longer works. The new one is on its way to them.",
                name=name,
            )
        return _(
            "The old link of %(name)s no longer works. No e-mail was sent: they get no "
            "e-mail from us any more.",
            name=name,
        )

    return await _guest_action(request, slug, invitee_id, session, organizer, action)


@router.post("/events/{slug}/guests/{invitee_id}/remind")
async def remind_one(
    request: Request,
    slug: str,
    invitee_id: str,
    session: SessionDep,
    settings: SettingsDep,
    organizer: Editor,
) -> Response:
    async def action(event: Event, invitee_id: str) -> str:
        report = await reminders.remind_now(
            event, session=session, settings=settings, selected=[invitee_id]
        )
        if report.sent:
            return _("A reminder to %(name)s is on its way.", name=report.sent[0].name)
        raise DomainError(_reminded_message(report))

    return await _guest_action(request, slug, invitee_id, session, organizer, action)


async def _remove_page(
    request: Request,
    event: Event,
    session: SessionDep,
    guest: guest_list.Guest,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    invitee = guest.invitee
    told_by_default = invitee.status in guest_list.TOLD_OF_REMOVAL_BY_DEFAULT
    context = {
        "event": event,
        "active_tab": "guests",
        "guest": guest,
        "position": await waitlist.waitlist_position(invitee, session=session),
        "status_label": guest_list.status_label,
        "status_badge": guest_list.status_badge,
        "language_label": book.language_label,
        "closed": guest_list.is_closed(event),
        "notice_refusal": await guest_list.removal_notice_refusal(guest, session=session),
        "values": values or {"tell": "on" if told_by_default else "", "note": ""},
        "errors": errors or {},
        "max_note_length": guest_list.MAX_REMOVAL_NOTE_LENGTH,
    }
    return render(request, "invitations/remove.html", context, status_code=status_code)


@router.get("/events/{slug}/guests/{invitee_id}/remove")
async def remove_form(
    request: Request, slug: str, invitee_id: str, session: SessionDep, organizer: Editor
) -> Response:
    """Asks before taking off someone who was invited or answered, and whether to tell them."""
    event = await get_event_by_slug(slug, session=session)
    guest = await guest_list.get_guest(event, invitee_id, session=session)
    return await _remove_page(request, event, session, guest)


def _removed_message(removal: guest_list.Removal) -> str:
    parts = [_("%(name)s is no longer on the guest list.", name=removal.contact.name)]
    if removal.freed:
        parts.append(
            ngettext(
                "%(num)s place is free again.", "%(num)s places are free again.", removal.freed
            )
        )
    if removal.promoted:
        parts.append(
            _(
                "Moved up from the waitlist and told by e-mail: %(names)s.",
                names=_names(removal.promoted, limit=5),
            )
        )
    telling = {
        guest_list.Telling.told: _("An e-mail to tell them is on its way."),
        guest_list.Telling.not_told: _("They were not told by e-mail."),
        guest_list.Telling.unreachable: _(
            "They were not told: no e-mail can be sent to their address."
        ),
    }
    if removal.telling in telling:
        parts.append(telling[removal.telling])
    return " ".join(parts)


@router.post("/events/{slug}/guests/{invitee_id}/remove")
async def remove(
    request: Request,
    slug: str,
    invitee_id: str,
    session: SessionDep,
    settings: SettingsDep,
    _editor: Editor,
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    data = await form_data(request)
    try:
        guest_list.ensure_open(event)
        guest = await guest_list.get_guest(event, invitee_id, session=session)
        if guest_list.needs_confirmation(guest.invitee) and not is_checked(data, "confirm"):
            return redirect(request, f"{_guest_url(event, guest.invitee.id)}/remove")
        try:
            notice = guest_list.read_removal_notice(
                tell=is_checked(data, "tell"), note=data.get("note")
            )
        except ValidationFailed as error:
            values = {
                "tell": "on" if is_checked(data, "tell") else "",
                "note": data.get("note", "")[: guest_list.MAX_REMOVAL_NOTE_LENGTH * 2],
            }
            return await _remove_page(
                request, event, session, guest, values=values, errors=error.errors, status_code=422
            )
        removal = await guest_list.remove_guest(
            event, invitee_id, session=session, settings=settings, notice=notice
        )
    except DomainError as error:
        return redirect(request, _guests_url(event), flash=error.message)
    await session.commit()
    if removal.promoted or removal.telling == guest_list.Telling.told:
        wake_worker(request.app.state)
    return redirect(request, _guests_url(event), flash=_removed_message(removal))


# The Emails tab, the invitation's note and preview, and the attendee list: their own modules,
# served under this router (after the guest addresses above).
router.include_router(emails_routes.router)
router.include_router(attendee_routes.router)
