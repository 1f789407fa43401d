"""The invitee's own data, behind their personal link: `/i/{token}/privacy` explains what is held
and what deleting means, `.../export` downloads it all as JSON, `.../delete` deletes it.

The link is handled as on the invitation page (meetups.invitations.public_routes): wrong links get
the same friendly page and are counted per client, so guessing is throttled; every response
carries `Referrer-Policy: no-referrer`. The download is a POST (a button), not a link: link
scanners and prefetchers must not leave "downloaded" entries in the privacy log. After deleting,
the link is dead, so the goodbye page lives at an address without it.
"""

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups import i18n
from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import utcnow
from meetups.deps import SessionDep, SettingsDep
from meetups.errors import NotFound
from meetups.events.models import Event
from meetups.forms import form_data, is_checked
from meetups.htmx import redirect
from meetups.i18n import gettext as _
from meetups.invitations.models import Invitee

# The invitation page's own handling of personal links, so that every page behind a link
# behaves alike.
from meetups.invitations.public_routes import (
    PRIVATE_HEADERS,
    find_invitee,
    page_language,
    personal_page,
)
from meetups.privacy import erasure, export
from meetups.privacy.models import PrivacyActor

router = APIRouter()

DELETED_PAGE = "/privacy/deleted"


def _url(token: str, language: str, suffix: str = "") -> str:
    return f"/i/{token}/privacy{suffix}?{urlencode({'lang': language})}"


async def _language_for(
    request: Request,
    invitee: Invitee,
    session: SessionDep,
    settings: Settings,
    data: dict[str, str] | None = None,
) -> str:
    contact = await session.get(Contact, invitee.contact_id)
    choice = (data or {}).get("lang") or request.query_params.get("lang")
    language = page_language(choice, contact, settings)
    i18n.set_locale(language)
    return language


async def _privacy_page(
    request: Request,
    token: str,
    invitee: Invitee,
    session: SessionDep,
    *,
    language: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    event = await session.get(Event, invitee.event_id)
    contact = await session.get(Contact, invitee.contact_id)
    # Both are foreign keys of the guest-list row.
    assert event is not None
    assert contact is not None
    context = {
        "title": _("Your data"),
        "event": event,
        "contact": contact,
        "token": token,
        "page_language": language,
        "preview": await erasure.preview_erasure(contact, session=session),
        "values": values or {"suppress": True, "confirm": False},
        "errors": errors or {},
        "error": error,
    }
    return personal_page(
        request, "privacy/invitee.html", context, block="privacy", status_code=status_code
    )


@router.get("/i/{token}/privacy")
async def privacy_page(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    found = await find_invitee(request, token, session, settings)
    if isinstance(found, Response):
        return found
    language = await _language_for(request, found, session, settings)
    return await _privacy_page(request, token, found, session, language=language)


@router.post("/i/{token}/privacy/export")
async def download_data(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    found = await find_invitee(request, token, session, settings)
    if isinstance(found, Response):
        return found
    data = await form_data(request)
    await _language_for(request, found, session, settings, data)
    now = utcnow()
    exported = await export.export_for_invitee(found, session=session, settings=settings, now=now)
    await session.commit()
    return Response(
        exported.json_bytes(),
        media_type="application/json",
        headers={
            **PRIVATE_HEADERS,
            "Content-Disposition": f'attachment; filename="{export.file_name(now)}"',
        },
    )


@router.post("/i/{token}/privacy/delete")
async def delete_data(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    found = await find_invitee(request, token, session, settings)
    if isinstance(found, Response):
        return found
    data = await form_data(request)
    language = await _language_for(request, found, session, settings, data)
    values = {"suppress": is_checked(data, "suppress"), "confirm": is_checked(data, "confirm")}
    if not values["confirm"]:
        errors = {"confirm": _("Please confirm that you want your data deleted.")}
        return await _privacy_page(
            request,
            token,
            found,
            session,
            language=language,
            values=values,
            errors=errors,
            status_code=422,
        )
    contact = await session.get(Contact, found.contact_id)
    assert contact is not None  # a foreign key of the guest-list row
    try:
        await erasure.erase_person(
            contact,
            actor=PrivacyActor.invitee,
            invitee=found,
            suppress=values["suppress"],
            session=session,
            settings=settings,
        )
    except NotFound:
        # Deleted by the same request sent twice at once (it waited for the first): done.
        await session.rollback()
    else:
        await session.commit()
    return redirect(request, f"{DELETED_PAGE}?{urlencode({'lang': language})}")


@router.get(DELETED_PAGE)
async def data_deleted(request: Request, settings: SettingsDep) -> Response:
    i18n.set_locale(page_language(request.query_params.get("lang"), None, settings))
    return personal_page(request, "privacy/deleted.html", {"title": _("Your data is deleted")})
