"""The invitee's own data, behind their personal link: `/i/{token}/privacy` explains what is held
and what deleting means, `.../export` downloads it all as JSON, `.../delete` deletes it.

The link is opened as on every page behind it (meetups.personal_link): wrong links get the same
friendly page and are counted per client, so guessing is throttled; every response carries
`Referrer-Policy: no-referrer`. The download is a POST (a button), not a link: link
scanners and prefetchers must not leave "downloaded" entries in the privacy log. After deleting,
the link is dead, so the goodbye page lives at an address without it.
"""

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups import i18n
from meetups.db import utcnow
from meetups.deps import SessionDep, SettingsDep
from meetups.errors import NotFound
from meetups.forms import form_data, is_checked
from meetups.htmx import redirect
from meetups.i18n import gettext as _
from meetups.personal_link import (
    PRIVATE_HEADERS,
    PersonalLink,
    open_personal_link,
    page_language,
    personal_page,
)
from meetups.privacy import erasure, export
from meetups.privacy.models import PrivacyActor

router = APIRouter()

DELETED_PAGE = "/privacy/deleted"


async def _privacy_page(
    request: Request,
    link: PersonalLink,
    session: SessionDep,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    error: str = "",
    status_code: int = 200,
) -> Response:
    context = {
        **link.page_context(_("Your data")),
        "preview": await erasure.preview_erasure(link.contact, session=session),
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
    link = await open_personal_link(request, token, session, settings)
    if isinstance(link, Response):
        return link
    return await _privacy_page(request, link, session)


@router.post("/i/{token}/privacy/export")
async def download_data(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    link = await open_personal_link(request, token, session, settings)
    if isinstance(link, Response):
        return link
    now = utcnow()
    exported = await export.export_for_invitee(
        link.invitee, session=session, settings=settings, now=now
    )
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
    link = await open_personal_link(request, token, session, settings)
    if isinstance(link, Response):
        return link
    data = await form_data(request)
    values = {"suppress": is_checked(data, "suppress"), "confirm": is_checked(data, "confirm")}
    if not values["confirm"]:
        errors = {"confirm": _("Please confirm that you want your data deleted.")}
        return await _privacy_page(
            request, link, session, values=values, errors=errors, status_code=422
        )
    try:
        await erasure.erase_person(
            link.contact,
            actor=PrivacyActor.invitee,
            invitee=link.invitee,
            suppress=values["suppress"],
            session=session,
            settings=settings,
        )
    except NotFound:
        # Deleted by the same request sent twice at once (it waited for the first): done.
        await session.rollback()
    else:
        await session.commit()
    return redirect(request, f"{DELETED_PAGE}?{urlencode({'lang': link.language})}")


@router.get(DELETED_PAGE)
async def data_deleted(request: Request, settings: SettingsDep) -> Response:
    i18n.set_locale(page_language(request.query_params.get("lang"), None, settings))
    return personal_page(request, "privacy/deleted.html", {"title": _("Your data is deleted")})
