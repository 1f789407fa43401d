"""Coverage behind the personal link: `/i/{token}/coverage`, where attendees add links to what
they published about the event, and remove their own. The link is handled as on the invitation
page (throttling of wrong links, the friendly page, `Referrer-Policy: no-referrer`)."""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups import i18n
from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.coverage import links
from meetups.deps import RowId, SessionDep, SettingsDep
from meetups.errors import DomainError, NotFound, ValidationFailed
from meetups.events.models import Event
from meetups.feedback.answers import is_attendee
from meetups.forms import form_data
from meetups.htmx import is_htmx, redirect
from meetups.i18n import gettext as _
from meetups.invitations.models import Invitee

# The invitation page's own handling of personal links, so that every page behind a link
# behaves alike.
from meetups.invitations.public_routes import find_invitee, page_language, personal_page

router = APIRouter()


def _url(token: str, language: str, anchor: str = "") -> str:
    return f"/i/{token}/coverage?{urlencode({'lang': language})}" + (f"#{anchor}" if anchor else "")


def _blank() -> dict[str, str]:
    return {
        "url": "",
        "title": "",
        "site": "",
        "kind": "blog_post",
        "published_on": "",
        "discloses_paid_travel": "",
    }


async def _coverage_page(
    request: Request,
    token: str,
    invitee: Invitee,
    session: SessionDep,
    *,
    language: str,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    error: str = "",
    notice: str = "",
    status_code: int = 200,
) -> Response:
    event = await session.get(Event, invitee.event_id)
    contact = await session.get(Contact, invitee.contact_id)
    assert event is not None
    context = {
        "title": _("Your posts about %(title)s", title=event.title),
        "event": event,
        "contact": contact,
        "token": token,
        "page_language": language,
        "entries": await links.coverage_of(event, session=session, invitee=invitee),
        "may_add": links.coverage_open(event)
        and await is_attendee(event, invitee, session=session),
        "kind_labels": links.kind_labels(),
        "disclosure_label": links.disclosure_label,
        "values": values or _blank(),
        "errors": errors or {},
        "error": error,
        "notice": notice,
    }
    return personal_page(
        request, "coverage/invitee.html", context, block="coverage", status_code=status_code
    )


async def _language_for(
    request: Request, invitee: Invitee, session: SessionDep, settings: Settings, choice: str | None
) -> str:
    contact = await session.get(Contact, invitee.contact_id)
    language = page_language(choice or request.query_params.get("lang"), contact, settings)
    i18n.set_locale(language)
    return language


@router.get("/i/{token}/coverage")
async def coverage_page(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    found = await find_invitee(request, token, session, settings)
    if isinstance(found, Response):
        return found
    language = await _language_for(request, found, session, settings, None)
    return await _coverage_page(request, token, found, session, language=language)


@router.post("/i/{token}/coverage")
async def add_coverage(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    found = await find_invitee(request, token, session, settings)
    if isinstance(found, Response):
        return found
    data = await form_data(request)
    language = await _language_for(request, found, session, settings, data.get("lang"))
    event = await session.get(Event, found.event_id)
    assert event is not None
    try:
        if not links.coverage_open(event) or not await is_attendee(event, found, session=session):
            raise DomainError(
                _("Links can be added by those who took part, once the event has begun.")
            )
        entry = links.parse_coverage(data, by_organizer=False)
        async with session.begin_nested():
            await links.add_link(event, entry, session=session, invitee=found)
    except ValidationFailed as failure:
        values = {**_blank(), **{k: v[:2000] for k, v in data.items()}}
        return await _coverage_page(
            request,
            token,
            found,
            session,
            language=language,
            values=values,
            errors=failure.errors,
            status_code=422,
        )
    except DomainError as failure:
        return await _coverage_page(
            request,
            token,
            found,
            session,
            language=language,
            error=failure.message,
            status_code=409,
        )
    await session.commit()
    return await _done(
        request, token, found, session, language, _("Thank you! Your link is on our list.")
    )


@router.post("/i/{token}/coverage/{link_id}/remove")
async def remove_coverage(
    request: Request, token: str, link_id: RowId, session: SessionDep, settings: SettingsDep
) -> Response:
    found = await find_invitee(request, token, session, settings)
    if isinstance(found, Response):
        return found
    data = await form_data(request)
    language = await _language_for(request, found, session, settings, data.get("lang"))
    event = await session.get(Event, found.event_id)
    assert event is not None
    try:
        async with session.begin_nested():
            await links.remove_link(event, link_id, session=session, invitee=found)
    except NotFound as failure:
        return await _coverage_page(
            request,
            token,
            found,
            session,
            language=language,
            error=failure.message,
            status_code=404,
        )
    await session.commit()
    return await _done(request, token, found, session, language, _("The link is removed."))


async def _done(
    request: Request,
    token: str,
    invitee: Invitee,
    session: SessionDep,
    language: str,
    notice: str,
) -> Response:
    """After a change: the list again (for htmx, its block: a redirect to this address plus
    "#coverage" would not load the page again)."""
    if is_htmx(request):
        return await _coverage_page(
            request, token, invitee, session, language=language, notice=notice
        )
    return redirect(request, _url(token, language, "coverage"), flash=notice)
