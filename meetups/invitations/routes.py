"""An event's guest list: the list with its filters, adding people (picked, by tag, a new
person, a CSV import) and taking them off."""

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
from meetups.forms import form_data, form_list
from meetups.htmx import redirect, render
from meetups.i18n import gettext as _
from meetups.i18n import ngettext
from meetups.invitations import guest_list
from meetups.invitations.models import InviteeStatus

router = APIRouter()
PICKER_SIZE = 50


def _guests_url(event: Event, **params: str | int) -> str:
    query = {key: str(value) for key, value in params.items() if value and value != 1}
    return f"/events/{event.slug}/guests" + (f"?{urlencode(query)}" if query else "")


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
    block: str = "guests",
    status_code: int = 200,
) -> Response:
    chosen = guest_list.parse_status(status)
    query = book.clean_query(q)
    result = await guest_list.list_guests(
        event, session=session, status=chosen, query=query, page=page_number(page)
    )
    counts = await guest_list.status_counts(event, session=session)
    pick_query = book.clean_query(pick)
    candidates = await book.search_contacts(
        session=session,
        query=pick_query,
        not_on_event=event.id,
        page_size=PICKER_SIZE,
    )
    filters = {"q": query, "status": chosen.value if chosen else ""}
    context = {
        "event": event,
        "active_tab": "guests",
        "result": result,
        "counts": counts,
        "total": sum(counts.values()),
        "statuses": list(InviteeStatus),
        "status": chosen.value if chosen else "",
        "query": query,
        "status_url": lambda value: _guests_url(event, q=query, status=value),
        "previous_url": _guests_url(event, **filters, page=result.page - 1),
        "next_url": _guests_url(event, **filters, page=result.page + 1),
        "status_label": guest_list.status_label,
        "status_badge": guest_list.status_badge,
        "language_label": book.language_label,
        "can_edit": can_edit(organizer),
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
    # The picker's own search asks for its block only; everything else re-renders the list.
    block = "picker" if request.headers.get("hx-target") == "picker-results" else "guests"
    return await _guests_page(
        request, event, session, organizer, q=q, status=status, page=page, pick=pick, block=block
    )


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


@router.post("/events/{slug}/guests/{invitee_id}/remove")
async def remove(
    request: Request, slug: str, invitee_id: str, session: SessionDep, _editor: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    try:
        contact = await guest_list.remove_guest(event, invitee_id, session=session)
    except DomainError as error:
        return redirect(request, _guests_url(event), flash=error.message)
    await session.commit()
    return redirect(
        request,
        _guests_url(event),
        flash=_("%(name)s is no longer on the guest list.", name=contact.name),
    )


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
