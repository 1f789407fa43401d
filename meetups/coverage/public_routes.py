"""Coverage behind the personal link: `/i/{token}/coverage`, where attendees add links to what
they published about the event, and remove their own. The link is opened as on every page behind
it (meetups.personal_link: throttling of wrong links, the friendly page,
`Referrer-Policy: no-referrer`)."""

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups.coverage import links
from meetups.deps import RowId, SessionDep, SettingsDep
from meetups.errors import DomainError, NotFound, ValidationFailed
from meetups.feedback.answers import is_attendee
from meetups.forms import form_data
from meetups.htmx import is_htmx, redirect
from meetups.i18n import gettext as _
from meetups.personal_link import PersonalLink, open_personal_link, personal_page

router = APIRouter()


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
    link: PersonalLink,
    session: SessionDep,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    error: str = "",
    notice: str = "",
    status_code: int = 200,
) -> Response:
    event = link.event
    context = {
        **link.page_context(_("Your posts about %(title)s", title=event.title)),
        "entries": await links.coverage_of(event, session=session, invitee=link.invitee),
        "may_add": links.coverage_open(event)
        and await is_attendee(event, link.invitee, session=session),
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


@router.get("/i/{token}/coverage")
async def coverage_page(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    link = await open_personal_link(request, token, session, settings)
    if isinstance(link, Response):
        return link
    return await _coverage_page(request, link, session)


@router.post("/i/{token}/coverage")
async def add_coverage(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    link = await open_personal_link(request, token, session, settings)
    if isinstance(link, Response):
        return link
    data = await form_data(request)
    event = link.event
    try:
        if not links.coverage_open(event) or not await is_attendee(
            event, link.invitee, session=session
        ):
            raise DomainError(
                _("Links can be added by those who took part, once the event has begun.")
            )
        entry = links.parse_coverage(data, by_organizer=False)
        async with session.begin_nested():
            await links.add_link(event, entry, session=session, invitee=link.invitee)
    except ValidationFailed as failure:
        values = {**_blank(), **{k: v[:2000] for k, v in data.items()}}
        return await _coverage_page(
            request, link, session, values=values, errors=failure.errors, status_code=422
        )
    except DomainError as failure:
        return await _coverage_page(request, link, session, error=failure.message, status_code=409)
    await session.commit()
    return await _done(request, link, session, _("Thank you! Your link is on our list."))


@router.post("/i/{token}/coverage/{link_id}/remove")
async def remove_coverage(
    request: Request, token: str, link_id: RowId, session: SessionDep, settings: SettingsDep
) -> Response:
    link = await open_personal_link(request, token, session, settings)
    if isinstance(link, Response):
        return link
    try:
        async with session.begin_nested():
            await links.remove_link(link.event, link_id, session=session, invitee=link.invitee)
    except NotFound as failure:
        return await _coverage_page(request, link, session, error=failure.message, status_code=404)
    await session.commit()
    return await _done(request, link, session, _("The link is removed."))


async def _done(request: Request, link: PersonalLink, session: SessionDep, notice: str) -> Response:
    """After a change: the list again (for htmx, its block: a redirect to this address plus
    "#coverage" would not load the page again)."""
    if is_htmx(request):
        return await _coverage_page(request, link, session, notice=notice)
    return redirect(request, link.url("/coverage", anchor="coverage"), flash=notice)
