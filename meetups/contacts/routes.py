"""The address book's pages: the list with live search, a person's page, the contact form,
deleting, and importing a CSV file."""

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups.accounts.models import Organizer, Role
from meetups.contacts import book
from meetups.contacts.csv_import import (
    MAX_FILE_BYTES,
    CsvFileError,
    ImportPlan,
    ImportResult,
    apply_import,
    pack_upload,
    plan_import,
    split_for_form,
    unpack_upload,
)
from meetups.contacts.models import Contact
from meetups.db import utcnow
from meetups.deps import Editor, SessionDep, SettingsDep, Viewer
from meetups.errors import DomainError, ValidationFailed
from meetups.events.models import Event
from meetups.forms import form_data, form_file, is_checked
from meetups.htmx import redirect, render
from meetups.i18n import gettext as _
from meetups.i18n import ngettext
from meetups.invitations import guest_list
from meetups.privacy import export
from meetups.privacy.erasure import erase_person, preview_erasure
from meetups.privacy.models import PrivacyActor

router = APIRouter()


def can_edit(organizer: Organizer | None) -> bool:
    return organizer is not None and organizer.role.allows(Role.organizer)


def page_number(value: str) -> int:
    """A page number from the query string; anything odd means the first page."""
    return int(value) if value.isascii() and value.isdigit() and len(value) < 7 else 1


def _list_url(query: str, tag: str, page: int = 1) -> str:
    params = {key: value for key, value in (("q", query), ("tag", tag)) if value}
    if page > 1:
        params["page"] = str(page)
    return "/contacts" + (f"?{urlencode(params)}" if params else "")


def language_options() -> list[tuple[str, str]]:
    return [(code, book.language_label(code)) for code in book.LANGUAGE_CODES]


@router.get("/contacts")
async def contact_list(
    request: Request,
    session: SessionDep,
    organizer: Viewer,
    q: str = "",
    tag: str = "",
    page: str = "1",
) -> Response:
    result = await book.search_contacts(session=session, query=q, tag=tag, page=page_number(page))
    context = {
        "result": result,
        "tags": await book.tag_counts(session=session),
        "everyone": await book.contact_count(session=session),
        "previous_url": _list_url(result.query, result.tag, result.page - 1),
        "next_url": _list_url(result.query, result.tag, result.page + 1),
        "tag_url": lambda name: _list_url("", name),
        "can_edit": can_edit(organizer),
        "language_label": book.language_label,
    }
    return render(request, "contacts/list.html", context, block="results")


def _form_values(contact: Contact | None) -> dict[str, str]:
    if contact is None:
        return {"language": "de"}
    return {
        "name": contact.name,
        "email": contact.email,
        "blog_url": contact.blog_url or "",
        "city": contact.city or "",
        "language": contact.language,
        "tags": ", ".join(contact.tag_names),
        "notes": contact.notes or "",
    }


async def _form_page(
    request: Request,
    session: SessionDep,
    *,
    contact: Contact | None,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "contact": contact,
        "values": values,
        "errors": errors or {},
        "action": f"/contacts/{contact.id}/edit" if contact else "/contacts/new",
        "cancel_url": f"/contacts/{contact.id}" if contact else "/contacts",
        "language_options": language_options(),
        "known_tags": [name for name, _count in await book.tag_counts(session=session)],
    }
    return render(request, "contacts/form.html", context, block="form", status_code=status_code)


@router.get("/contacts/new")
async def new_contact_form(
    request: Request, session: SessionDep, settings: SettingsDep, _editor: Editor
) -> Response:
    return await _form_page(
        request, session, contact=None, values={"language": settings.default_language}
    )


@router.post("/contacts/new")
async def create_contact(request: Request, session: SessionDep, _editor: Editor) -> Response:
    data = await form_data(request)
    try:
        contact = await book.create_contact(data, session=session)
    except ValidationFailed as error:
        return await _form_page(
            request, session, contact=None, values=data, errors=error.errors, status_code=422
        )
    await session.commit()
    return redirect(
        request,
        f"/contacts/{contact.id}",
        flash=_("%(name)s is in the address book now.", name=contact.name),
    )


# The import comes before /contacts/{contact_id}, so that "import" is not taken for an id.


def import_page_context(
    *,
    plan: ImportPlan | None = None,
    token: str = "",
    filename: str = "",
    error: str | None = None,
    action: str,
    confirm_action: str,
    back_url: str,
    event: Event | None = None,
) -> dict[str, Any]:
    return {
        "plan": plan,
        "payload_parts": split_for_form(token) if token else [],
        "filename": filename,
        "error": error,
        "action": action,
        "confirm_action": confirm_action,
        "back_url": back_url,
        "event": event,
        "max_megabytes": MAX_FILE_BYTES // (1024 * 1024),
        "language_label": book.language_label,
    }


def clean_filename(name: str | None) -> str:
    return book.clean_query(name or "")[:100]


async def read_upload(request: Request) -> tuple[bytes, str]:
    """The uploaded file's bytes (at most one byte more than allowed) and its name."""
    upload = await form_file(request, "file")
    if upload is None or (not upload.filename and not upload.size):
        raise CsvFileError(_("Please choose a CSV file."))
    data = await upload.read(MAX_FILE_BYTES + 1)
    return data, clean_filename(upload.filename)


async def read_confirmation(request: Request, secret: bytes) -> tuple[bytes, str]:
    """The file carried by the preview page's hidden fields."""
    form = await request.form()
    token = "".join(value for value in form.getlist("payload") if isinstance(value, str))
    filename = form.get("filename")
    return unpack_upload(token, secret), clean_filename(
        filename if isinstance(filename, str) else ""
    )


def import_summary(result: ImportResult) -> str:
    message = _(
        "Import done: %(created)s new, %(updated)s updated, %(unchanged)s unchanged, "
        "%(rejected)s rejected.",
        created=result.created,
        updated=result.updated,
        unchanged=result.unchanged,
        rejected=result.rejected,
    )
    return message


@router.get("/contacts/import")
async def import_form(request: Request, _editor: Editor) -> Response:
    context = import_page_context(
        action="/contacts/import", confirm_action="/contacts/import/confirm", back_url="/contacts"
    )
    return render(request, "contacts/import.html", context, block="import")


@router.post("/contacts/import")
async def import_preview(
    request: Request, session: SessionDep, settings: SettingsDep, _editor: Editor
) -> Response:
    urls = {
        "action": "/contacts/import",
        "confirm_action": "/contacts/import/confirm",
        "back_url": "/contacts",
    }
    try:
        data, filename = await read_upload(request)
        plan = await plan_import(data, session=session)
    except CsvFileError as error:
        return render(
            request,
            "contacts/import.html",
            import_page_context(error=error.message, **urls),
            block="import",
            status_code=422,
        )
    context = import_page_context(
        plan=plan, token=pack_upload(data, settings.secret), filename=filename, **urls
    )
    return render(request, "contacts/import.html", context, block="import")


@router.post("/contacts/import/confirm")
async def import_confirm(
    request: Request, session: SessionDep, settings: SettingsDep, _editor: Editor
) -> Response:
    urls = {
        "action": "/contacts/import",
        "confirm_action": "/contacts/import/confirm",
        "back_url": "/contacts",
    }
    try:
        data, _filename = await read_confirmation(request, settings.secret)
        result = await apply_import(
            data, session=session, default_language=settings.default_language
        )
    except DomainError as error:
        return render(
            request,
            "contacts/import.html",
            import_page_context(error=error.message, **urls),
            block="import",
            status_code=422,
        )
    await session.commit()
    return redirect(request, "/contacts", flash=import_summary(result))


@router.get("/contacts/{contact_id}")
async def contact_page(
    request: Request, contact_id: str, session: SessionDep, organizer: Viewer
) -> Response:
    contact = await book.get_contact(contact_id, session=session)
    history = await book.contact_history(contact, session=session)
    context = {
        "contact": contact,
        "history": history,
        "can_edit": can_edit(organizer),
        "language_label": book.language_label,
        "status_label": guest_list.status_label,
        "status_badge": guest_list.status_badge,
        "open_events": await guest_list.open_events_without(contact, session=session)
        if not contact.is_anonymized
        else [],
    }
    return render(request, "contacts/detail.html", context)


def _delete_question(contact: Contact, *, answered: bool, guest_lists: int) -> str:
    if answered:
        return _(
            "%(name)s has answered an invitation. Their personal data will be removed; the entry "
            "stays as “Deleted contact” for the events. Go ahead?",
            name=contact.name,
        )
    if guest_lists:
        return ngettext(
            "Delete %(name)s? They will also be taken off %(num)s guest list.",
            "Delete %(name)s? They will also be taken off %(num)s guest lists.",
            guest_lists,
            name=contact.name,
        )
    return _("Delete %(name)s from the address book?", name=contact.name)


@router.get("/contacts/{contact_id}/edit")
async def edit_contact_form(
    request: Request, contact_id: str, session: SessionDep, _editor: Editor
) -> Response:
    contact = await book.get_contact(contact_id, session=session)
    if contact.is_anonymized:
        return redirect(
            request,
            f"/contacts/{contact.id}",
            flash=_("This contact was deleted; it cannot be edited."),
        )
    return await _form_page(request, session, contact=contact, values=_form_values(contact))


@router.post("/contacts/{contact_id}/edit")
async def update_contact(
    request: Request, contact_id: str, session: SessionDep, _editor: Editor
) -> Response:
    contact = await book.get_contact(contact_id, session=session)
    data = await form_data(request)
    try:
        await book.update_contact(contact, data, session=session)
    except ValidationFailed as error:
        return await _form_page(
            request, session, contact=contact, values=data, errors=error.errors, status_code=422
        )
    except DomainError as error:
        return redirect(request, f"/contacts/{contact.id}", flash=error.message)
    await session.commit()
    return redirect(request, f"/contacts/{contact.id}", flash=_("Saved."))


@router.get("/contacts/{contact_id}/delete")
async def delete_form(
    request: Request, contact_id: str, session: SessionDep, _editor: Editor
) -> Response:
    """Asks before deleting, and says what goes and what stays (it works without JavaScript)."""
    contact = await book.get_contact(contact_id, session=session)
    try:
        book.refuse_if_anonymized(contact)
    except DomainError as error:
        return redirect(request, f"/contacts/{contact.id}", flash=error.message)
    answered = await book.has_answered(contact, session=session)
    history = await book.contact_history(contact, session=session)
    context = {
        "contact": contact,
        "answered": answered,
        "question": _delete_question(contact, answered=answered, guest_lists=len(history)),
        "preview": await preview_erasure(contact, session=session),
    }
    return render(request, "contacts/delete.html", context)


@router.post("/contacts/{contact_id}/delete")
async def delete_contact(
    request: Request, contact_id: str, session: SessionDep, settings: SettingsDep, editor: Editor
) -> Response:
    """Deletes the person's data everywhere, as meetups.privacy.erasure describes, and records
    it in the privacy log."""
    data = await form_data(request)
    contact = await book.get_contact(contact_id, session=session)
    name, contact_id_number = contact.name, contact.id
    if not is_checked(data, "confirm"):
        return redirect(request, f"/contacts/{contact_id_number}/delete")
    try:
        erased = await erase_person(
            contact,
            actor=PrivacyActor.organizer,
            organizer=editor,
            session=session,
            settings=settings,
        )
    except DomainError as error:
        await session.rollback()
        return redirect(request, f"/contacts/{contact_id_number}", flash=error.message)
    await session.commit()
    removal = erased.removal
    if removal == book.Removal.anonymized:
        message = _(
            "%(name)s has answered an invitation, so the entry stays for the event's numbers: "
            "their name, e-mail address and everything else personal were removed.",
            name=name,
        )
        return redirect(request, f"/contacts/{contact.id}", flash=message)
    return redirect(request, "/contacts", flash=_("%(name)s was deleted.", name=name))


@router.post("/contacts/{contact_id}/export")
async def export_contact(
    request: Request, contact_id: str, session: SessionDep, settings: SettingsDep, editor: Editor
) -> Response:
    """Everything held about the person as one JSON file, for answering their request for it;
    recorded in the privacy log."""
    contact = await book.get_contact(contact_id, session=session)
    now = utcnow()
    try:
        exported = await export.export_for_organizer(
            contact, editor, session=session, settings=settings, now=now
        )
    except DomainError as error:
        return redirect(request, f"/contacts/{contact.id}", flash=error.message)
    await session.commit()
    name = export.file_name(now, contact_id=contact.id)
    return Response(
        exported.json_bytes(),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/contacts/{contact_id}/guest-lists")
async def add_to_event(
    request: Request, contact_id: str, session: SessionDep, _editor: Editor
) -> Response:
    """Puts this person on an event's guest list, from their page."""
    contact = await book.get_contact(contact_id, session=session)
    data = await form_data(request)
    try:
        event = await guest_list.get_event_by_id(data.get("event_id", ""), session=session)
        result = await guest_list.add_guests(event, [str(contact.id)], session=session)
    except DomainError as error:
        return redirect(request, f"/contacts/{contact.id}", flash=error.message)
    await session.commit()
    if result.added:
        message = _(
            "%(name)s is on the guest list of “%(event)s” now.",
            name=contact.name,
            event=event.title,
        )
    else:
        message = _(
            "%(name)s was on the guest list of “%(event)s” already.",
            name=contact.name,
            event=event.title,
        )
    return redirect(request, f"/contacts/{contact.id}", flash=message)
